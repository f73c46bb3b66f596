/**
 * Cookie tossing: a sibling subdomain can set a second cookie of Latch's name (Domain set
 * to the parent, a longer Path so it is sent first). When a name arrives twice, Latch uses
 * neither: the browser is treated as signed out, never as whichever cookie came first.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { startChain } from "../../worker/chains/api";
import { prepareSession } from "../../worker/identity/sessions";
import { appById, clearAppCache, type App } from "../../worker/tenancy/apps";
import { createApp, signup, uniqueSlug, type SignedUp, type TestApp } from "../helpers";
import { addClient, authorizePath, pkce, REDIRECT } from "../oauth/helpers";

async function cookieApp(): Promise<{ test: TestApp; app: App; user: SignedUp; origin: string; appOrigin: string }> {
  const domain = `${uniqueSlug("d")}.example`;
  const appOrigin = `https://app.${domain}`;
  const test = await createApp({ custom_domain: domain, settings: { allowed_origins: [appOrigin] } });
  clearAppCache();
  return { test, app: (await appById(env, test.id))!, user: await signup(test), origin: `https://auth.${domain}`, appOrigin };
}

async function sessionToken(app: App, userId: string): Promise<string> {
  const s = await prepareSession(env, app.id, userId, "browser", { expiresAt: Date.now() + 3600_000 });
  await s.statement.run();
  return s.token;
}

async function errorCode(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { error: string }).error];
}

describe("two latch_session cookies are no session", () => {
  it("GET /session answers as signed out: the victim's and a tossed one, or one value twice", async () => {
    const f = await cookieApp();
    const mine = await sessionToken(f.app, f.user._id);
    // The attacker's own session, tossed from a sibling subdomain: the victim would act as them.
    const tossed = await sessionToken(f.app, (await signup(f.test))._id);
    const headers = { Origin: f.appOrigin, "Sec-Fetch-Site": "same-site" };
    const one = await SELF.fetch(`${f.origin}/session`, { headers: { ...headers, Cookie: `__Secure-latch_session=${mine}` } });
    expect(one.status).toBe(200);
    for (const cookie of [
      `__Secure-latch_session=${tossed}; __Secure-latch_session=${mine}`,
      `__Secure-latch_session=${mine}; __Secure-latch_session=${tossed}`,
      `__Secure-latch_session=${mine}; other=1; __Secure-latch_session=${mine}`,
    ]) {
      expect(await errorCode(await SELF.fetch(`${f.origin}/session`, { headers: { ...headers, Cookie: cookie } }))).toEqual([401, "login_required"]);
    }
  });

  it("/oauth2/auth shows the login page instead of signing in silently", async () => {
    const f = await cookieApp();
    const client = await addClient(f.test);
    const token = await sessionToken(f.app, f.user._id);
    const { challenge } = await pkce();
    const path = authorizePath({ response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT, scope: "openid", state: "s", code_challenge: challenge, code_challenge_method: "S256" });
    const silent = await SELF.fetch(`${f.origin}${path}`, { headers: { Cookie: `__Secure-latch_session=${token}` }, redirect: "manual" });
    expect(silent.status).toBe(302);
    expect(new URL(silent.headers.get("Location")!).searchParams.get("code")).toBeTruthy();
    const tossed = await SELF.fetch(`${f.origin}${path}`, {
      headers: { Cookie: `__Secure-latch_session=${token}; __Secure-latch_session=${token}` },
      redirect: "manual",
    });
    expect(tossed.status).toBe(200);
    expect(await tossed.text()).toMatch(/name="password"/);
  });
});

describe("two refresh cookies are no refresh cookie", () => {
  it("POST /refresh answers 401 invalid_grant and rotates nothing: the single cookie still works", async () => {
    const test = await createApp();
    clearAppCache();
    const app = (await appById(env, test.id))!;
    const appOrigin = `https://shop-${test.slug}.example`;
    const client = await addClient(test, { allowed_origins: [appOrigin], redirect_uris: [`${appOrigin}/cb`], refresh_token_delivery: "cookie" });
    const user = await signup(test);
    const chain = await startChain(env, app, user._id, {
      clientId: client.client_id,
      sessionId: null,
      scope: "openid offline",
      authTime: Math.floor(Date.now() / 1000),
      authMethod: "password",
      claims: { email_verified: false, preferred_username: user.username, permissions: [], roles: [], feature_flags: {} },
    });
    const cookie = `latch_rt=${client.client_id}~${chain.refreshToken}`;
    const refresh = (value: string) =>
      SELF.fetch(`http://${test.slug}.localhost:8787/refresh`, { method: "POST", headers: { Origin: appOrigin, "Sec-Fetch-Site": "cross-site", Cookie: value } });
    expect(await errorCode(await refresh(`${cookie}; latch_rt=${client.client_id}~forged`))).toEqual([401, "invalid_grant"]);
    expect(await errorCode(await refresh(`${cookie}; ${cookie}`))).toEqual([401, "invalid_grant"]);
    expect((await refresh(cookie)).status).toBe(200);
  });
});
