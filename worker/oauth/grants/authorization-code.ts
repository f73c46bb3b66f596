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
import { ChainStartRefused, endChain, newUserChainId, startChain } from "../../chains/api";
import { OAuthError } from "../../http/errors";
import { claimsOfRow, userClaimsStatement } from "../../identity/claims";
import { clientAllowsGrant, type Client } from "../../identity/clients";
import { liveSessionSql } from "../../identity/sessions";
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
  // One round trip of two statements: consume the code, and read its user, the user's whole
  // claims snapshot and whether its session is live as one row. The read is discarded unless
  // this request is the one that consumed the code.
  const [consumedRows, read] = await env.DB.batch([
    consumeStatement(env, app.id, codeHash, now),
    userClaimsStatement(env, app.id, codeHash, { idSql: USER_OF_CODE, activeOnly: true, extraColumns: `${liveSessionSql(SESSION_OF_CODE)} AS x_session_live`, extraParams: [now] }),
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

  const found = claimsOfRow(read?.results[0]);
  if (!found) throw new OAuthError("invalid_grant", "The user of this code is no longer active.");
  if (!found.extra.session_live) throw new OAuthError("invalid_grant", "The sign-in session of this code has ended.");
  const { user, claims } = found;

  let refreshToken: string | null = null;
  if (wantsOffline(grant.scope) && clientAllowsGrant(client, "refresh_token")) {
    // The chain id is recorded on the code in the same batch as the chain's index row, before
    // the chain starts: a replay from then on ends it, and if the replay gets there first the
    // object keeps the id as ended and refuses this start (the code then fails both times).
    const chainId = newUserChainId(env, app.id, user.id);
    try {
      const started = await startChain(
        env,
        app,
        user.id,
        {
          clientId: client.id,
          sessionId: grant.sessionId,
          scope: grant.scope.join(" "),
          authTime: grant.authTime,
          authMethod: grant.authMethod,
          claims: snapshotOf(claims, grant.audience),
        },
        Date.now(),
        { chainId, alongside: [recordIssuedStatement(env, consumed.codeHash, { chainId })] },
      );
      refreshToken = started.refreshToken;
    } catch (err) {
      if (err instanceof ChainStartRefused) throw new OAuthError("invalid_grant", "The authorization code was already used.");
      throw err;
    }
  }
  return userTokenResponse(env, app, {
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
  });
}

/** A replay by the code's own client with its own verifier: the code and its secret leaked, or the client misbehaves. */
async function replayProvesLeak(code: { clientId: string; codeChallenge: string | null }, client: Client, verifier: string | null): Promise<boolean> {
  if (code.clientId !== client.id) return false;
  if (code.codeChallenge === null) return verifier === null;
  return verifier !== null && (await verifierMatches(verifier, code.codeChallenge));
}
