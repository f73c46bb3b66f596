/**
 * `/logout`, OIDC RP-initiated logout and Kinde's `?redirect=` (SPEC §4): GET, or a form
 * POST of the same parameters (RP-Initiated Logout §2 allows both; it is sent on to the
 * GET), and the POST of the confirmation page. What happens is decided in logout-rules.ts: only a valid
 * `id_token_hint` for the signed-in user ends the session at once; otherwise a
 * confirmation page asks, and its form (CSRF token bound to the pre-login cookie, Origin
 * the issuer's) ends it. Ending it ends every refresh chain begun under the session and
 * clears the cookie; the redirect goes only to a URI registered as a post-logout URI (of
 * the client the request names or the hint was issued to, else of any of the app's clients).
 *
 * Cookie mode's `POST /logout` (fetch from the app, no form body) is the browser face's:
 * only form posts are handled here, and this face is mounted first (worker/app.ts).
 */
import type { MiddlewareHandler } from "hono";
import { readForm } from "../http/body";
import { clientById, clientsOfApp } from "../identity/clients";
import { currentSession, endBrowserSession } from "../sessions/browser";
import { clearSessionCookie } from "../sessions/cookies";
import { csrfToken, csrfValid, preLoginValue } from "../sessions/csrf";
import { requestHost } from "../tenancy/host";
import { verifyIdTokenHint } from "../tokens/verify";
import { htmlPage } from "../ui/layout";
import { LogoutConfirmPage } from "../ui/logout";
import { SignedOutPage } from "../ui/message";
import { redirectWith } from "./authorize-request";
import type { OAuthContext, OAuthEnv } from "./context";
import { decideLogout, logoutParams, type LogoutParams } from "./logout-rules";

export function logoutGet(c: OAuthContext): Promise<Response> {
  return requestLogout(c, logoutParams(new URL(c.req.url).searchParams));
}

/** POST /logout with a form body; other POSTs go on to the browser face. */
export const logoutFormPost: MiddlewareHandler<OAuthEnv> = async (c, next) => {
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (c.req.method !== "POST" || type !== "application/x-www-form-urlencoded") return next();
  const form = await readForm(c);
  // The confirmation page's own post carries its CSRF token; anything else is an RP's request,
  // sent on as the GET: a cross-site POST carries no SameSite=Lax session cookie, the GET does.
  if (form.has("csrf")) return confirmLogout(c, form);
  const query = new URLSearchParams([...form].filter(([name]) => LOGOUT_PARAMS.includes(name)));
  return c.redirect(`/logout?${query}`, 303);
};

const LOGOUT_PARAMS = ["post_logout_redirect_uri", "redirect", "id_token_hint", "client_id", "state"];

async function requestLogout(c: OAuthContext, params: LogoutParams): Promise<Response> {
  const { app, issuer } = c.var;
  const current = await currentSession(c, app, requestHost(c));
  const hint = params.hint === null ? "absent" : ((await verifyIdTokenHint(c.env, app, params.hint, issuer)) ?? "invalid");
  const decision = decideLogout({ hint, clientId: params.clientId, sessionUserId: current?.user.id ?? null });
  if (decision.kind === "now") return signOut(c, { ...params, clientId: decision.clientId }, 302);
  const carried: [string, string][] = [];
  if (decision.redirect) {
    if (params.target) carried.push(["post_logout_redirect_uri", params.target]);
    if (decision.clientId) carried.push(["client_id", decision.clientId]);
  }
  if (params.state) carried.push(["state", params.state]);
  return confirmationPage(c, carried, current !== null, 200);
}

async function confirmationPage(c: OAuthContext, hidden: [string, string][], signedIn: boolean, status: 200 | 403, error?: string): Promise<Response> {
  const pre = preLoginValue(c, requestHost(c));
  const csrf = await csrfToken(c.env, c.var.app.id, pre.value);
  return htmlPage(LogoutConfirmPage({ appName: c.var.app.name, csrf, hidden, signedIn, error }), status, pre.setCookie ? { "Set-Cookie": pre.setCookie } : {});
}

async function confirmLogout(c: OAuthContext, form: URLSearchParams): Promise<Response> {
  const { app, issuer } = c.var;
  const host = requestHost(c);
  const params = logoutParams(form);
  const origin = c.req.header("origin");
  const fromIssuer = !origin || origin === "null" || origin === issuer;
  if (!fromIssuer || !(await csrfValid(c, app.id, host, form.get("csrf")))) {
    const hidden = [...form].filter(([name]) => ["post_logout_redirect_uri", "client_id", "state"].includes(name)) as [string, string][];
    const current = await currentSession(c, app, host);
    return confirmationPage(c, hidden, current !== null, 403, "This sign-out form expired or came from another site. Sign out here if you meant to.");
  }
  return signOut(c, { ...params, hint: null }, 303);
}

/** Ends the session (if any) and its chains, clears the cookie, then redirects to a registered URI or says so. */
async function signOut(c: OAuthContext, params: LogoutParams, status: 302 | 303): Promise<Response> {
  const { app } = c.var;
  const host = requestHost(c);
  const current = await currentSession(c, app, host);
  if (current) await endBrowserSession(c.env, app.id, current, "logout", "hosted");
  const clear = clearSessionCookie({ app, host });
  const { target } = params;
  let allowed = false;
  if (target) {
    const clients = params.clientId ? [await clientById(c.env, app.id, params.clientId)].filter((x) => x !== null) : await clientsOfApp(c.env, app.id);
    allowed = clients.some((client) => client.postLogoutRedirectUris.includes(target));
  }
  if (target && allowed) {
    const res = c.redirect(redirectWith(target, { state: params.state }), status);
    res.headers.append("Set-Cookie", clear);
    res.headers.set("Cache-Control", "no-store");
    return res;
  }
  const note = target ? "The application asked to return to an address that is not registered, so you stay here." : undefined;
  return htmlPage(SignedOutPage({ note }), target ? 400 : 200, { "Set-Cookie": clear });
}
