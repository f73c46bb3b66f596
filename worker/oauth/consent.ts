/**
 * Consent for third-party clients (every dynamically registered or metadata-document
 * client): before /oauth2/auth issues such a client a code, the signed-in user must have
 * allowed it the requested scopes and resources. `askConsent` is the hook authorize.ts
 * calls where codes are issued; `consentPost` is the screen's form (POST /oauth2/consent).
 *
 * Allow records (or widens) the consent and continues to /oauth2/auth, which then answers
 * from the session with a code; Deny sends `access_denied` to the redirect URI. Consents
 * are remembered per user and client and revoked through the management API.
 */
import { readForm } from "../http/body";
import { methodSatisfies } from "../identity/auth-policy";
import { isFirstParty } from "../identity/clients";
import { consentCovers, consentOf, grantConsentStatement } from "../identity/consents";
import { userById } from "../identity/users";
import { currentSession } from "../sessions/browser";
import { carried, continueHref } from "../sessions/continue";
import { csrfToken, csrfValid, preLoginValue } from "../sessions/csrf";
import { requestHost } from "../tenancy/host";
import { ConsentPage } from "../ui/consent";
import { htmlPage } from "../ui/layout";
import { ErrorPage } from "../ui/message";
import { checkAuthorizeRequest, redirectWith, type AuthorizeRequest } from "./authorize-request";
import { resolveClient } from "./client-lookup";
import type { OAuthContext } from "./context";

export const CONSENT_PATH = "/oauth2/consent";

/** Where the browser goes back to, as the screen shows it. */
export function redirectHost(uri: string): string {
  try {
    const url = new URL(uri);
    return url.host || `${url.protocol.replace(/:$/, "")} (an app on this device)`;
  } catch {
    return uri;
  }
}

/**
 * Null when the code may be issued now: a first-party client, or a consent that covers
 * the request. Otherwise the consent screen, or `consent_required` under prompt=none.
 */
export async function askConsent(
  c: OAuthContext,
  request: AuthorizeRequest,
  userId: string,
  fields: [string, string][],
  setCookie?: string,
): Promise<Response | null> {
  const { app, issuer } = c.var;
  const client = request.client;
  if (isFirstParty(client)) return null;
  if (consentCovers(await consentOf(c.env, app.id, userId, client.id), request.scope, request.audience)) return null;
  if (request.prompt === "none") {
    const target = redirectWith(request.redirectUri, { error: "consent_required", error_description: "The user has not allowed this application.", state: request.state, iss: issuer });
    return c.redirect(target, 302);
  }
  const host = requestHost(c);
  const pre = preLoginValue(c, host);
  // The session may be the one just started, whose cookie this request does not carry yet.
  const user = await userById(c.env, app.id, userId);
  const page = ConsentPage({
    appName: app.name,
    clientName: client.name,
    redirectHost: redirectHost(request.redirectUri),
    clientIdUrl: client.registration === "document" ? client.id : undefined,
    scopes: request.scope,
    resources: request.audience,
    action: CONSENT_PATH,
    hidden: fields.filter(([k]) => k !== "prompt"),
    csrf: await csrfToken(c.env, app.id, pre.value),
    username: user?.username ?? "",
  });
  const cookies = [setCookie, pre.setCookie].filter((v): v is string => Boolean(v));
  return htmlPage(page, 200, cookies.length ? { "Set-Cookie": cookies } : {});
}

/** POST /oauth2/consent: the screen's answer. */
export async function consentPost(c: OAuthContext): Promise<Response> {
  const { app, issuer } = c.var;
  const host = requestHost(c);
  const origin = c.req.header("origin");
  if (origin && origin !== "null" && origin !== issuer) {
    return htmlPage(ErrorPage({ error: "invalid_request", description: "This form was posted from another site." }), 403);
  }
  const form = await readForm(c);
  const fields = carried(form);
  const params = new URLSearchParams(fields);
  const clientId = params.get("client_id");
  const client = clientId ? await resolveClient(c.env, app, clientId) : null;
  const result = checkAuthorizeRequest(params, client, issuer, app.settings.resources);
  if (result.kind === "page") return htmlPage(ErrorPage({ error: result.error, description: result.description }), 400);
  if (result.kind === "redirect") {
    return c.redirect(redirectWith(result.redirectUri, { error: result.error, error_description: result.description, state: result.state, iss: issuer }), 303);
  }
  const request = result.request;
  if (!(await csrfValid(c, app.id, host, form.get("csrf")))) {
    return htmlPage(ErrorPage({ error: "invalid_request", description: "This consent form expired. Go back to the application and try again." }), 403);
  }
  const found = await currentSession(c, app, host);
  // No session (it ended, or passkeys became required): sign in again, then the screen again.
  if (!found || !methodSatisfies(app.settings.auth_policy, found.session.auth_method)) return c.redirect(continueHref(fields), 303);
  const decision = form.get("decision");
  if (decision === "deny") {
    const target = redirectWith(request.redirectUri, { error: "access_denied", error_description: "The user denied the request.", state: request.state, iss: issuer });
    return c.redirect(target, 303);
  }
  if (decision !== "allow") return htmlPage(ErrorPage({ error: "invalid_request", description: "Choose Allow or Deny." }), 400);
  await grantConsentStatement(c.env, app.id, found.user.id, request.clientId, request.scope, request.audience, Date.now()).run();
  return c.redirect(continueHref(fields), 303);
}
