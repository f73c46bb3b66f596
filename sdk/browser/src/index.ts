/**
 * @latch/browser: sign-in, lazy silent refresh and verified claims for web apps, in
 * Latch's cookie mode and exchange mode, picked from `/.well-known/kiavi-auth.json`.
 */
export { LatchClient, type AuthChangeEvent, type LatchClientOptions, type RedirectResult, type SignInOptions } from "./client.js";
export type { AuthPolicy, KiaviAuthConfig, Mode } from "./config.js";
export type { LatchUser } from "./claims.js";
export { LatchError, type LatchErrorCode } from "./errors.js";
