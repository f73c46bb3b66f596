/** The token response of the user grants (authorization_code, refresh_token). */
import type { Env } from "../env";
import type { UserClaims } from "../identity/claims";
import type { App } from "../tenancy/apps";
import { mintIdToken, mintUserAccessToken, type UserTokenInput } from "./mint";

/**
 * What a chain stores as its "claims": the user's snapshot plus the audience the login
 * asked for (kept under `_aud` so a claims rebuild can carry it over).
 */
export type ChainSnapshot = UserClaims & { _aud?: string[] };

export function snapshotOf(claims: UserClaims, audience: string[]): ChainSnapshot {
  return audience.length ? { ...claims, _aud: audience } : { ...claims };
}

export function splitSnapshot(snapshot: Record<string, unknown>): { claims: UserClaims; audience: string[] } {
  const { _aud, ...claims } = snapshot as ChainSnapshot;
  return { claims: claims as UserClaims, audience: Array.isArray(_aud) ? _aud : [] };
}

export async function userTokenResponse(
  env: Env,
  app: App,
  input: UserTokenInput & { nonce: string | null; refreshToken: string | null },
): Promise<Record<string, unknown>> {
  const access = await mintUserAccessToken(env, app, input);
  const body: Record<string, unknown> = {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    scope: input.scope.join(" "),
  };
  if (input.scope.includes("openid")) body.id_token = await mintIdToken(env, app, { ...input, accessToken: access.token });
  if (input.refreshToken) body.refresh_token = input.refreshToken;
  return body;
}
