/**
 * One refresh of a chain, for every face that refreshes (`/oauth2/token` and exchange
 * mode's `/refresh`): the chain's object rotates the token (overlap and reuse detection
 * inside), the auth policy is applied, and the claims snapshot is rebuilt from D1 only
 * when the management API invalidated it (SPEC §5, §7). Minting is the caller's.
 */
import { endChain, rotateChain, updateChainClaims, type ChainGrant, type RotateResult } from "../chains/api";
import type { Env } from "../env";
import { methodSatisfies } from "../identity/auth-policy";
import { activeUserClaims, type UserClaims } from "../identity/claims";
import type { App } from "../tenancy/apps";
import { snapshotOf, splitSnapshot } from "./response";

export type RefreshFailure = Extract<RotateResult, { ok: false }>["reason"] | "auth_policy" | "user_inactive";

export type Refreshed =
  | { ok: true; userId: string; chainId: string; refreshToken: string; grant: ChainGrant; claims: UserClaims; audience: string[] }
  | { ok: false; reason: RefreshFailure };

/** `scope`: the scopes the request asks for (none: as granted); a widening is refused without using the token up. */
export async function refreshChain(env: Env, app: App, refreshToken: string, clientId: string, scope: string[] = []): Promise<Refreshed> {
  const rotated = await rotateChain(env, app, refreshToken, clientId, Date.now(), scope);
  if (!rotated.ok) return rotated;
  const { userId, chainId, grant } = rotated;
  if (!methodSatisfies(app.settings.auth_policy, grant.authMethod)) {
    // Begun by a password before the app required passkeys: it can never mint again.
    await endChain(env, app.id, userId, chainId, "auth_policy");
    return { ok: false, reason: "auth_policy" };
  }
  let { claims, audience } = splitSnapshot(grant.claims);
  if (rotated.claimsStale) {
    const fresh = await activeUserClaims(env, app, userId);
    if (!fresh) {
      await endChain(env, app.id, userId, chainId, "user_inactive");
      return { ok: false, reason: "user_inactive" };
    }
    claims = fresh;
    await updateChainClaims(env, app, userId, chainId, snapshotOf(claims, audience));
  }
  return { ok: true, userId, chainId, refreshToken: rotated.refreshToken, grant, claims, audience };
}
