/**
 * Kinvey's social login with a Mobile Identity Connect token (issue 15): after
 * `loginWithMIC` the SDK posts `POST /user/{appKey}/login` (or, when that answers 404, the
 * signup) with `{_socialIdentity: {kinveyAuth: {access_token, …}}}`. The access token is
 * one Latch issued to the app's MIC client (identity/mic-client.ts) at its token endpoint;
 * its user gets a Kinvey session, answered as the user with `_kmd.authtoken`, as a password
 * login would be. The auth policy was applied when the hosted sign-in made the token, and
 * is checked again on the method the token records.
 */
import { eventStatement } from "../events/log";
import { isPlainObject } from "../http/body";
import { KinveyError, LatchError } from "../http/errors";
import { methodSatisfies, PASSKEY_REQUIRED_MESSAGE } from "../identity/auth-policy";
import { json, type KinveyContext } from "../identity/kinvey-context";
import { micClientParts } from "../identity/mic-client";
import { prepareSession } from "../identity/sessions";
import { kinveyUserDoc, recordSignInStatement, userById } from "../identity/users";
import { verifyAccessToken } from "../tokens/verify";

/** Whether a Kinvey login or signup body is a social one (it then never falls back to a password). */
export function isSocialLogin(body: Record<string, unknown>): boolean {
  return body._socialIdentity !== undefined;
}

export async function socialLogin(c: KinveyContext, body: Record<string, unknown>, status: 200 | 201): Promise<Response> {
  const social = body._socialIdentity;
  if (!isPlainObject(social)) throw new KinveyError("BadRequest", "", "_socialIdentity must be an object.");
  const mic = social.kinveyAuth;
  if (!isPlainObject(mic)) throw new KinveyError("FeatureUnavailable", "", "Only Mobile Identity Connect identities (kinveyAuth) are supported.");
  const token = mic.access_token;
  if (typeof token !== "string" || !token) throw new KinveyError("IncompleteRequestBody", "", "_socialIdentity.kinveyAuth.access_token is required.");
  const app = c.var.app;
  let payload: Awaited<ReturnType<typeof verifyAccessToken>>;
  try {
    // Signed by this app's own keys for this app (app_id); the issuer is whichever auth host
    // the SDK's micHostname named, so the client decides instead: it must be the app's MIC client.
    payload = await verifyAccessToken(c.env, app, token);
  } catch (err) {
    if (err instanceof LatchError) throw new KinveyError("InvalidCredentials", err.message);
    throw err;
  }
  if (!micClientParts(app.id, payload.client_id)) throw new KinveyError("InvalidCredentials", "The access token was not issued to this app's Mobile Identity Connect client.");
  const method = typeof payload.auth_method === "string" ? payload.auth_method : "password";
  if (!methodSatisfies(app.settings.auth_policy, method)) throw new KinveyError("InsufficientCredentials", "auth_policy=passkey_required", PASSKEY_REQUIRED_MESSAGE);
  const user = await userById(c.env, app.id, payload.sub);
  if (!user || user.status !== "active") throw new KinveyError("InvalidCredentials", "The access token's user is not active.");
  const now = Date.now();
  const session = await prepareSession(c.env, app.id, user.id, "kinvey", { now, authMethod: method });
  await c.env.DB.batch([
    session.statement,
    recordSignInStatement(c.env, app.id, user.id, now),
    eventStatement(c.env, app.id, "user.authenticated", user.id, { method, via: "kinvey_mic" }, now),
  ]);
  return json(c, { ...kinveyUserDoc(user, session.token), _socialIdentity: { kinveyAuth: { id: user.id, client_id: payload.client_id } } }, status);
}
