/**
 * Access tokens for the browser endpoints, minted by the same signer as the OAuth face so that a
 * token from `/session/token` or `/refresh` is the same JWT as one from `/oauth2/token`
 * (SPEC §4): same keys, same claims, verifiable against the same JWKS.
 */
import type { Env } from "../env";
import { buildClaims } from "../identity/claims";
import type { UserRow } from "../identity/users";
import type { App } from "../tenancy/apps";
import { mintUserAccessToken } from "./mint";
import type { Refreshed } from "./refresh";

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

/** Exchange mode: a token from a refreshed chain (tokens/refresh.ts). */
export async function mintChainToken(env: Env, app: App, issuer: string, refreshed: Extract<Refreshed, { ok: true }>): Promise<Minted> {
  const { grant } = refreshed;
  const minted = await mintUserAccessToken(env, app, {
    issuer,
    userId: refreshed.userId,
    clientId: grant.clientId,
    scope: grant.scope.split(" ").filter(Boolean),
    audience: refreshed.audience,
    sessionId: grant.sessionId,
    authTime: grant.authTime,
    authMethod: grant.authMethod,
    claims: refreshed.claims,
  });
  return { accessToken: minted.token, expiresIn: minted.expiresIn };
}
