/**
 * WebAuthn ceremonies against a software authenticator (ES256 and Ed25519, fmt "none"):
 * registration, sign-in, counters, single-use browser-bound challenges, origin / rpID /
 * key checks. Every refusal is asserted with its exact error and leaves no session.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addClient, Browser, decodeJwt, oauthApp, type OAuthTestApp, type TestClient } from "../oauth/helpers";
import { signup } from "../helpers";
import { SoftAuthenticator, type Alg } from "./authenticator";
import { ceremony, codeAndTokens, enrolSignedIn, openLogin, passkeySignIn, passwordSession } from "./helpers";

async function setup(): Promise<{ app: OAuthTestApp; client: TestClient; user: { _id: string; username: string; password: string } }> {
  const app = await oauthApp();
  const client = await addClient(app);
  const user = await signup(app);
  return { app, client, user };
}

/** A user with one enrolled passkey made by `auth`. */
async function enrolled(alg: Alg, opts: { counter?: number } = {}) {
  const s = await setup();
  const auth = await SoftAuthenticator.create(alg, opts);
  const signedIn = await passwordSession(s.app, s.client, s.user);
  const res = await enrolSignedIn(signedIn.browser, auth);
  expect(res.status).toBe(200);
  return { ...s, auth };
}

function sessionCookieOf(res: Response): string | undefined {
  return res.headers.getAll("Set-Cookie").find((l) => l.startsWith("latch_session="));
}

async function errorOf(res: Response) {
  return { status: res.status, ...(await res.json<{ error: string; error_description: string }>()) };
}

describe("registration and sign-in", () => {
  for (const alg of ["ES256", "Ed25519"] as const) {
    it(`${alg}: enrols, then signs in with the passkey; the token says auth_method passkey`, async () => {
      const { app, client, user, auth } = await enrolled(alg);
      const rows = await env.DB.prepare("SELECT * FROM passkeys WHERE app_id = ? AND user_id = ?").bind(app.id, user._id).all<Record<string, unknown>>();
      expect(rows.results).toHaveLength(1);
      expect(rows.results[0]).toMatchObject({ id: auth.id, counter: 0, transports: '["internal"]', device_type: "singleDevice", backed_up: 0, name: "Passkey 1" });

      const started = await openLogin(app, client);
      const cont = started.page.match(/data-continue="([^"]*)"/)![1]!.replace(/&amp;/g, "&");
      const res = await passkeySignIn(started.browser, auth, cont);
      expect(res.status).toBe(200);
      const { redirect } = await res.json<{ redirect: string }>();
      expect(redirect.startsWith("/oauth2/auth?")).toBe(true);
      expect(sessionCookieOf(res)).toBeDefined();
      const tokens = await codeAndTokens(started, client, redirect);
      expect(decodeJwt(tokens.access_token).payload).toMatchObject({ sub: user._id, auth_method: "passkey" });
      const session = await env.DB.prepare("SELECT auth_method FROM sessions WHERE app_id = ? AND user_id = ? AND kind = 'browser' ORDER BY created_at DESC").bind(app.id, user._id).first<{ auth_method: string }>();
      expect(session?.auth_method).toBe("passkey");
    });
  }

  it("refuses registration without a signed-in session", async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.fetch("/passkeys"); // sets the pre-login cookie
    const res = await ceremony(browser, "/passkeys/register/options", {});
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "login_required" });
  });

  it("refuses a registration whose user verification flag is missing", async () => {
    const s = await setup();
    const signedIn = await passwordSession(s.app, s.client, s.user);
    const auth = await SoftAuthenticator.create("ES256");
    const res = await enrolSignedIn(signedIn.browser, auth, { userVerified: false });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "invalid_request" });
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM passkeys WHERE app_id = ?").bind(s.app.id).first("n")).toBe(0);
  });

  it("refuses a registration for another origin or rpID, or with the wrong ceremony type", async () => {
    const s = await setup();
    const signedIn = await passwordSession(s.app, s.client, s.user);
    for (const bend of [{ origin: "https://evil.example" }, { rpId: "evil.example" }, { type: "webauthn.get" }]) {
      const res = await enrolSignedIn(signedIn.browser, await SoftAuthenticator.create("ES256"), bend);
      const err = await errorOf(res);
      expect(err).toMatchObject({ status: 400, error: "invalid_request" });
      expect(err.error_description).toMatch(/^The passkey could not be registered: /);
    }
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM passkeys WHERE app_id = ?").bind(s.app.id).first("n")).toBe(0);
  });

  it("refuses the same credential twice", async () => {
    const s = await setup();
    const signedIn = await passwordSession(s.app, s.client, s.user);
    const auth = await SoftAuthenticator.create("ES256");
    expect((await enrolSignedIn(signedIn.browser, auth)).status).toBe(200);
    // excludeCredentials names it; a misbehaving authenticator that re-registers anyway is refused.
    expect(await errorOf(await enrolSignedIn(signedIn.browser, auth))).toMatchObject({ status: 409, error: "invalid_request", error_description: "This passkey is already registered." });
  });
});

describe("challenges", () => {
  it("a challenge is single use: a replayed assertion is refused", async () => {
    const { app, auth } = await enrolled("ES256");
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    const opts = await (await ceremony(browser, "/passkeys/authenticate/options", {})).json<{ challenge_id: string; options: { challenge: string; rpId: string } }>();
    const response = await auth.assert(opts.options, app.origin);
    const first = await ceremony(browser, "/passkeys/authenticate/verify", { challenge_id: opts.challenge_id, response });
    expect(first.status).toBe(200);
    const replay = await ceremony(browser, "/passkeys/authenticate/verify", { challenge_id: opts.challenge_id, response });
    expect(await errorOf(replay)).toMatchObject({ status: 400, error: "invalid_request" });
    expect(sessionCookieOf(replay)).toBeUndefined();
  });

  it("a challenge is bound to the browser that asked for it", async () => {
    const { app, auth } = await enrolled("ES256");
    const mine = new Browser(app);
    await mine.fetch("/passkeys");
    const opts = await (await ceremony(mine, "/passkeys/authenticate/options", {})).json<{ challenge_id: string; options: { challenge: string } }>();
    const response = await auth.assert(opts.options, app.origin);
    const other = new Browser(app);
    await other.fetch("/passkeys");
    const res = await ceremony(other, "/passkeys/authenticate/verify", { challenge_id: opts.challenge_id, response });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "invalid_request" });
    // Still unused: the rightful browser can use it.
    expect((await ceremony(mine, "/passkeys/authenticate/verify", { challenge_id: opts.challenge_id, response })).status).toBe(200);
  });

  it("an expired challenge is refused", async () => {
    const { app, auth } = await enrolled("ES256");
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    const opts = await (await ceremony(browser, "/passkeys/authenticate/options", {})).json<{ challenge_id: string; options: { challenge: string } }>();
    await env.DB.prepare("UPDATE webauthn_challenges SET expires_at = ? WHERE id = ?").bind(Date.now() - 1, opts.challenge_id).run();
    const res = await ceremony(browser, "/passkeys/authenticate/verify", { challenge_id: opts.challenge_id, response: await auth.assert(opts.options, app.origin) });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "invalid_request" });
  });

  it("challenges live five minutes", async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    const before = Date.now();
    const opts = await (await ceremony(browser, "/passkeys/authenticate/options", {})).json<{ challenge_id: string }>();
    const row = await env.DB.prepare("SELECT expires_at, kind FROM webauthn_challenges WHERE id = ?").bind(opts.challenge_id).first<{ expires_at: number; kind: string }>();
    expect(row!.kind).toBe("authenticate");
    expect(row!.expires_at - before).toBeGreaterThanOrEqual(300_000);
    expect(row!.expires_at - before).toBeLessThan(305_000);
  });

  it("ceremony endpoints refuse another Origin, a missing Origin and a missing pre-login cookie", async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    expect(await errorOf(await ceremony(browser, "/passkeys/authenticate/options", {}))).toMatchObject({ status: 400, error: "invalid_request" });
    await browser.fetch("/passkeys");
    expect(await errorOf(await ceremony(browser, "/passkeys/authenticate/options", {}, { Origin: "https://evil.example" }))).toMatchObject({ status: 403, error: "access_denied" });
    const noOrigin = await browser.fetch("/passkeys/authenticate/options", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(await errorOf(noOrigin)).toMatchObject({ status: 403, error: "access_denied" });
    const get = await browser.fetch("/passkeys/authenticate/options");
    expect(get.status).toBe(405);
  });

  it("malformed verify bodies are 400 and consume nothing", async () => {
    const { app } = await setup();
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    for (const body of [{}, { challenge_id: "x", response: {} }, { challenge_id: 5, response: { id: "a", rawId: "a", type: "public-key", response: {} } }]) {
      expect(await errorOf(await ceremony(browser, "/passkeys/authenticate/verify", body))).toMatchObject({ status: 400, error: "invalid_request" });
    }
    const bad = await browser.fetch("/passkeys/authenticate/verify", { method: "POST", headers: { Origin: app.origin, "Content-Type": "application/json" }, body: "{nope" });
    expect(await errorOf(bad)).toMatchObject({ status: 400, error: "invalid_request" });
  });
});

describe("assertion checks", () => {
  async function attempt(alg: Alg, bend: Parameters<SoftAuthenticator["assert"]>[2], opts: { counter?: number } = {}) {
    const { app, auth } = await enrolled(alg, opts);
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    return { app, auth, res: await passkeySignIn(browser, auth, "/passkeys", typeof bend === "function" ? undefined : bend) };
  }

  it("refuses an assertion made for another origin", async () => {
    const { res } = await attempt("ES256", { origin: "https://evil.example" });
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 401, error: "access_denied" });
    expect(err.error_description).toMatch(/origin/i);
    expect(sessionCookieOf(res)).toBeUndefined();
  });

  it("refuses an assertion made for another rpID", async () => {
    const { res } = await attempt("Ed25519", { rpId: "evil.example" });
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 401, error: "access_denied" });
    expect(err.error_description).toMatch(/RP ID/i);
  });

  it("refuses a signature by another key", async () => {
    const other = await SoftAuthenticator.create("ES256");
    const { res } = await attempt("ES256", { signer: other });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "access_denied", error_description: "The passkey could not be verified: The signature could not be verified." });
    expect(sessionCookieOf(res)).toBeUndefined();
  });

  it("refuses an Ed25519 signature by another Ed25519 key", async () => {
    const other = await SoftAuthenticator.create("Ed25519");
    const { res } = await attempt("Ed25519", { signer: other });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "access_denied" });
  });

  it("refuses an unknown credential", async () => {
    const { res } = await attempt("ES256", { credentialId: crypto.getRandomValues(new Uint8Array(16)) });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "access_denied", error_description: "This passkey is not registered with this app." });
  });

  it("refuses a user handle that is not the credential's owner", async () => {
    const { res } = await attempt("ES256", { userHandle: "dXNlcl9vdGhlcg" });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "access_denied", error_description: "The passkey's user handle does not match its owner." });
  });

  it("refuses an assertion without user verification", async () => {
    const { res } = await attempt("ES256", { userVerified: false });
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 401, error: "access_denied" });
    expect(err.error_description).toMatch(/verif/i);
  });

  it("refuses a wrong ceremony type (a create response replayed as get)", async () => {
    const { res } = await attempt("ES256", { type: "webauthn.create" });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "access_denied" });
  });
});

describe("signature counters", () => {
  it("stores an increasing counter and refuses one that does not increase", async () => {
    const { app, auth } = await enrolled("ES256", { counter: 5 });
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    const ok = await passkeySignIn(browser, auth, "/passkeys"); // counter 6
    expect(ok.status).toBe(200);
    expect(await env.DB.prepare("SELECT counter FROM passkeys WHERE id = ?").bind(auth.id).first("counter")).toBe(6);

    for (const counter of [6, 3]) {
      const res = await passkeySignIn(browser, auth, "/passkeys", { counter });
      const err = await errorOf(res);
      expect(err).toMatchObject({ status: 401, error: "access_denied" });
      expect(err.error_description).toMatch(/counter/i);
    }
    expect(await env.DB.prepare("SELECT counter FROM passkeys WHERE id = ?").bind(auth.id).first("counter")).toBe(6);
    expect((await passkeySignIn(browser, auth, "/passkeys", { counter: 7 })).status).toBe(200);
  });

  it("accepts a counter that stays 0 when the authenticator does not use counters", async () => {
    const { app, auth } = await enrolled("Ed25519");
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    expect((await passkeySignIn(browser, auth, "/passkeys")).status).toBe(200);
    expect((await passkeySignIn(browser, auth, "/passkeys")).status).toBe(200);
    expect(await env.DB.prepare("SELECT counter FROM passkeys WHERE id = ?").bind(auth.id).first("counter")).toBe(0);
  });

  it("refuses a counter dropping back to 0 once counters are in use", async () => {
    const { app, auth } = await enrolled("ES256", { counter: 2 });
    const browser = new Browser(app);
    await browser.fetch("/passkeys");
    const err = await errorOf(await passkeySignIn(browser, auth, "/passkeys", { counter: 0 }));
    expect(err).toMatchObject({ status: 401, error: "access_denied" });
  });
});
