/**
 * grant_type=refresh_token (SPEC §4, §5): tokens/refresh.ts rotates the chain, applies the
 * auth policy and rebuilds stale claims; this grant checks the scope and mints.
 */
import { PASSKEY_REQUIRED_MESSAGE } from "../../identity/auth-policy";
import { OAuthError } from "../../http/errors";
import { clientAllowsGrant, type Client } from "../../identity/clients";
import { refreshChain, type RefreshFailure } from "../../tokens/refresh";
import { userTokenResponse } from "../../tokens/response";
import type { OAuthContext } from "../context";
import { narrowTargets, requestedTargets, TARGET_WIDENED } from "../resources";
import { narrowScope, parseScope } from "../scopes";

const REFUSALS: Record<RefreshFailure, string> = {
  malformed: "The refresh token is malformed.",
  unknown: "The refresh token is not valid.",
  expired: "The refresh token expired.",
  revoked: "The refresh token was revoked.",
  reused: "The refresh token was already used; its chain is revoked.",
  client_mismatch: "The refresh token was issued to another client.",
  auth_policy: PASSKEY_REQUIRED_MESSAGE,
  user_inactive: "The user of this refresh token is no longer active.",
  invalid_scope: "A refresh cannot widen the granted scope.",
};

export async function refreshTokenGrant(c: OAuthContext, client: Client, form: URLSearchParams): Promise<Record<string, unknown>> {
  const { env } = c;
  const app = c.var.app;
  if (client.type === "m2m") throw new OAuthError("unauthorized_client", "Machine-to-machine clients have no refresh tokens.");
  if (!clientAllowsGrant(client, "refresh_token")) throw new OAuthError("unauthorized_client", "This client did not register the refresh_token grant.");
  const token = form.get("refresh_token");
  if (!token) throw new OAuthError("invalid_request", "refresh_token is required.");
  const targets = requestedTargets(form);
  if (!targets.ok) throw new OAuthError(targets.error, targets.description);
  const requested = parseScope(form.get("scope"));
  // The chain's object checks the scope before it rotates, so a refused widening leaves the token usable.
  const refreshed = await refreshChain(env, app, token, client.id, requested);
  if (!refreshed.ok) throw new OAuthError(refreshed.reason === "invalid_scope" ? "invalid_scope" : "invalid_grant", REFUSALS[refreshed.reason]);
  const scope = narrowScope(parseScope(refreshed.grant.scope), requested);
  if (!scope) throw new OAuthError("invalid_scope", REFUSALS.invalid_scope);
  // The chain keeps every resource of the sign-in; one refresh may ask for fewer (RFC 8707 §2.2).
  const audience = narrowTargets(refreshed.audience, targets.targets, client.id);
  if (!audience) throw new OAuthError("invalid_target", TARGET_WIDENED);
  return userTokenResponse(env, app, {
    issuer: c.var.issuer,
    userId: refreshed.userId,
    clientId: client.id,
    scope,
    audience,
    sessionId: refreshed.grant.sessionId,
    authTime: refreshed.grant.authTime,
    authMethod: refreshed.grant.authMethod,
    claims: refreshed.claims,
    nonce: null,
    refreshToken: refreshed.refreshToken,
  });
}
