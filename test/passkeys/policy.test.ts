/**
 * The auth policy (SPEC §8) on every path that can issue a session or token: hosted
 * password login and signup, /oauth2/auth with an existing session, the token endpoint
 * (code and refresh), Kinvey login / signup / Basic / session tokens, cookie-mode
 * /session and /session/token, exchange-mode /refresh. Plus passkey_preferred's offer,
 * the settings page, and operator recovery.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { startChain } from "../../worker/chains/api";
import { prepareSession } from "../../worker/identity/sessions";
import { PASSKEY_REQUIRED_MESSAGE } from "../../worker/identity/auth-policy";
import { ADMIN, appAuth, basic, call, createApp, kinveyAuth, signup, uniqueSlug } from "../helpers";
import { addClient, Browser, decodeJwt, hiddenFields, login, oauthApp, tokenRequest, tokensFor, type OAuthTestApp, type TestClient } from "../oauth/helpers";
import { SoftAuthenticator } from "./authenticator";
import { ceremony, codeAndTokens, dataAttr, enrolSignedIn, openLogin, passkeySignIn, passwordSession, postPassword, setPolicy } from "./helpers";

async function errorOf(res: Response) {
  return { status: res.status, ...(await res.json<Record<string, string>>()) };
}

const sessionCookies = (res: Response) => res.headers.getAll("Set-Cookie").filter((l) => /latch_session=/.test(l));

async function browserSessions(appId: string, userId: string): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE app_id = ? AND user_id = ? AND kind = 'browser'").bind(appId, userId).first<number>("n")) ?? 0;
}

/** passkey_required app with a user who signed up (through Kinvey) before the policy changed. */
async function requiredApp() {
  const app = await oauthApp();
  const client = await addClient(app);
  const user = await signup(app);
  await setPolicy(app, "passkey_required");
  return { app, client, user };
}

/** First password sign-in under passkey_required: enrol, then sign in with the passkey. */
async function enrolFirst(app: OAuthTestApp, client: TestClient, user: { _id: string; username: string; password: string }, auth: SoftAuthenticator) {
  const started = await openLogin(app, client);
  const res = await postPassword(started, user);
  expect(res.status).toBe(200);
  expect(sessionCookies(res)).toEqual([]);
  expect(res.headers.get("location")).toBeNull();
  const page = await res.text();
  expect(page).toContain("Set up a passkey");
  const challengeId = dataAttr(page, "data-challenge-id")!;
  const options = JSON.parse(dataAttr(page, "data-options")!) as { challenge: string; rp: { id: string }; user: { id: string } };
  const cont = dataAttr(page, "data-continue")!;
  expect(await browserSessions(app.id, user._id)).toBe(0);

  const reg = await ceremony(started.browser, "/passkeys/register/verify", { challenge_id: challengeId, response: await auth.register(options, app.origin) });
  expect(reg.status).toBe(200);
  // Enrolment is not a sign-in: still no session, and the page must sign in with the passkey.
  expect((await reg.json<{ next: string }>()).next).toBe("authenticate");
  expect(sessionCookies(reg)).toEqual([]);
  expect(await browserSessions(app.id, user._id)).toBe(0);
  return { started, cont, challengeId, options };
}

describe("passkey_required", () => {
  it("the first password sign-in only enrols; the passkey then signs in; passwords are refused afterwards", async () => {
    const { app, client, user } = await requiredApp();
    const auth = await SoftAuthenticator.create("ES256");
    const { started, cont, challengeId, options } = await enrolFirst(app, client, user, auth);

    // The enrolment challenge had its one use.
    const again = await ceremony(started.browser, "/passkeys/register/verify", { challenge_id: challengeId, response: await (await SoftAuthenticator.create("ES256")).register(options, app.origin) });
    expect(await errorOf(again)).toMatchObject({ status: 400, error: "invalid_request" });

    const signIn = await passkeySignIn(started.browser, auth, cont);
    expect(signIn.status).toBe(200);
    const tokens = await codeAndTokens(started, client, (await signIn.json<{ redirect: string }>()).redirect);
    expect(decodeJwt(tokens.access_token).payload.auth_method).toBe("passkey");
    expect(decodeJwt(tokens.id_token!).payload.sub).toBe(user._id);

    // The refresh token of a passkey chain keeps working.
    const refreshed = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: client.client_id });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt((await refreshed.json<{ access_token: string }>()).access_token).payload.auth_method).toBe("passkey");

    // A password sign-in is refused now, with no session and no code.
    const second = await openLogin(app, client);
    const res = await postPassword(second, user);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("This account signs in with a passkey only.");
    expect(sessionCookies(res)).toEqual([]);
    // A wrong password is still just a wrong password (no enrolment-state oracle).
    const wrong = await postPassword(await openLogin(app, client), { username: user.username, password: "not the password" });
    expect(wrong.status).toBe(401);
  });

  it("hosted signup leads to enrolment, not a session", async () => {
    const app = await oauthApp({ settings: { auth_policy: "passkey_required" } });
    const client = await addClient(app);
    const started = await openLogin(app, client, new Browser(app), { prompt: "create" });
    const form = new URLSearchParams(started.form);
    form.set("username", uniqueSlug("u"));
    form.set("password", "correct horse battery");
    const res = await started.browser.post("/oauth2/auth", form, { Origin: app.origin });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Set up a passkey");
    expect(sessionCookies(res)).toEqual([]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE app_id = ?").bind(app.id).first("n")).toBe(0);
  });

  it("the Kinvey API refuses password login, signup, Basic user credentials and pre-policy session tokens", async () => {
    const app = await createApp();
    const user = await signup(app);
    const oapp = { ...app, origin: `http://${app.slug}.localhost:8787` };
    await setPolicy(oapp, "passkey_required");

    const loginRes = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: user.password } });
    expect(await errorOf(loginRes)).toMatchObject({ status: 401, error: "InsufficientCredentials", description: PASSKEY_REQUIRED_MESSAGE });
    const signupRes = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: uniqueSlug("u"), password: "correct horse battery" } });
    expect(await errorOf(signupRes)).toMatchObject({ status: 401, error: "InsufficientCredentials", description: PASSKEY_REQUIRED_MESSAGE });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE app_id = ?").bind(app.id).first("n")).toBe(1);

    const basicRes = await call(`/user/${app.id}/_me`, { headers: { Authorization: basic(user.username, user.password) } });
    expect(await errorOf(basicRes)).toMatchObject({ status: 401, error: "InvalidCredentials", debug: PASSKEY_REQUIRED_MESSAGE });
    const tokenRes = await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(user.token) } });
    expect(await errorOf(tokenRes)).toMatchObject({ status: 401, error: "InvalidCredentials", debug: PASSKEY_REQUIRED_MESSAGE });

    // Back to none: the same credentials work again (the refusal came from the policy alone).
    await setPolicy(oapp, "none");
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(user.token) } })).status).toBe(200);
  });

  it("codes, refresh tokens and browser sessions begun by a password stop working when passkeys become required", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const withRefresh = await tokensFor(app, client, user);
    const pending = await login(app, client, user, {}, withRefresh.login.browser);
    await setPolicy(app, "passkey_required");

    // The code (issued to a password session) is refused at the token endpoint.
    const exchanged = await tokenRequest(app, { grant_type: "authorization_code", code: pending.code, redirect_uri: client.redirect_uris[0]!, code_verifier: pending.verifier, client_id: client.client_id });
    expect(await errorOf(exchanged)).toMatchObject({ status: 400, error: "invalid_grant", error_description: PASSKEY_REQUIRED_MESSAGE });
    // The refresh token of a password chain is refused, and its chain ended.
    const refreshed = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: withRefresh.refresh_token!, client_id: client.client_id });
    expect(await errorOf(refreshed)).toMatchObject({ status: 400, error: "invalid_grant", error_description: PASSKEY_REQUIRED_MESSAGE });
    await setPolicy(app, "none");
    const after = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: withRefresh.refresh_token!, client_id: client.client_id });
    expect(await errorOf(after)).toMatchObject({ status: 400, error: "invalid_grant" });
    await setPolicy(app, "passkey_required");

    // The password browser session no longer answers /oauth2/auth without UI.
    const again = await pending.browser.fetch(`/oauth2/auth?${new URLSearchParams({ response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, scope: "openid", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" })}`);
    expect(again.status).toBe(200);
    expect(hiddenFields(await again.text()).get("csrf")).toBeTruthy();
    const none = await pending.browser.fetch(`/oauth2/auth?${new URLSearchParams({ response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, scope: "openid", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", prompt: "none" })}`);
    expect(none.status).toBe(302);
    expect(new URL(none.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("cookie mode: /session and /session/token answer 401 for a password session, 200 for a passkey one", async () => {
    const domain = `${uniqueSlug("d")}.example`;
    const appOrigin = `https://app.${domain}`;
    const app = await createApp({ custom_domain: domain, settings: { allowed_origins: [appOrigin] } });
    const user = await signup(app);
    await setPolicy({ ...app, origin: "" }, "passkey_required");
    const origin = `https://auth.${domain}`;
    const session = async (authMethod: string) => {
      const s = await prepareSession(env, app.id, user._id, "browser", { authMethod, expiresAt: Date.now() + 3600_000 });
      await s.statement.run();
      return `__Secure-latch_session=${s.token}`;
    };
    const pw = await session("password");
    const pk = await session("passkey");
    for (const path of ["/session", "/session/token"]) {
      const refused = await SELF.fetch(`${origin}${path}`, { headers: { Cookie: pw, Origin: appOrigin } });
      expect(await errorOf(refused)).toMatchObject({ status: 401, error: "login_required" });
    }
    const ok = await SELF.fetch(`${origin}/session`, { headers: { Cookie: pk, Origin: appOrigin } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ auth_method: "passkey", auth_policy: "passkey_required" });
    const minted = await SELF.fetch(`${origin}/session/token`, { headers: { Cookie: pk, Origin: appOrigin } });
    expect(minted.status).toBe(200);
    expect(decodeJwt((await minted.json<{ access_token: string }>()).access_token).payload.auth_method).toBe("passkey");
    const config = await (await SELF.fetch(`${origin}/.well-known/kiavi-auth.json`)).json<{ auth_policy: string }>();
    expect(config.auth_policy).toBe("passkey_required");
  });

  it("exchange mode: /refresh answers 401 for a password chain and ends it", async () => {
    const appOrigin = `https://shop-${uniqueSlug("s")}.example`;
    const app = await oauthApp();
    const client = await addClient(app, { allowed_origins: [appOrigin], redirect_uris: [`${appOrigin}/cb`], refresh_token_delivery: "cookie" });
    const user = await signup(app);
    await setPolicy(app, "passkey_required");
    const { appById } = await import("../../worker/tenancy/apps");
    const row = (await appById(env, app.id))!;
    const chain = (method: string) =>
      startChain(env, row, user._id, {
        clientId: client.client_id,
        sessionId: null,
        scope: "openid profile email offline",
        authTime: Math.floor(Date.now() / 1000),
        authMethod: method,
        claims: { email_verified: false, preferred_username: user.username, permissions: [], roles: [], feature_flags: {} },
      });
    const refresh = (token: string) =>
      SELF.fetch(`${app.origin}/refresh`, { method: "POST", headers: { Origin: appOrigin, "Sec-Fetch-Site": "cross-site", Cookie: `latch_rt=${client.client_id}~${token}` } });
    const pw = await chain("password");
    expect(await errorOf(await refresh(pw.refreshToken))).toMatchObject({ status: 401, error: "invalid_grant" });
    const pk = await chain("passkey");
    const ok = await refresh(pk.refreshToken);
    expect(ok.status).toBe(200);
    expect(decodeJwt((await ok.json<{ access_token: string }>()).access_token).payload.auth_method).toBe("passkey");
  });
});

describe("passkey_preferred", () => {
  it("a password sign-in without a passkey is signed in and offered enrolment; skipping continues with a code", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    await setPolicy(app, "passkey_preferred");
    const started = await openLogin(app, client);
    const res = await postPassword(started, user);
    expect(res.status).toBe(200);
    expect(sessionCookies(res)).toHaveLength(1);
    const page = await res.text();
    expect(page).toContain("Sign in faster next time");
    const cont = dataAttr(page, "data-continue")!;
    expect(res.headers.get("Content-Security-Policy")).toContain("script-src 'self'");

    // Enrol from the offer page: already signed in, so nothing more to do.
    const auth = await SoftAuthenticator.create("Ed25519");
    const enrolled = await enrolSignedIn(started.browser, auth);
    expect((await enrolled.json<{ next: string }>()).next).toBe("done");

    const tokens = await codeAndTokens(started, client, cont);
    expect(decodeJwt(tokens.access_token).payload.auth_method).toBe("password");

    // With a passkey the password still signs in directly (a code, no offer).
    const direct = await postPassword(await openLogin(app, client), user);
    expect(direct.status).toBe(303);
    expect(new URL(direct.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });
});

describe("settings page and operator API", () => {
  it("lists, renames and deletes the user's own passkeys; the last one cannot go under passkey_required", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const started = await passwordSession(app, client, user);
    const a = await SoftAuthenticator.create("ES256");
    const b = await SoftAuthenticator.create("Ed25519");
    expect((await enrolSignedIn(started.browser, a)).status).toBe(200);
    expect((await enrolSignedIn(started.browser, b)).status).toBe(200);

    const page = await started.browser.fetch("/passkeys");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Passkey 1");
    expect(html).toContain("Passkey 2");
    const csrf = hiddenFields(html).get("csrf")!;

    const manage = (form: Record<string, string>, origin = app.origin) => started.browser.post("/passkeys/manage", { csrf, ...form }, { Origin: origin });
    const renamed = await manage({ op: "rename", id: a.id, name: "Laptop" });
    expect(renamed.status).toBe(200);
    expect(await renamed.text()).toContain("Laptop");
    expect((await manage({ op: "rename", id: a.id, name: "" })).status).toBe(400);
    expect((await manage({ op: "delete", id: "nope" })).status).toBe(404);
    expect((await started.browser.post("/passkeys/manage", { csrf: "forged", op: "delete", id: a.id }, { Origin: app.origin })).status).toBe(403);
    expect(await errorOf(await manage({ op: "delete", id: a.id }, "https://evil.example"))).toMatchObject({ status: 403, error: "access_denied" });

    // Another user cannot touch these passkeys.
    const other = await signup(app);
    const otherSession = await passwordSession(app, client, other);
    expect((await enrolSignedIn(otherSession.browser, await SoftAuthenticator.create("ES256"))).status).toBe(200);
    const otherCsrf = hiddenFields(await (await otherSession.browser.fetch("/passkeys")).text()).get("csrf")!;
    expect((await otherSession.browser.post("/passkeys/manage", { csrf: otherCsrf, op: "delete", id: a.id }, { Origin: app.origin })).status).toBe(404);

    expect((await manage({ op: "delete", id: b.id })).status).toBe(200);
    await setPolicy(app, "passkey_required");
    // The password session no longer counts under passkey_required: sign in with the passkey.
    expect((await started.browser.fetch("/passkeys")).status).toBe(401);
    const signedIn = await passkeySignIn(started.browser, a, "/passkeys");
    expect(await signedIn.json()).toEqual({ redirect: "/passkeys" });
    const last = await manage({ op: "delete", id: a.id });
    expect(last.status).toBe(409);
    expect(await env.DB.prepare("SELECT id, name FROM passkeys WHERE app_id = ? AND user_id = ?").bind(app.id, user._id).all()).toMatchObject({ results: [{ id: a.id, name: "Laptop" }] });
  });

  it("operator: list, rename, delete, and recovery reset back to must-enrol, logged as an event", async () => {
    const { app, client, user } = await requiredApp();
    const auth = await SoftAuthenticator.create("ES256");
    const { started, cont } = await enrolFirst(app, client, user, auth);
    expect((await passkeySignIn(started.browser, auth, cont)).status).toBe(200);

    const base = `http://127.0.0.1:8787/admin/apps/${app.id}/users/${user._id}/passkeys`;
    const admin = (path: string, init: RequestInit = {}) => SELF.fetch(`${base}${path}`, { ...init, headers: { ...ADMIN, "Content-Type": "application/json", ...(init.headers ?? {}) } });
    expect((await SELF.fetch(base)).status).toBe(401);
    const list = await (await admin("")).json<{ passkeys: { id: string; name: string; backed_up: boolean }[] }>();
    expect(list.passkeys).toMatchObject([{ id: auth.id, name: "Passkey 1", backed_up: false }]);
    expect(JSON.stringify(list)).not.toContain("public_key");
    const renamed = await admin(`/${auth.id}`, { method: "PATCH", body: JSON.stringify({ name: "Phone" }) });
    expect(await renamed.json()).toMatchObject({ id: auth.id, name: "Phone" });
    expect(await errorOf(await admin(`/${auth.id}`, { method: "PATCH", body: JSON.stringify({ name: 5 }) }))).toMatchObject({ status: 400 });
    expect((await admin(`/unknown`, { method: "DELETE" })).status).toBe(404);

    const reset = await admin("/reset", { method: "POST" });
    expect(await reset.json()).toMatchObject({ user_id: user._id, passkeys_deleted: 1, must_enrol: true });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM sessions WHERE app_id = ? AND user_id = ?").bind(app.id, user._id).first("n")).toBe(0);
    const event = await env.DB.prepare("SELECT type, data FROM events WHERE app_id = ? AND user_id = ? AND type = 'passkey.reset'").bind(app.id, user._id).first<{ data: string }>();
    expect(JSON.parse(event!.data)).toMatchObject({ deleted: 1, via: "operator" });
    // The old passkey is gone; the password leads to enrolment again, never to a session.
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    expect(await errorOf(await passkeySignIn(browser, auth, "/passkeys"))).toMatchObject({ status: 401, error: "access_denied" });
    const again = await postPassword(await openLogin(app, client), user);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain("Set up a passkey");
    expect(sessionCookies(again)).toEqual([]);
  });
});

describe("management API", () => {
  it("lists, renames and deletes a user's passkeys under /api/v1 (master credentials)", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const started = await passwordSession(app, client, user);
    const auth = await SoftAuthenticator.create("ES256");
    expect((await enrolSignedIn(started.browser, auth)).status).toBe(200);
    const base = `${app.origin}/api/v1/users/${user._id}/passkeys`;
    const master = { Authorization: basic(app.id, app.master_secret), "Content-Type": "application/json" };

    expect((await SELF.fetch(base)).status).toBe(401);
    expect(await (await SELF.fetch(base, { headers: master })).json()).toMatchObject({ code: "OK", passkeys: [{ id: auth.id, name: "Passkey 1" }] });
    const renamed = await SELF.fetch(`${base}/${auth.id}`, { method: "PATCH", headers: master, body: JSON.stringify({ name: "Work laptop" }) });
    expect(await renamed.json()).toMatchObject({ passkey: { id: auth.id, name: "Work laptop" } });
    const badName = await SELF.fetch(`${base}/${auth.id}`, { method: "PATCH", headers: master, body: JSON.stringify({ name: "x", extra: 1 }) });
    expect(badName.status).toBe(400);
    expect((await SELF.fetch(`${base}/nope`, { method: "DELETE", headers: master })).status).toBe(404);
    expect((await SELF.fetch(`${base}/${auth.id}`, { method: "DELETE", headers: master })).status).toBe(200);
    expect(await (await SELF.fetch(base, { headers: master })).json()).toMatchObject({ passkeys: [] });
    const events = await env.DB.prepare("SELECT type, source FROM events WHERE app_id = ? AND type LIKE 'passkey.%' ORDER BY created_at").bind(app.id).all();
    expect(events.results).toEqual([
      { type: "passkey.created", source: "user" },
      { type: "passkey.renamed", source: "api" },
      { type: "passkey.deleted", source: "api" },
    ]);
  });
});
