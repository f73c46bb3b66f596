/**
 * The browser face in workerd (SPEC §6): every header and every refusal of
 * kiavi-auth.json, /session, /session/token, POST /logout, /refresh, and the
 * exchange-mode cookie of /oauth2/token.
 */
import { env, SELF } from "cloudflare:test";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { rotateChain, startChain } from "../../worker/chains/api";
import { prepareSession } from "../../worker/identity/sessions";
import { appById, clearAppCache, type App } from "../../worker/tenancy/apps";
import { ADMIN, createApp, signup, uniqueSlug, type SignedUp, type TestApp } from "../helpers";
import { addClient, login, type OAuthTestApp, type TestClient } from "../oauth/helpers";

interface CookieFixture {
  test: TestApp;
  app: App;
  user: SignedUp;
  domain: string;
  origin: string;
  appOrigin: string;
}

/** A cookie-mode app on a non-local custom domain, so the production cookie names apply. */
async function cookieFixture(settings: Record<string, unknown> = {}): Promise<CookieFixture> {
  const domain = `${uniqueSlug("d")}.example`;
  const appOrigin = `https://app.${domain}`;
  const test = await createApp({ custom_domain: domain, settings: { allowed_origins: [appOrigin], ...settings } });
  clearAppCache();
  const app = (await appById(env, test.id))!;
  return { test, app, user: await signup(test), domain, origin: `https://auth.${domain}`, appOrigin };
}

async function browserSession(f: CookieFixture, expiresInMs = 3600_000): Promise<{ id: string; token: string; cookie: string }> {
  const s = await prepareSession(env, f.app.id, f.user._id, "browser", { expiresAt: Date.now() + expiresInMs });
  await s.statement.run();
  return { id: s.id, token: s.token, cookie: `__Secure-latch_session=${s.token}` };
}

function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(url, { headers });
}

function post(url: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  return SELF.fetch(url, { method: "POST", headers, body });
}

async function jwks(origin: string) {
  const res = await get(`${origin}/.well-known/jwks.json`);
  return createLocalJWKSet((await res.json()) as { keys: [] });
}

/**
 * A Set-Cookie as name=value and its attributes in any order (the serializer's order is
 * not part of the contract); a numeric Max-Age is shown as N unless it is 0.
 */
function cookieShape(cookie: string): { pair: string; attributes: string[] } {
  const [pair, ...attributes] = cookie.split("; ");
  return { pair: pair!, attributes: attributes.map((a) => (/^Max-Age=[1-9]\d*$/.test(a) ? "Max-Age=N" : a)).sort() };
}

function setCookies(res: Response): string[] {
  return res.headers.getAll("Set-Cookie");
}

async function expectError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  const body = (await res.json()) as { error: string; error_description: string };
  expect(body.error).toBe(error);
  expect(body.error_description).toBeTruthy();
}

function expectNoCors(res: Response) {
  expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  expect(res.headers.get("Vary")).toMatch(/Origin/);
}

function expectCredentialedCors(res: Response, origin: string) {
  expect(res.headers.get("Access-Control-Allow-Origin")).toBe(origin);
  expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
  expect(res.headers.get("Vary")).toMatch(/Origin/);
}

describe("kiavi-auth.json", () => {
  it("cookie mode: every SPEC §6 field, public cache headers, CORS *, no secrets", async () => {
    const f = await cookieFixture({ auth_policy: "passkey_preferred", access_token_ttl: 600 });
    const res = await get(`${f.origin}/.well-known/kiavi-auth.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
    const text = await res.text();
    expect(text).not.toContain(f.test.app_secret);
    expect(text).not.toContain(f.test.master_secret);
    expect(JSON.parse(text)).toEqual({
      version: 1,
      issuer: f.origin,
      app: { id: f.test.id, slug: f.test.slug },
      mode: "cookie",
      session_endpoint: `${f.origin}/session`,
      session_token_endpoint: `${f.origin}/session/token`,
      authorization_endpoint: `${f.origin}/oauth2/auth`,
      token_endpoint: `${f.origin}/oauth2/token`,
      refresh_endpoint: `${f.origin}/refresh`,
      end_session_endpoint: `${f.origin}/logout`,
      jwks_uri: `${f.origin}/.well-known/jwks.json`,
      cookie_domain: f.domain,
      access_token_lifetime: 600,
      refresh_leeway_seconds: 30,
      auth_policy: "passkey_preferred",
    });
    // The endpoints it names exist on that host.
    expect((await get(`${f.origin}/.well-known/jwks.json`)).status).toBe(200);
  });

  it("exchange mode without a custom domain; a preflight gets CORS *", async () => {
    const test = await createApp();
    const origin = `http://${test.slug}.localhost:8787`;
    const body = (await (await get(`${origin}/.well-known/kiavi-auth.json`)).json()) as Record<string, unknown>;
    expect(body.mode).toBe("exchange");
    expect(body.cookie_domain).toBeNull();
    expect(body.issuer).toBe(origin);
    expect(body.auth_policy).toBe("none");
    const pre = await SELF.fetch(`${origin}/.well-known/kiavi-auth.json`, { method: "OPTIONS", headers: { Origin: "https://any.example" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  it("the mode flips when a custom domain is set", async () => {
    const test = await createApp();
    const domain = `${uniqueSlug("f")}.example`;
    const patch = await SELF.fetch(`http://127.0.0.1:8787/admin/apps/${test.id}`, {
      method: "PATCH",
      headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
      body: JSON.stringify({ custom_domain: domain }),
    });
    expect(patch.status).toBe(200);
    const body = (await (await get(`https://auth.${domain}/.well-known/kiavi-auth.json`)).json()) as Record<string, unknown>;
    expect(body.mode).toBe("cookie");
    expect(body.cookie_domain).toBe(domain);
  });
});

describe("GET /session", () => {
  it("answers the session to an allow-listed origin with credentialed CORS, never *", async () => {
    const f = await cookieFixture({ auth_policy: "passkey_preferred" });
    const s = await browserSession(f);
    const res = await get(`${f.origin}/session`, { Origin: f.appOrigin, Cookie: s.cookie, "Sec-Fetch-Site": "same-site" });
    expect(res.status).toBe(200);
    expectCredentialedCors(res, f.appOrigin);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as Record<string, any>;
    expect(body.user).toMatchObject({ id: f.user._id, username: f.user.username, emailVerified: false });
    expect(body.user.password_hash).toBeUndefined();
    expect(body.session.id).toBe(s.id);
    expect(Date.parse(body.session.expiresAt)).toBeGreaterThan(Date.now());
    expect(body.auth_method).toBe("password");
    expect(body.auth_policy).toBe("passkey_preferred");
  });

  it("401 login_required without a cookie, with an unknown or malformed one, and after expiry", async () => {
    const f = await cookieFixture();
    const expired = await browserSession(f, -1000);
    for (const cookie of [undefined, "__Secure-latch_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "__Secure-latch_session=not a token!", expired.cookie]) {
      const res = await get(`${f.origin}/session`, { Origin: f.appOrigin, ...(cookie ? { Cookie: cookie } : {}) });
      await expectError(res, 401, "login_required");
      // The SDK must be able to read the 401, so the allowed origin still gets CORS.
      expectCredentialedCors(res, f.appOrigin);
    }
  });

  it("the cookie of another mode's name or another app does not count", async () => {
    const f = await cookieFixture();
    const other = await cookieFixture();
    const s = await browserSession(other);
    await expectError(await get(`${f.origin}/session`, { Cookie: s.cookie }), 401, "login_required");
    const mine = await browserSession(f);
    await expectError(await get(`${f.origin}/session`, { Cookie: `latch_session=${mine.token}` }), 401, "login_required");
  });

  it("403 for a foreign or opaque Origin, and for another page's request without one (no-cors)", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f);
    const cases: Record<string, string>[] = [
      { Origin: "https://evil.example" },
      { Origin: `https://other.${f.domain}` },
      { Origin: f.appOrigin.replace("https:", "http:") },
      { Origin: "null" },
      { "Sec-Fetch-Site": "same-site" },
      { "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors" },
    ];
    for (const headers of cases) {
      const res = await get(`${f.origin}/session`, { ...headers, Cookie: s.cookie });
      await expectError(res, 403, "access_denied");
      expectNoCors(res);
    }
  });

  it("preflight: 204 with exact origin and credentials for allowed origins, 403 otherwise", async () => {
    const f = await cookieFixture();
    const ok = await SELF.fetch(`${f.origin}/session`, {
      method: "OPTIONS",
      headers: { Origin: f.appOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "content-type" },
    });
    expect(ok.status).toBe(204);
    expectCredentialedCors(ok, f.appOrigin);
    expect(ok.headers.get("Access-Control-Allow-Methods")).toBe("GET");
    expect(ok.headers.get("Access-Control-Allow-Headers")).toBe("content-type");
    const foreign = await SELF.fetch(`${f.origin}/session`, { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" } });
    await expectError(foreign, 403, "access_denied");
    expectNoCors(foreign);
    const badMethod = await SELF.fetch(`${f.origin}/session`, { method: "OPTIONS", headers: { Origin: f.appOrigin, "Access-Control-Request-Method": "DELETE" } });
    expect(badMethod.status).toBe(403);
    const badHeader = await SELF.fetch(`${f.origin}/session`, {
      method: "OPTIONS",
      headers: { Origin: f.appOrigin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-evil" },
    });
    expect(badHeader.status).toBe(403);
  });

  it("a client's allowed_origins count too, including one added after the first request", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f);
    const late = `https://late.${f.domain}`;
    await expectError(await get(`${f.origin}/session`, { Origin: late, Cookie: s.cookie }), 403, "access_denied");
    await addClient(f.test, { allowed_origins: [late] });
    await new Promise((r) => setTimeout(r, 2100));
    const res = await get(`${f.origin}/session`, { Origin: late, Cookie: s.cookie });
    expect(res.status).toBe(200);
    expectCredentialedCors(res, late);
  });

  it("slides the expiry (and re-sets the cookie) once the session was idle a while", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f, 60_000);
    const fresh = await get(`${f.origin}/session`, { Cookie: s.cookie });
    expect(setCookies(fresh)).toEqual([]);
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ?").bind(Date.now() - 120_000, s.id).run();
    const res = await get(`${f.origin}/session`, { Cookie: s.cookie });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { session: { expiresAt: string } };
    const ttl = f.app.settings.refresh_token_ttl;
    expect(Date.parse(body.session.expiresAt)).toBeGreaterThan(Date.now() + (ttl - 60) * 1000);
    const [cookie] = setCookies(res);
    expect(cookieShape(cookie!)).toEqual(cookieShape(`__Secure-latch_session=${s.token}; Domain=${f.domain}; Path=/; Max-Age=N; Secure; HttpOnly; SameSite=Lax`));
    const row = await env.DB.prepare("SELECT expires_at FROM sessions WHERE id = ?").bind(s.id).first<number>("expires_at");
    expect(row).toBe(Date.parse(body.session.expiresAt));
  });
});

describe("methods", () => {
  it("wrong methods get 405 with Allow", async () => {
    const f = await cookieFixture();
    for (const [method, path, allow] of [["POST", "/session", "GET"], ["DELETE", "/session/token", "GET"], ["GET", "/refresh", "POST"], ["PUT", "/refresh", "POST"]] as const) {
      const res = await SELF.fetch(`${f.origin}${path}`, { method, headers: method === "GET" ? {} : { Origin: f.appOrigin } });
      await expectError(res, 405, "method_not_allowed");
      expect(res.headers.get("Allow")).toBe(allow);
    }
  });
});

describe("GET /session/token", () => {
  it("mints an access JWT that verifies against the JWKS; no-store", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f);
    const res = await get(`${f.origin}/session/token`, { Origin: f.appOrigin, Cookie: s.cookie });
    expect(res.status).toBe(200);
    expectCredentialedCors(res, f.appOrigin);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_in).toBe(f.app.settings.access_token_ttl);
    const { payload, protectedHeader } = await jwtVerify(body.access_token, await jwks(f.origin), { issuer: f.origin, audience: f.test.id });
    expect(protectedHeader.typ).toBe("at+jwt");
    expect(payload).toMatchObject({ sub: f.user._id, sid: s.id, app_id: f.test.id, app_slug: f.test.slug, auth_method: "password", client_id: f.test.id });
  });

  it("?client_id= makes a user-facing client the audience; others are refused with 400", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f);
    const client = await addClient(f.test, { allowed_origins: [f.appOrigin] });
    const res = await get(`${f.origin}/session/token?client_id=${client.client_id}`, { Origin: f.appOrigin, Cookie: s.cookie });
    const { access_token } = (await res.json()) as { access_token: string };
    await jwtVerify(access_token, await jwks(f.origin), { issuer: f.origin, audience: client.client_id });
    await expectError(await get(`${f.origin}/session/token?client_id=nope`, { Origin: f.appOrigin, Cookie: s.cookie }), 400, "invalid_request");
    await expectError(await get(`${f.origin}/session/token?client_id=a&client_id=b`, { Origin: f.appOrigin, Cookie: s.cookie }), 400, "invalid_request");
  });

  it("?client_id= is bound to the client's own allowed_origins: an origin only the app (or another client) allows is refused with 403", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f);
    const sibling = `https://other.${f.domain}`;
    const mine = await addClient(f.test, { allowed_origins: [f.appOrigin] });
    const theirs = await addClient(f.test, { allowed_origins: [sibling] });
    const appWide = await addClient(f.test);
    // The app-wide allow-list lets f.appOrigin in, and `theirs` lets `sibling` in; neither may mint for a client that does not list it.
    for (const [client, origin] of [[theirs, f.appOrigin], [appWide, f.appOrigin], [mine, sibling]] as const) {
      const res = await get(`${f.origin}/session/token?client_id=${client.client_id}`, { Origin: origin, Cookie: s.cookie });
      const body = (await res.clone().json()) as { error_description: string };
      await expectError(res, 403, "access_denied");
      expect(body.error_description).toBe("This client does not list the request's Origin in its allowed_origins.");
    }
    // Without an Origin (no browser page of that client) there is nothing to bind to.
    await expectError(await get(`${f.origin}/session/token?client_id=${mine.client_id}`, { Cookie: s.cookie }), 403, "access_denied");
    expect((await get(`${f.origin}/session/token?client_id=${theirs.client_id}`, { Origin: sibling, Cookie: s.cookie })).status).toBe(200);
  });

  it("401 without a live session; 403 from a foreign origin", async () => {
    const f = await cookieFixture();
    await expectError(await get(`${f.origin}/session/token`, { Origin: f.appOrigin }), 401, "login_required");
    const s = await browserSession(f);
    await expectError(await get(`${f.origin}/session/token`, { Origin: "https://evil.example", Cookie: s.cookie }), 403, "access_denied");
  });
});

describe("POST /logout", () => {
  it("refuses a missing or foreign Origin with 403 and changes nothing", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f);
    const cases: Record<string, string>[] = [{}, { Origin: "https://evil.example" }, { Origin: "null" }];
    for (const headers of cases) {
      const res = await post(`${f.origin}/logout`, { ...headers, Cookie: s.cookie });
      await expectError(res, 403, "access_denied");
      expect(setCookies(res)).toEqual([]);
    }
    expect((await get(`${f.origin}/session`, { Cookie: s.cookie })).status).toBe(200);
  });

  it("ends the session and its chains and clears the cookies; /session then answers 401", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f);
    const client = await addClient(f.test);
    const chain = await startChain(env, f.app, f.user._id, {
      clientId: client.client_id,
      sessionId: s.id,
      scope: "openid offline",
      authTime: 0,
      authMethod: "password",
      claims: {},
    });
    const res = await post(`${f.origin}/logout`, { Origin: f.appOrigin, Cookie: s.cookie, "Sec-Fetch-Site": "same-site" });
    expect(res.status).toBe(204);
    expectCredentialedCors(res, f.appOrigin);
    expect(setCookies(res).map(cookieShape)).toContainEqual(cookieShape(`__Secure-latch_session=; Domain=${f.domain}; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`));
    expect(setCookies(res).map(cookieShape)).toContainEqual(cookieShape("__Host-latch_rt=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None; Partitioned"));
    await expectError(await get(`${f.origin}/session`, { Origin: f.appOrigin, Cookie: s.cookie }), 401, "login_required");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE id = ?").bind(s.id).first<number>("n")).toBe(0);
    expect(await rotateChain(env, f.app, chain.refreshToken, client.client_id)).toEqual({ ok: false, reason: "revoked" });
    // Idempotent: a second logout still answers 204.
    expect((await post(`${f.origin}/logout`, { Origin: f.appOrigin, Cookie: s.cookie })).status).toBe(204);
  });

  it("the issuer's own pages may post it too", async () => {
    const f = await cookieFixture();
    const s = await browserSession(f);
    const res = await post(`${f.origin}/logout`, { Origin: f.origin, Cookie: s.cookie, "Sec-Fetch-Site": "same-origin" });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

interface ExchangeFixture {
  test: OAuthTestApp;
  app: App;
  user: SignedUp;
  client: TestClient;
  appOrigin: string;
}

/** An exchange-mode app on `{slug}.localhost` (local: `latch_rt`) with a browser client. */
async function exchangeFixture(settings: Record<string, unknown> = {}): Promise<ExchangeFixture> {
  const test = await createApp({ settings });
  clearAppCache();
  const app = (await appById(env, test.id))!;
  const appOrigin = `https://shop-${test.slug}.example`;
  const client = await addClient(test, { allowed_origins: [appOrigin], redirect_uris: [`${appOrigin}/cb`], refresh_token_delivery: "cookie" });
  return { test: { ...test, origin: `http://${test.slug}.localhost:8787` }, app, user: await signup(test), client, appOrigin };
}

async function chainCookie(f: ExchangeFixture): Promise<{ cookie: string; refreshToken: string }> {
  const chain = await startChain(env, f.app, f.user._id, {
    clientId: f.client.client_id,
    sessionId: null,
    scope: "openid profile email offline",
    authTime: Math.floor(Date.now() / 1000),
    authMethod: "password",
    claims: { email_verified: false, preferred_username: f.user.username, permissions: [], roles: [], feature_flags: {} },
  });
  return { cookie: `latch_rt=${f.client.client_id}~${chain.refreshToken}`, refreshToken: chain.refreshToken };
}

function refresh(f: ExchangeFixture, headers: Record<string, string>, body?: string) {
  return post(`${f.test.origin}/refresh`, { Origin: f.appOrigin, "Sec-Fetch-Site": "cross-site", ...headers }, body);
}

describe("POST /refresh", () => {
  it("rotates the cookie, answers an access token (no refresh token in the body), credentialed CORS", async () => {
    const f = await exchangeFixture();
    const c = await chainCookie(f);
    const res = await refresh(f, { Cookie: c.cookie });
    expect(res.status).toBe(200);
    expectCredentialedCors(res, f.appOrigin);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "token_type"]);
    const { payload } = await jwtVerify(body.access_token as string, await jwks(f.test.origin), { issuer: f.test.origin, audience: f.client.client_id });
    expect(payload.sub).toBe(f.user._id);
    const [cookie] = setCookies(res);
    expect(cookie).toMatch(new RegExp(`^latch_rt=${f.client.client_id}~[^;]+;`));
    expect(cookieShape(cookie!).attributes).toEqual(cookieShape("x=; Path=/; Max-Age=N; Secure; HttpOnly; SameSite=None; Partitioned").attributes);
    expect(cookie!.split("; ")).toContain(`Max-Age=${f.app.settings.refresh_token_ttl}`);
    expect(cookie).not.toContain(c.refreshToken);
    // JSON {client_id} naming the cookie's client is fine too.
    const next = cookie!.split(";")[0]!;
    const again = await refresh(f, { Cookie: next, "Content-Type": "application/json" }, JSON.stringify({ client_id: f.client.client_id }));
    expect(again.status).toBe(200);
  });

  it("401 only for a dead chain: no cookie, junk cookie, revoked, reused after the window", async () => {
    const f = await exchangeFixture({ refresh_overlap: 0 });
    for (const cookie of [undefined, "latch_rt=garbage", `latch_rt=${f.client.client_id}~not.a.token`, `latch_rt=${f.client.client_id}~`]) {
      const res = await refresh(f, cookie ? { Cookie: cookie } : {});
      await expectError(res, 401, "invalid_grant");
      expectCredentialedCors(res, f.appOrigin);
      expect(setCookies(res).map(cookieShape)).toContainEqual(cookieShape("latch_rt=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None; Partitioned"));
    }
    const c = await chainCookie(f);
    const first = await refresh(f, { Cookie: c.cookie });
    expect(first.status).toBe(200);
    const successor = setCookies(first)[0]!.split(";")[0]!;
    // Replaying the old value (overlap 0) is reuse: 401, and the whole chain is dead.
    await expectError(await refresh(f, { Cookie: c.cookie }), 401, "invalid_grant");
    await expectError(await refresh(f, { Cookie: successor }), 401, "invalid_grant");
  });

  it("400 for a malformed request, and the chain survives it", async () => {
    const f = await exchangeFixture();
    const c = await chainCookie(f);
    const cases: [Record<string, string>, string][] = [
      [{ "Content-Type": "application/json" }, "{not json"],
      [{ "Content-Type": "application/json" }, "[1]"],
      [{ "Content-Type": "application/json" }, JSON.stringify({ client_id: 7 })],
      [{ "Content-Type": "application/json" }, JSON.stringify({ refresh_token: "x" })],
      [{ "Content-Type": "application/json" }, JSON.stringify({ client_id: "someone-else" })],
      [{ "Content-Type": "text/plain" }, "client_id=x"],
    ];
    for (const [headers, body] of cases) await expectError(await refresh(f, { Cookie: c.cookie, ...headers }, body), 400, "invalid_request");
    expect((await refresh(f, { Cookie: c.cookie })).status).toBe(200);
  });

  it("403 for a missing or foreign Origin, before the chain is touched", async () => {
    const f = await exchangeFixture();
    const c = await chainCookie(f);
    for (const headers of [{ Origin: "" }, { Origin: "https://evil.example" }, { Origin: "null" }]) {
      const h: Record<string, string> = { Cookie: c.cookie, "Sec-Fetch-Site": "cross-site" };
      if (headers.Origin) h.Origin = headers.Origin;
      const res = await post(`${f.test.origin}/refresh`, h);
      await expectError(res, 403, "access_denied");
      expectNoCors(res);
    }
    expect((await refresh(f, { Cookie: c.cookie })).status).toBe(200);
  });

  it("429 with Retry-After once an address keeps failing", async () => {
    const f = await exchangeFixture();
    let last: Response | undefined;
    for (let i = 0; i < 31; i++) last = await refresh(f, { Cookie: "latch_rt=garbage" });
    await expectError(last!, 429, "slow_down");
    expect(Number(last!.headers.get("Retry-After"))).toBeGreaterThan(0);
  });
});

describe("/oauth2/token from a browser origin", () => {
  it("the code exchange sets the partitioned refresh cookie and leaves the token out of the body", async () => {
    const f = await exchangeFixture();
    const l = await login(f.test, f.client, { username: f.user.username, password: f.user.password });
    const res = await post(
      `${f.test.origin}/oauth2/token`,
      { Origin: f.appOrigin, "Content-Type": "application/x-www-form-urlencoded" },
      new URLSearchParams({ grant_type: "authorization_code", code: l.code, redirect_uri: `${f.appOrigin}/cb`, code_verifier: l.verifier, client_id: f.client.client_id }).toString(),
    );
    expect(res.status).toBe(200);
    expectCredentialedCors(res, f.appOrigin);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.access_token).toBeTruthy();
    expect(body.refresh_token).toBeUndefined();
    const cookies = setCookies(res);
    const rt = cookies.find((c) => c.startsWith("latch_rt="))!;
    expect(cookieShape(rt).attributes).toEqual(cookieShape("x=; Path=/; Max-Age=N; Secure; HttpOnly; SameSite=None; Partitioned").attributes);
    expect(cookies.find((c) => c.startsWith("_kbrte=1"))).toBeTruthy();
    // The cookie refreshes through /refresh ...
    const r1 = await refresh(f, { Cookie: rt.split(";")[0]! });
    expect(r1.status).toBe(200);
    // ... and through Kinde's cookie refresh on /oauth2/token (no refresh_token in the body).
    const next = setCookies(r1)[0]!.split(";")[0]!;
    const r2 = await post(
      `${f.test.origin}/oauth2/token`,
      { Origin: f.appOrigin, Cookie: next, "Content-Type": "application/x-www-form-urlencoded" },
      new URLSearchParams({ grant_type: "refresh_token", client_id: f.client.client_id }).toString(),
    );
    expect(r2.status).toBe(200);
    expectCredentialedCors(r2, f.appOrigin);
    expect(((await r2.json()) as Record<string, unknown>).refresh_token).toBeUndefined();
    expect(setCookies(r2).find((c) => c.startsWith("latch_rt="))).toBeTruthy();
  });

  it("native clients (no Origin) keep the refresh token in the body and cannot use a cookie", async () => {
    const f = await exchangeFixture();
    const l = await login(f.test, f.client, { username: f.user.username, password: f.user.password });
    const res = await post(
      `${f.test.origin}/oauth2/token`,
      { "Content-Type": "application/x-www-form-urlencoded" },
      new URLSearchParams({ grant_type: "authorization_code", code: l.code, redirect_uri: `${f.appOrigin}/cb`, code_verifier: l.verifier, client_id: f.client.client_id }).toString(),
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(typeof body.refresh_token).toBe("string");
    expect(setCookies(res).filter((c) => c.startsWith("latch_rt"))).toEqual([]);
    const c = await chainCookie(f);
    const cookieOnly = await post(
      `${f.test.origin}/oauth2/token`,
      { Cookie: c.cookie, "Content-Type": "application/x-www-form-urlencoded" },
      new URLSearchParams({ grant_type: "refresh_token", client_id: f.client.client_id }).toString(),
    );
    await expectError(cookieOnly, 400, "invalid_request");
  });

  it("a client with refresh_token_delivery body (the default) gets the refresh token in the body from a browser too, and a copy in the cookie for Kinde's cookie refresh", async () => {
    const f = await exchangeFixture();
    const spa = await addClient(f.test, { allowed_origins: [f.appOrigin], redirect_uris: [`${f.appOrigin}/cb`] });
    expect(spa).toMatchObject({ refresh_token_delivery: "body" });
    const l = await login(f.test, spa, { username: f.user.username, password: f.user.password });
    const res = await post(
      `${f.test.origin}/oauth2/token`,
      { Origin: f.appOrigin, "Content-Type": "application/x-www-form-urlencoded" },
      new URLSearchParams({ grant_type: "authorization_code", code: l.code, redirect_uri: `${f.appOrigin}/cb`, code_verifier: l.verifier, client_id: spa.client_id }).toString(),
    );
    expect(res.status).toBe(200);
    expectCredentialedCors(res, f.appOrigin);
    const body = (await res.json()) as Record<string, unknown>;
    expect(typeof body.refresh_token).toBe("string");
    const rt = setCookies(res).find((c) => c.startsWith("latch_rt="))!;
    expect(rt.split(";")[0]).toBe(`latch_rt=${spa.client_id}~${body.refresh_token as string}`);
    expect(setCookies(res).some((c) => c.startsWith("_kbrte=1"))).toBe(true);
    const refreshed = await post(
      `${f.test.origin}/oauth2/token`,
      { Origin: f.appOrigin, "Content-Type": "application/x-www-form-urlencoded" },
      new URLSearchParams({ grant_type: "refresh_token", refresh_token: body.refresh_token as string, client_id: spa.client_id }).toString(),
    );
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as Record<string, unknown>;
    expect(typeof next.refresh_token).toBe("string");
    // Kinde's SPA SDK refreshes with credentials and no refresh_token: the cookie's copy serves it.
    const viaCookie = await post(
      `${f.test.origin}/oauth2/token`,
      { Origin: f.appOrigin, Cookie: setCookies(refreshed).find((c) => c.startsWith("latch_rt="))!.split(";")[0]!, "Content-Type": "application/x-www-form-urlencoded" },
      new URLSearchParams({ grant_type: "refresh_token", client_id: spa.client_id }).toString(),
    );
    expect(viaCookie.status).toBe(200);
    expect(typeof ((await viaCookie.json()) as Record<string, unknown>).refresh_token).toBe("string");
  });

  it("refuses an unknown refresh_token_delivery at client creation", async () => {
    const f = await exchangeFixture();
    const res = await SELF.fetch(`http://127.0.0.1:8787/admin/apps/${f.test.id}/clients`, {
      method: "POST",
      headers: { ...ADMIN, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "x", type: "public", redirect_uris: ["https://x.example/cb"], refresh_token_delivery: "header" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: [{ code: "INVALID_REQUEST", message: "refresh_token_delivery must be body or cookie" }] });
  });

  it("preflight for the token endpoint allows credentials and Kinde's SDK header", async () => {
    const f = await exchangeFixture();
    const res = await SELF.fetch(`${f.test.origin}/oauth2/token`, {
      method: "OPTIONS",
      headers: { Origin: f.appOrigin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, kinde-sdk" },
    });
    expect(res.status).toBe(204);
    expectCredentialedCors(res, f.appOrigin);
    expect(res.headers.get("Access-Control-Allow-Headers")).toMatch(/Kinde-SDK/i);
  });
});
