/**
 * grant_type=refresh_token (SPEC §4, §5): the chain's object rotates the token (overlap
 * and reuse detection inside); claims come from the chain's snapshot, rebuilt from D1
 * only when the management API invalidated them.
 */
import { endChain, rotateChain, updateChainClaims, type RotateResult } from "../../chains/api";
import { OAuthError } from "../../http/errors";
import { activeUserClaims } from "../../identity/claims";
import type { Client } from "../../identity/clients";
import { methodSatisfies, PASSKEY_REQUIRED_MESSAGE } from "../../passkeys/policy";
import type { OAuthContext } from "../context";
import { narrowScope, parseScope } from "../scopes";
import { snapshotOf, splitSnapshot, userTokenResponse } from "./user-tokens";

const REFUSALS: Record<Extract<RotateResult, { ok: false }>["reason"], string> = {
  malformed: "The refresh token is malformed.",
  unknown: "The refresh token is not valid.",
  expired: "The refresh token expired.",
  revoked: "The refresh token was revoked.",
  reused: "The refresh token was already used; its chain is revoked.",
  client_mismatch: "The refresh token was issued to another client.",
};

export async function refreshTokenGrant(c: OAuthContext, client: Client, form: URLSearchParams): Promise<Record<string, unknown>> {
  const { env } = c;
  const app = c.var.app;
  if (client.type === "m2m") throw new OAuthError("unauthorized_client", "Machine-to-machine clients have no refresh tokens.");
  const token = form.get("refresh_token");
  if (!token) throw new OAuthError("invalid_request", "refresh_token is required.");
  const rotated = await rotateChain(env, app, token, client.id);
  if (!rotated.ok) throw new OAuthError("invalid_grant", REFUSALS[rotated.reason]);
  if (!methodSatisfies(app.settings.auth_policy, rotated.grant.authMethod)) {
    // Begun by a password before the app required passkeys: it can never mint again.
    await endChain(env, app.id, rotated.userId, rotated.chainId, "auth_policy");
    throw new OAuthError("invalid_grant", PASSKEY_REQUIRED_MESSAGE);
  }

  const granted = parseScope(rotated.grant.scope);
  const scope = narrowScope(granted, parseScope(form.get("scope")));
  if (!scope) throw new OAuthError("invalid_scope", "A refresh cannot widen the granted scope.");

  let { claims, audience } = splitSnapshot(rotated.grant.claims);
  if (rotated.claimsStale) {
    const fresh = await activeUserClaims(env, app, rotated.userId);
    if (!fresh) {
      await endChain(env, app.id, rotated.userId, rotated.chainId, "user_inactive");
      throw new OAuthError("invalid_grant", "The user of this refresh token is no longer active.");
    }
    claims = fresh;
    await updateChainClaims(env, app, rotated.userId, rotated.chainId, snapshotOf(claims, audience));
  }

  return userTokenResponse(env, app, {
    issuer: c.var.issuer,
    userId: rotated.userId,
    clientId: client.id,
    scope,
    audience,
    sessionId: rotated.grant.sessionId,
    authTime: rotated.grant.authTime,
    authMethod: rotated.grant.authMethod,
    claims,
    nonce: null,
    refreshToken: rotated.refreshToken,
  });
}
