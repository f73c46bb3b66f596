/** Driving the hosted passkey pages inside workerd: flows built on the OAuth test helpers. */
import { SELF } from "cloudflare:test";
import { ADMIN } from "../helpers";
import { authorizePath, Browser, hiddenFields, pkce, tokenRequest, type OAuthTestApp, type TestClient, type TokenBody } from "../oauth/helpers";
import type { SoftAuthenticator } from "./authenticator";

export async function setPolicy(app: OAuthTestApp, policy: "none" | "passkey_preferred" | "passkey_required"): Promise<void> {
  const res = await SELF.fetch(`http://127.0.0.1:8787/admin/apps/${app.id}`, {
    method: "PATCH",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ settings: { auth_policy: policy } }),
  });
  if (res.status !== 200) throw new Error(`setPolicy: ${res.status} ${await res.text()}`);
}

export function ceremony(browser: Browser, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return browser.fetch(path, {
    method: "POST",
    headers: { Origin: browser.app.origin, "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&quot;": '"', "&lt;": "<", "&gt;": ">", "&#39;": "'", "&#x27;": "'" };
export const unescapeHtml = (s: string) => s.replace(/&(amp|quot|lt|gt|#39|#x27);/g, (m) => ENTITIES[m] ?? m);

export function dataAttr(html: string, name: string): string | undefined {
  const m = html.match(new RegExp(`${name}="([^"]*)"`));
  return m ? unescapeHtml(m[1]!) : undefined;
}

export interface Started {
  browser: Browser;
  verifier: string;
  page: string;
  form: URLSearchParams;
}

/** GET /oauth2/auth (PKCE) and read the hosted login page. */
export async function openLogin(app: OAuthTestApp, client: TestClient, browser = new Browser(app), params: Record<string, string> = {}): Promise<Started> {
  const { verifier, challenge } = await pkce();
  const res = await browser.fetch(
    authorizePath({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: client.redirect_uris[0]!,
      scope: "openid profile email offline",
      state: "st",
      code_challenge: challenge,
      code_challenge_method: "S256",
      ...params,
    }),
  );
  if (res.status !== 200) throw new Error(`openLogin: ${res.status}`);
  const page = await res.text();
  return { browser, verifier, page, form: hiddenFields(page) };
}

/** Posts username and password on the hosted login page. */
export function postPassword(started: Started, user: { username: string; password: string }): Promise<Response> {
  const form = new URLSearchParams(started.form);
  form.set("username", user.username);
  form.set("password", user.password);
  return started.browser.post("/oauth2/auth", form, { Origin: started.browser.app.origin });
}

/** The passkey sign-in: options, assertion, verify. Returns the verify response. */
export async function passkeySignIn(browser: Browser, auth: SoftAuthenticator, continueHref: string, bend: Parameters<SoftAuthenticator["assert"]>[2] = {}): Promise<Response> {
  const opts = await ceremony(browser, "/passkeys/authenticate/options", {});
  if (opts.status !== 200) throw new Error(`authenticate/options: ${opts.status} ${await opts.text()}`);
  const { challenge_id, options } = await opts.json<{ challenge_id: string; options: { challenge: string; rpId: string } }>();
  const response = await auth.assert(options, browser.app.origin, bend);
  return ceremony(browser, "/passkeys/authenticate/verify", { challenge_id, response, continue: continueHref });
}

/** Enrols for the signed-in user of `browser`. Returns the verify response. */
export async function enrolSignedIn(browser: Browser, auth: SoftAuthenticator, bend: Parameters<SoftAuthenticator["register"]>[2] = {}): Promise<Response> {
  const opts = await ceremony(browser, "/passkeys/register/options", {});
  if (opts.status !== 200) throw new Error(`register/options: ${opts.status} ${await opts.text()}`);
  const { challenge_id, options } = await opts.json<{ challenge_id: string; options: { challenge: string; rp: { id: string }; user: { id: string } } }>();
  const response = await auth.register(options, browser.app.origin, bend);
  return ceremony(browser, "/passkeys/register/verify", { challenge_id, response });
}

/** Follows a continuation to the code redirect and exchanges the code. */
export async function codeAndTokens(started: Started, client: TestClient, continueHref: string): Promise<TokenBody> {
  const res = await started.browser.fetch(continueHref);
  if (res.status !== 302) throw new Error(`continue: ${res.status} ${await res.text()}`);
  const code = new URL(res.headers.get("location")!).searchParams.get("code");
  if (!code) throw new Error(`no code in ${res.headers.get("location")}`);
  return exchange(started.browser.app, client, code, started.verifier);
}

export async function exchange(app: OAuthTestApp, client: TestClient, code: string, verifier: string): Promise<TokenBody> {
  const res = await tokenRequest(app, { grant_type: "authorization_code", code, redirect_uri: client.redirect_uris[0]!, code_verifier: verifier, client_id: client.client_id });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return res.json<TokenBody>();
}

/** Password sign-in (policy none or preferred) leaving a session in the browser. */
export async function passwordSession(app: OAuthTestApp, client: TestClient, user: { username: string; password: string }): Promise<Started> {
  const started = await openLogin(app, client);
  const res = await postPassword(started, user);
  if (res.status !== 303 && res.status !== 200) throw new Error(`password: ${res.status} ${await res.text()}`);
  return started;
}
