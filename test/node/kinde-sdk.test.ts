/**
 * The unmodified @kinde-oss/kinde-typescript-sdk against the running worker (SPEC §4):
 * authDomain is the app's issuer over http; PKCE and authorization-code flows; tokens
 * are validated by Kinde's own validator against our JWKS.
 */
import { createKindeServerClient, GrantType, type SessionManager } from "@kinde-oss/kinde-typescript-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./harness";
import { createClient, createOAuthApp, hiddenFields, Jar, kinveySignup, resolveLocalhostSubdomains, signInThroughForm, type OAuthApp } from "./oauth-helpers";

class MemorySession implements SessionManager {
  items = new Map<string, unknown>();
  persistent = true;
  async getSessionItem(key: string) {
    return this.items.get(key) ?? null;
  }
  async setSessionItem(key: string, value: unknown) {
    this.items.set(key, value);
  }
  async removeSessionItem(key: string) {
    this.items.delete(key);
  }
  async destroySession() {
    this.items.clear();
  }
}

let worker: RunningWorker;
let app: OAuthApp;
const REDIRECT = "http://127.0.0.1:9998/kinde_callback";
const LOGOUT = "http://127.0.0.1:9998/";

beforeAll(async () => {
  resolveLocalhostSubdomains();
  worker = await startWorker();
  app = await createOAuthApp(worker.url, { name: "Kinde App", settings: { signing_alg: "RS256" } }); // Kinde validates RSA only
  await kinveySignup(worker.url, app, "kim", "kim password 1", { email: "kim@example.com", given_name: "Kim", family_name: "Kinde" });
});

afterAll(async () => {
  await worker?.dispose();
});

describe("@kinde-oss/kinde-typescript-sdk", () => {
  it("PKCE flow: login URL, code exchange, validated tokens, user profile, refresh, logout", async () => {
    const registered = await createClient(worker.url, app.id, { name: "kinde-spa", type: "public", redirect_uris: [REDIRECT], post_logout_redirect_uris: [LOGOUT] });
    const kinde = createKindeServerClient(GrantType.PKCE, { authDomain: app.origin, clientId: registered.client_id, redirectURL: REDIRECT, logoutRedirectURL: LOGOUT });
    const session = new MemorySession();
    const loginUrl = await kinde.login(session, { authUrlParams: { lang: "en", login_hint: "kim" } });
    expect(loginUrl.origin).toBe(app.origin);
    expect(loginUrl.searchParams.get("code_challenge_method")).toBe("S256");

    const jar = new Jar();
    const callback = await signInThroughForm(jar, loginUrl, { username: "kim", password: "kim password 1" });
    await kinde.handleRedirectToApp(session, callback);
    expect(await kinde.isAuthenticated(session)).toBe(true);
    const access = (await kinde.getToken(session)) as string;
    expect(access.split(".")).toHaveLength(3);

    const profile = await kinde.getUserProfile(session);
    expect(profile).toMatchObject({ given_name: "Kim", family_name: "Kinde", email: "kim@example.com" });
    const user = await kinde.getUser(session);
    expect(user).toMatchObject({ given_name: "Kim", email: "kim@example.com" });
    expect(await kinde.getClaimValue(session, "app_slug")).toBe(app.slug);

    const before = await session.getSessionItem("refresh_token");
    const refreshed = await kinde.refreshTokens(session);
    expect(refreshed.access_token).toBeTypeOf("string");
    expect(await session.getSessionItem("refresh_token")).not.toBe(before);
    expect(await kinde.isAuthenticated(session)).toBe(true);

    // Kinde's logout URL carries no id_token_hint, so Latch asks first (RP-Initiated Logout §2).
    const logoutUrl = await kinde.logout(session);
    const page = await jar.fetch(logoutUrl);
    expect(page.status).toBe(200);
    const out = await jar.fetch(new URL("/logout", logoutUrl), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: logoutUrl.origin },
      body: hiddenFields(await page.text()),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe(LOGOUT);
  });

  it("authorization-code flow with a client secret", async () => {
    const registered = await createClient(worker.url, app.id, { name: "kinde-web", type: "confidential", redirect_uris: [REDIRECT] });
    expect(registered.client_secret).toMatch(/^[A-Za-z0-9]{50}$/);
    const kinde = createKindeServerClient(GrantType.AUTHORIZATION_CODE, {
      authDomain: app.origin,
      clientId: registered.client_id,
      clientSecret: registered.client_secret!,
      redirectURL: REDIRECT,
      logoutRedirectURL: LOGOUT,
    });
    const session = new MemorySession();
    const loginUrl = await kinde.login(session);
    const callback = await signInThroughForm(new Jar(), loginUrl, { username: "kim@example.com", password: "kim password 1" });
    await kinde.handleRedirectToApp(session, callback);
    expect(await kinde.isAuthenticated(session)).toBe(true);
    const profile = await kinde.getUserProfile(session);
    expect(profile).toMatchObject({ email: "kim@example.com" });
    const refreshed = await kinde.refreshTokens(session);
    expect(refreshed.refresh_token).toBeTypeOf("string");

    // A register URL opens the sign-up page.
    const register = await kinde.register(new MemorySession());
    const page = await new Jar().fetch(register);
    expect(await page.text()).toContain("Create your account");
  });

  it("client credentials", async () => {
    const m2m = await createClient(worker.url, app.id, { name: "kinde-m2m", type: "m2m", scopes: ["read:users"] });
    const kinde = createKindeServerClient(GrantType.CLIENT_CREDENTIALS, {
      authDomain: app.origin,
      clientId: m2m.client_id,
      clientSecret: m2m.client_secret!,
      logoutRedirectURL: LOGOUT,
    });
    const session = new MemorySession();
    const token = await kinde.getToken(session);
    expect(token.split(".")).toHaveLength(3);
    expect(await kinde.isAuthenticated(session)).toBe(true);
  });
});
