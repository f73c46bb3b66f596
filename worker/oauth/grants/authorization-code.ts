/**
 * grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636, SPEC §4). The code is consumed
 * first, atomically; every later check failing leaves it consumed (a code gets one try).
 *
 * A replayed code ends the refresh chain its first exchange started (RFC 6749 §10.5, OAuth
 * 2.1 §4.1.3), but only when the replay itself would have passed: the code's own client
 * (authenticated before the grant runs) and, for a PKCE code, its code_verifier. A replay
 * that fails PKCE or comes from another client proves only that someone saw the code,
 * which PKCE and client authentication exist to make harmless: it answers `invalid_grant`
 * and ends nothing, so a stranger cannot kill a user's fresh sign-in with a code it read
 * in a log or a Referer.
 */
import { endChain, startChain } from "../../chains/api";
import { OAuthError } from "../../http/errors";
import { assembleClaims, claimsQueries } from "../../identity/claims";
import { clientAllowsGrant, type Client } from "../../identity/clients";
import { liveSessionWhereStatement } from "../../identity/sessions";
import { activeUserWhereStatement, type UserRow } from "../../identity/users";
import { methodSatisfies, PASSKEY_REQUIRED_MESSAGE } from "../../identity/auth-policy";
import { codeHashOf, consumedResult, consumeStatement, recordIssuedStatement, SESSION_OF_CODE, USER_OF_CODE } from "../codes";
import type { OAuthContext } from "../context";
import { verifierMatches } from "../pkce";
import { narrowTargets, requestedTargets, TARGET_WIDENED } from "../resources";
import { wantsOffline } from "../scopes";
import { snapshotOf, userTokenResponse } from "../../tokens/response";

export async function authorizationCodeGrant(c: OAuthContext, client: Client, form: URLSearchParams): Promise<Record<string, unknown>> {
  const { env } = c;
  const app = c.var.app;
  if (client.type === "m2m") throw new OAuthError("unauthorized_client", "Machine-to-machine clients cannot use authorization_code.");
  const code = form.get("code");
  const redirectUri = form.get("redirect_uri");
  const verifier = form.get("code_verifier");
  if (!code) throw new OAuthError("invalid_request", "code is required.");
  if (!redirectUri) throw new OAuthError("invalid_request", "redirect_uri is required.");
  const targets = requestedTargets(form);
  if (!targets.ok) throw new OAuthError(targets.error, targets.description);

  const now = Date.now();
  const codeHash = await codeHashOf(code);
  if (!codeHash) throw new OAuthError("invalid_grant", "The authorization code is not valid.");
  // One round trip: consume the code and read its user, session and claims with it. The
  // reads are discarded unless this request is the one that consumed the code.
  const [consumedRows, users, sessions, ...claimResults] = await env.DB.batch([
    consumeStatement(env, app.id, codeHash, now),
    activeUserWhereStatement(env, app.id, USER_OF_CODE, codeHash),
    liveSessionWhereStatement(env, app.id, SESSION_OF_CODE, codeHash, now),
    ...claimsQueries(env, app.id, codeHash, USER_OF_CODE),
  ]);
  const consumed = await consumedResult(env, app.id, codeHash, consumedRows);
  if (!consumed.ok) {
    if (consumed.reason === "replayed") {
      if (consumed.issued && (await replayProvesLeak(consumed, client, verifier))) {
        await endChain(env, app.id, consumed.userId, consumed.issued.chainId, "code_replay");
      }
      throw new OAuthError("invalid_grant", "The authorization code was already used.");
    }
    throw new OAuthError("invalid_grant", "The authorization code is not valid.");
  }
  const grant = consumed.grant;
  if (consumed.expiresAt <= now) throw new OAuthError("invalid_grant", "The authorization code expired.");
  if (grant.clientId !== client.id) throw new OAuthError("invalid_grant", "The authorization code was issued to another client.");
  if (grant.redirectUri !== redirectUri) throw new OAuthError("invalid_grant", "redirect_uri differs from the authorization request.");
  if (!methodSatisfies(app.settings.auth_policy, grant.authMethod)) throw new OAuthError("invalid_grant", PASSKEY_REQUIRED_MESSAGE);
  if (grant.codeChallenge) {
    if (!verifier) throw new OAuthError("invalid_grant", "code_verifier is required (PKCE).");
    if (!(await verifierMatches(verifier, grant.codeChallenge))) throw new OAuthError("invalid_grant", "code_verifier does not match the code_challenge.");
  } else if (verifier) {
    // A verifier for a code issued without a challenge is a downgrade attempt (RFC 9700 §4.8.2).
    throw new OAuthError("invalid_grant", "code_verifier given but the authorization request had no code_challenge.");
  }

  // RFC 8707 §2.2: the token may be for fewer of the code's resources, never for others.
  const audience = narrowTargets(grant.audience, targets.targets, client.id);
  if (!audience) throw new OAuthError("invalid_target", TARGET_WIDENED);

  const user = users?.results[0] as UserRow | undefined;
  if (!user) throw new OAuthError("invalid_grant", "The user of this code is no longer active.");
  if (!sessions?.results.length) throw new OAuthError("invalid_grant", "The sign-in session of this code has ended.");
  const claims = assembleClaims(user, claimResults);

  let refreshToken: string | null = null;
  let recorded: Promise<unknown> = Promise.resolve();
  if (wantsOffline(grant.scope) && clientAllowsGrant(client, "refresh_token")) {
    const started = await startChain(env, app, user.id, {
      clientId: client.id,
      sessionId: grant.sessionId,
      scope: grant.scope.join(" "),
      authTime: grant.authTime,
      authMethod: grant.authMethod,
      claims: snapshotOf(claims, grant.audience),
    });
    refreshToken = started.refreshToken;
    // Written while the tokens are signed; the response waits for both, so a replay that
    // arrives after it can always find the chain to end.
    recorded = recordIssuedStatement(env, consumed.codeHash, { chainId: started.chainId }).run();
  }
  const [body] = await Promise.all([
    userTokenResponse(env, app, {
      issuer: c.var.issuer,
      userId: user.id,
      clientId: client.id,
      scope: grant.scope,
      audience,
      sessionId: grant.sessionId,
      authTime: grant.authTime,
      authMethod: grant.authMethod,
      claims,
      nonce: grant.nonce,
      refreshToken,
    }),
    recorded,
  ]);
  return body;
}

/** A replay by the code's own client with its own verifier: the code and its secret leaked, or the client misbehaves. */
async function replayProvesLeak(code: { clientId: string; codeChallenge: string | null }, client: Client, verifier: string | null): Promise<boolean> {
  if (code.clientId !== client.id) return false;
  if (code.codeChallenge === null) return verifier === null;
  return verifier !== null && (await verifierMatches(verifier, code.codeChallenge));
}
