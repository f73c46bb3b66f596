/**
 * The protocol gaps real clients hit (issue 11): refresh-token introspection (RFC 7662),
 * the authorization request by POST (OIDC Core §3.1.2.1), a code replay that fails PKCE
 * or client authentication (RFC 6749 §10.5, OAuth 2.1 §4.1.3), and a refused scope
 * widening on refresh that must leave the token usable.
 */
import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers";
import {
  addClient,
  authorizePath,
  basicAuth,
  Browser,
  login,
  newUser,
  oauthApp,
  pkce,
  tokenRequest,
  tokensFor,
  type OAuthTestApp,
  type TestClient,
  type TokenBody,
} from "./helpers";
import { SELF } from "cloudflare:test";

function introspect(app: OAuthTestApp, client: TestClient, token: string): Promise<Record<string, unknown>> {
  return SELF.fetch(`${app.origin}/oauth2/introspect`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: basicAuth(client.client_id, client.client_secret!) },
    body: new URLSearchParams({ token }),
  }).then((r) => r.json());
}

function refresh(app: OAuthTestApp, client: TestClient, token: string, extra: Record<string, string> = {}): Promise<Response> {
  const auth: Record<string, string> = client.client_secret ? { Authorization: basicAuth(client.client_id, client.client_secret) } : {};
  return tokenRequest(app, { grant_type: "refresh_token", refresh_token: token, ...(client.client_secret ? {} : { client_id: client.client_id }), ...extra }, auth);
}

async function expectError(res: Response, status: number, error: string): Promise<string> {
  const e = await errorOf(res);
  expect({ status: e.status, error: e.error }).toEqual({ status, error });
  return String(e.body.error_description);
}

describe("RFC 7662 introspection of refresh tokens", () => {
  it("a live refresh token is active with exp, client_id, sub and scope, and introspecting it does not rotate it", async () => {
    const app = await oauthApp({ settings: { refresh_overlap: 0, refresh_token_ttl: 3600 } });
    const web = await addClient(app, { type: "confidential" });
    const user = await newUser(app);
    const t = await tokensFor(app, web, user);
    const before = Math.floor(Date.now() / 1000);
    const info = await introspect(app, web, t.refresh_token!);
    expect(info).toMatchObject({ active: true, client_id: web.client_id, sub: user._id, scope: "openid profile email offline", iss: app.origin });
    expect(info.token_type).toBeUndefined();
    expect(info.exp).toBeGreaterThanOrEqual(before + 3600 - 5);
    expect(info.exp).toBeLessThanOrEqual(before + 3600 + 5);
    // Twice, then a refresh: the token was never rotated (with overlap 0 a rotation would make this reuse).
    expect((await introspect(app, web, t.refresh_token!)).active).toBe(true);
    const next = await refresh(app, web, t.refresh_token!);
    expect(next.status).toBe(200);
    const { refresh_token: successor } = await next.json<TokenBody>();

    // The used token is inactive now, and asking about it is not reuse: the chain lives on.
    expect(await introspect(app, web, t.refresh_token!)).toEqual({ active: false });
    expect((await refresh(app, web, successor!)).status).toBe(200);
  });

  it("is inactive for another client, a revoked chain and a forged token; access tokens are Bearer", async () => {
    const app = await oauthApp();
    const web = await addClient(app, { type: "confidential" });
    const other = await addClient(app, { type: "confidential" });
    const user = await newUser(app);
    const t = await tokensFor(app, web, user);
    expect(await introspect(app, other, t.refresh_token!)).toEqual({ active: false });
    const [a, u, chain, secret] = t.refresh_token!.split(".");
    expect(await introspect(app, web, `${a}.${u}.${chain}.${secret!.slice(0, -2)}AA`)).toEqual({ active: false });
    expect(await introspect(app, web, `${a}.${u}.${"0".repeat(24)}.${secret}`)).toEqual({ active: false });
    expect(await introspect(app, web, t.access_token)).toMatchObject({ active: true, token_type: "Bearer", client_id: web.client_id, sub: user._id });

    const revoked = await SELF.fetch(`${app.origin}/oauth2/revoke`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: basicAuth(web.client_id, web.client_secret!) },
      body: new URLSearchParams({ token: t.refresh_token! }),
    });
    expect(revoked.status).toBe(200);
    expect(await introspect(app, web, t.refresh_token!)).toEqual({ active: false });
  });

  it("the previous token is active inside the overlap window, until the window's end", async () => {
    const app = await oauthApp({ settings: { refresh_overlap: 60 } });
    const web = await addClient(app, { type: "confidential" });
    const t = await tokensFor(app, web, await newUser(app));
    const rotatedAt = Math.floor(Date.now() / 1000);
    expect((await refresh(app, web, t.refresh_token!)).status).toBe(200);
    const info = await introspect(app, web, t.refresh_token!);
    expect(info.active).toBe(true);
    expect(info.exp).toBeGreaterThanOrEqual(rotatedAt + 60 - 2);
    expect(info.exp).toBeLessThanOrEqual(rotatedAt + 60 + 2);
  });
});

describe("a refused scope widening on refresh", () => {
  it("answers invalid_scope and consumes nothing: with overlap 0 the same token then refreshes", async () => {
    const app = await oauthApp({ settings: { refresh_overlap: 0 } });
    const client = await addClient(app);
    const t = await tokensFor(app, client, await newUser(app));
    const description = await expectError(await refresh(app, client, t.refresh_token!, { scope: "openid admin" }), 400, "invalid_scope");
    expect(description).toBe("A refresh cannot widen the granted scope.");
    await expectError(await refresh(app, client, t.refresh_token!, { scope: "openid offline profile email phone" }), 400, "invalid_scope");
    const retry = await refresh(app, client, t.refresh_token!);
    expect(retry.status).toBe(200);
    const narrowed = await refresh(app, client, (await retry.json<TokenBody>()).refresh_token!, { scope: "openid offline" });
    expect(narrowed.status).toBe(200);
    expect((await narrowed.json<TokenBody>()).scope).toBe("openid offline");
  });
});

describe("a replayed code", () => {
  it("with a wrong code_verifier or from another client is invalid_grant and revokes nothing", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const other = await addClient(app);
    const user = await newUser(app);
    const l = await login(app, client, user);
    const form = { grant_type: "authorization_code", code: l.code, redirect_uri: client.redirect_uris[0]! };
    const first = await tokenRequest(app, { ...form, code_verifier: l.verifier, client_id: client.client_id });
    expect(first.status).toBe(200);
    const { refresh_token } = await first.json<TokenBody>();

    const wrong = (await pkce()).verifier;
    expect(await expectError(await tokenRequest(app, { ...form, code_verifier: wrong, client_id: client.client_id }), 400, "invalid_grant")).toBe(
      "The authorization code was already used.",
    );
    await expectError(await tokenRequest(app, { ...form, client_id: client.client_id }), 400, "invalid_grant");
    await expectError(await tokenRequest(app, { ...form, code_verifier: l.verifier, client_id: other.client_id }), 400, "invalid_grant");
    // Client authentication fails before the grant is looked at.
    await expectError(await tokenRequest(app, { ...form, code_verifier: l.verifier, client_id: "unknown-client" }), 401, "invalid_client");
    const still = await refresh(app, client, refresh_token!);
    expect(still.status).toBe(200);

    // The replay that would have passed (the code's client, its verifier) is proof: the chain ends.
    await expectError(await tokenRequest(app, { ...form, code_verifier: l.verifier, client_id: client.client_id }), 400, "invalid_grant");
    const { refresh_token: successor } = await still.json<TokenBody>();
    expect(await expectError(await refresh(app, client, successor!), 400, "invalid_grant")).toContain("revoked");
  });
});

describe("the authorization request by POST (OIDC Core §3.1.2.1)", () => {
  async function params(client: TestClient, extra: Record<string, string> = {}) {
    const { challenge } = await pkce();
    return new URLSearchParams({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: client.redirect_uris[0]!,
      scope: "openid",
      state: "s1",
      code_challenge: challenge,
      code_challenge_method: "S256",
      ...extra,
    });
  }

  it("without the form's fields is sent on to the GET (303), which answers as always: the page, login_required, or a code from the session", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    /** POSTs the parameters as an RP's page would (from its own site), then follows the 303 as a browser does. */
    const viaPost = async (browser: Browser, form: URLSearchParams) => {
      const posted = await browser.post("/oauth2/auth", form, { Origin: "https://client.example" });
      expect(posted.status).toBe(303);
      const next = new URL(posted.headers.get("location")!, app.origin);
      expect(next.pathname).toBe("/oauth2/auth");
      expect(Object.fromEntries(next.searchParams)).toEqual(Object.fromEntries(form));
      return browser.fetch(next.pathname + next.search);
    };
    const page = await viaPost(new Browser(app), await params(client));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="password"');

    const none = await viaPost(new Browser(app), await params(client, { prompt: "none" }));
    expect(none.status).toBe(302);
    expect(new URL(none.headers.get("location")!).searchParams.get("error")).toBe("login_required");

    const l = await login(app, client, user);
    const silent = await viaPost(l.browser, await params(client, { prompt: "none" }));
    expect(silent.status).toBe(302);
    const back = new URL(silent.headers.get("location")!);
    expect(back.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(back.searchParams.get("state")).toBe("s1");

    // An invalid request by POST is refused as the GET refuses it: an error page, no redirect to the client.
    const bad = await viaPost(new Browser(app), new URLSearchParams({ client_id: client.client_id, redirect_uri: "https://evil.example/cb" }));
    expect(bad.status).toBe(400);
    expect(bad.headers.get("location")).toBeNull();
  });

  it("keeps the hosted form's own POST as it is: without its CSRF token it is refused with 403", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const form = await params(client);
    form.set("username", user.username);
    form.set("password", user.password);
    const res = await new Browser(app).post("/oauth2/auth", form, { Origin: app.origin });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Your sign-in form expired");
    const foreign = await new Browser(app).post("/oauth2/auth", new URLSearchParams({ ...Object.fromEntries(form), action: "login" }), { Origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain("posted from another site");
    expect((await new Browser(app).fetch(authorizePath(Object.fromEntries(await params(client))))).status).toBe(200);
  });
});
