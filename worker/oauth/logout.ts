/**
 * GET /logout (SPEC §4): Kinde's `?redirect=` and OIDC RP-initiated logout
 * (`post_logout_redirect_uri`, `id_token_hint`, `client_id`, `state`). Ends the auth-host
 * browser session and every refresh chain begun under it, clears the cookie, then
 * redirects only to a URI registered as a post-logout URI (of the hinted client when
 * the request names one, else of any of the app's clients).
 */
import { compactVerify } from "jose";
import type { Env } from "../env";
import { clientById, clientsOfApp } from "../identity/clients";
import { keyByKid, verifierOf } from "../keys/store";
import type { App } from "../tenancy/apps";
import { htmlPage } from "../ui/layout";
import { SignedOutPage } from "../ui/message";
import { fromBase64url } from "../util/crypto";
import { redirectWith } from "./authorize-request";
import { currentSession, endBrowserSession } from "../sessions/browser";
import { clearSessionCookie } from "../sessions/cookies";
import { requestHost } from "../tenancy/host";
import type { OAuthContext } from "./context";

/** The client an ID token was issued to, if it is a valid (possibly expired) ID token of this app and issuer. */
async function hintedClient(env: Env, app: App, issuer: string, hint: string): Promise<string | null> {
  try {
    const header = JSON.parse(new TextDecoder().decode(fromBase64url(hint.split(".")[0] ?? ""))) as { kid?: unknown; alg?: unknown };
    if (typeof header.kid !== "string") return null;
    const key = await keyByKid(env, app.id, header.kid);
    if (!key || key.alg !== header.alg) return null;
    const { payload } = await compactVerify(hint, await verifierOf(key), { algorithms: [key.alg] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as { iss?: unknown; azp?: unknown; aud?: unknown };
    if (claims.iss !== issuer) return null;
    if (typeof claims.azp === "string") return claims.azp;
    return typeof claims.aud === "string" ? claims.aud : null;
  } catch {
    return null;
  }
}

export async function logoutGet(c: OAuthContext): Promise<Response> {
  const { app, issuer } = c.var;
  const { env } = c;
  const host = requestHost(c);
  const query = new URL(c.req.url).searchParams;
  const target = query.get("post_logout_redirect_uri") ?? query.get("redirect");
  const hint = query.get("id_token_hint");

  const current = await currentSession(c, app, host);
  if (current) await endBrowserSession(env, app.id, current, "logout", "hosted");
  const clear = clearSessionCookie({ app, host });

  let allowed = false;
  if (target) {
    const clientId = (hint ? await hintedClient(env, app, issuer, hint) : null) ?? query.get("client_id");
    const clients = clientId ? [await clientById(env, app.id, clientId)].filter((x) => x !== null) : await clientsOfApp(env, app.id);
    allowed = clients.some((client) => client.postLogoutRedirectUris.includes(target));
  }
  if (target && allowed) {
    const res = c.redirect(redirectWith(target, { state: query.get("state") }), 302);
    res.headers.append("Set-Cookie", clear);
    res.headers.set("Cache-Control", "no-store");
    return res;
  }
  const note = target ? "The application asked to return to an address that is not registered, so you stay here." : undefined;
  return htmlPage(SignedOutPage({ note }), target ? 400 : 200, { "Set-Cookie": clear });
}
