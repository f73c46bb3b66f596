/**
 * TEMPORARY stand-ins for the chains and oauth branches' APIs (BRIEF contract), so this
 * branch compiles before they are merged. Replaced by direct imports at merge time.
 */
import type { Env } from "../env";
import type { App } from "../tenancy/apps";
import { ApiError } from "../http/errors";
export { endUserChains } from "../chains/revoke";

export interface ChainSummary { id: string; clientId: string; sessionId: string | null; createdAt: number; expiresAt: number }
export async function invalidateUserClaims(_env: Env, _appId: string, _userId: string): Promise<void> {}
export async function listUserChains(_env: Env, _appId: string, _userId: string): Promise<ChainSummary[]> {
  return [];
}
export async function endChain(_env: Env, _appId: string, _userId: string, _chainId: string, _reason: string): Promise<void> {}
export async function endSessionChains(_env: Env, _appId: string, _userId: string, _sessionId: string, _reason: string): Promise<void> {}
export async function signJwt(_env: Env, _app: App, _header: Record<string, unknown>, _payload: Record<string, unknown>): Promise<string> {
  throw new Error("signJwt: oauth branch not merged");
}
export async function verifyAccessToken(_env: Env, _app: App, _token: string): Promise<Record<string, unknown>> {
  throw new ApiError(401, "TOKEN_INVALID", "Access tokens are not supported yet.");
}
