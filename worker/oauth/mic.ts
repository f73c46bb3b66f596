/**
 * Kinvey Mobile Identity Connect on the app's auth host (issue 15), as kinvey-node-sdk
 * 3.12's `MobileIdentityConnect` calls it, with the app key as client id (identity/mic-client.ts):
 *
 *   GET  /v{n}/oauth/auth?client_id&redirect_uri&response_type=code&scope   the login-page grant
 *        → 302 to /oauth2/auth (plus `connection_id` when `client_id` is `{appKey}.{connection}`)
 *   POST /v{n}/oauth/auth  client_id, redirect_uri, response_type             the API grant, step 1
 *        → {temp_login_uri}: /oauth2/auth with a ticket in place of the hosted page's CSRF token;
 *          the SDK posts username and password there and reads the code from the redirect
 *   POST /oauth/token                                                        the code (and refresh) exchange
 *        → the token endpoint itself (oauth/token.ts)
 *
 * Codes are still issued by /oauth2/auth alone, under the same checks as any client.
 */
import type { Handler } from "hono";
import { readForm } from "../http/body";
import { OAuthError } from "../http/errors";
import { clientById } from "../identity/clients";
import { micClientParts } from "../identity/mic-client";
import { micTicket } from "../sessions/mic-ticket";
import { redirectUriAllowed } from "./authorize-request";
import type { OAuthEnv } from "./context";

/** The login-page grant: the hosted sign-in, through the connection the MIC id names. */
export const micAuthorizeGet: Handler<OAuthEnv> = async (c) => {
  const params = new URL(c.req.url).searchParams;
  const clientId = params.get("client_id");
  const parts = clientId ? micClientParts(c.var.app.id, clientId) : null;
  if (parts?.micId && !params.has("connection_id")) params.set("connection_id", parts.micId);
  return c.redirect(`/oauth2/auth?${params.toString()}`, 302);
};

/** The API grant's first step: where the SDK may post the user's credentials. */
export const micAuthorizePost: Handler<OAuthEnv> = async (c) => {
  const form = await readForm(c);
  const clientId = form.get("client_id");
  const redirectUri = form.get("redirect_uri");
  if (!clientId || !redirectUri) throw new OAuthError("invalid_request", "client_id and redirect_uri are required.");
  if (form.get("response_type") !== "code") throw new OAuthError("unsupported_response_type", "Only response_type=code is supported.");
  const client = micClientParts(c.var.app.id, clientId) ? await clientById(c.env, c.var.app.id, clientId) : null;
  if (!client) throw new OAuthError("invalid_client", "client_id is not this app's key, or Mobile Identity Connect is not set up (mic_redirect_uris).");
  if (!redirectUriAllowed(client, redirectUri)) throw new OAuthError("invalid_request", "The redirect_uri is not one of the app's mic_redirect_uris.");
  const ticket = await micTicket(c.env, c.var.app.id, clientId, redirectUri);
  return c.json({ temp_login_uri: `${c.var.issuer}/oauth2/auth?mic_ticket=${ticket}` }, 200, { "Cache-Control": "no-store" });
};
