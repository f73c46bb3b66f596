/**
 * Access tokens for the browser endpoints, minted by the OAuth face's signer so that a
 * token from `/session/token` or `/refresh` is the same JWT as one from `/oauth2/token`
 * (SPEC §4): same keys, same claims, verifiable against the same JWKS.
 */
import { endChain } from "../chains/api";
import type { Env } from "../env";
import { activeUserClaims, buildClaims } from "../identity/claims";
import type { UserRow } from "../identity/users";
import { snapshotOf, splitSnapshot } from "../oauth/grants/user-tokens";
import { mintUserAccessToken } from "../oauth/tokens";
import type { App } from "../tenancy/apps";

export interface Minted {
  accessToken: string;
  expiresIn: number;
}

/** Cookie mode: a token for the session's user, claims read now (the session has no snapshot). */
export async function mintSessionToken(
  env: Env,
  app: App,
  issuer: string,
  input: { user: UserRow; clientId: string; sessionId: string; authMethod: string; authTime: number },
): Promise<Minted> {
  const claims = await buildClaims(env, app, input.user);
  const minted = await mintUserAccessToken(env, app, {
    issuer,
    userId: input.user.id,
    clientId: input.clientId,
    scope: ["openid", "profile", "email"],
    audience: [],
    sessionId: input.sessionId,
    authTime: input.authTime,
    authMethod: input.authMethod,
    claims,
  });
  return { accessToken: minted.token, expiresIn: minted.expiresIn };
}

/** Exchange mode: a token from a rotated chain's grant and claims snapshot. */
export async function mintChainToken(
  env: Env,
  app: App,
  issuer: string,
  input: { userId: string; clientId: string; scope: string; sessionId: string | null; authMethod: string; authTime: number; snapshot: Record<string, unknown> },
): Promise<Minted> {
  const { claims, audience } = splitSnapshot(input.snapshot);
  const minted = await mintUserAccessToken(env, app, {
    issuer,
    userId: input.userId,
    clientId: input.clientId,
    scope: input.scope.split(" ").filter(Boolean),
    audience,
    sessionId: input.sessionId,
    authTime: input.authTime,
    authMethod: input.authMethod,
    claims,
  });
  return { accessToken: minted.token, expiresIn: minted.expiresIn };
}

/**
 * The rebuilt snapshot for a chain whose claims went stale (management API change); null
 * (and the chain ended) when the user is gone or no longer active.
 */
export async function freshSnapshot(env: Env, app: App, userId: string, chainId: string, stale: Record<string, unknown>): Promise<Record<string, unknown> | null> {
  const claims = await activeUserClaims(env, app, userId);
  if (!claims) {
    await endChain(env, app.id, userId, chainId, "user_inactive");
    return null;
  }
  return snapshotOf(claims, splitSnapshot(stale).audience);
}
