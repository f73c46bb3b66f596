/**
 * @latch/server: verify Latch access tokens on your backend (any runtime with fetch and
 * WebCrypto: Node 20+, Workers, Deno, Bun), check what they grant, serve RFC 9728 metadata,
 * and call the management API. The Hono middleware is in `@latch/server/hono`.
 */
export { verifyToken, remoteJwks, LatchAuthError, ALGORITHMS, type VerifyOptions, type RemoteJwksOptions, type JwksSource, type AuthFailure } from "./verify.js";
export { hasPermission, hasRole, getFlag, scopesOf, type LatchClaims } from "./claims.js";
export { authenticate, bearerToken, bearerChallenge, type AuthResult, type ChallengeParams } from "./bearer.js";
export {
  createProtectedResource,
  protectedResourceMetadataUrl,
  WELL_KNOWN_PATH,
  type ProtectedResource,
  type ProtectedResourceOptions,
  type ProtectedResourceMetadata,
  type McpAuthInfo,
} from "./resource.js";
export {
  createManagementClient,
  ManagementApiError,
  type ManagementClient,
  type ManagementClientOptions,
  type ManagedUser,
  type NewUser,
  type UserChange,
  type Role,
  type Page,
  type PageQuery,
} from "./management.js";
