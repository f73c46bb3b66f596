/** What every OAuth route shares: the app chosen by Host (tenancy/host.ts), its issuer, no-store responses. */
import type { Context } from "hono";
import type { Env } from "../env";
import type { HostVars } from "../tenancy/host";

export type OAuthEnv = { Bindings: Env; Variables: HostVars };
export type OAuthContext = Context<OAuthEnv>;

export const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

/** A token-endpoint style JSON response: never cached (RFC 6749 §5.1). */
export function tokenJson(c: OAuthContext, body: Record<string, unknown>, status: 200 = 200): Response {
  return c.json(body, status, NO_STORE);
}
