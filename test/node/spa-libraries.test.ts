/**
 * Standard SPA libraries, unmodified, in Chromium against an exchange-mode app (issue 11):
 * - oidc-client-ts 3: signinRedirect → hosted form → callback → a refresh through the
 *   library (signinSilent uses the refresh token) → signoutRedirect back to a registered URI;
 * - Kinde's SPA SDK (@kinde-oss/kinde-auth-pkce-js 4.5): login → getAccessToken/getUser →
 *   refresh → logout, in both of its modes: on 127.0.0.1 it keeps the refresh token from
 *   the body in local storage; on any other host it refreshes with `credentials: include`
 *   and no refresh token, which the cookie copy of a body-delivery client serves.
 * Both are ordinary clients: refresh_token_delivery is the default, `body`.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, signupUser } from "./browser-helpers";
import { createApp, createClient, startWorker, type CreatedApp, type RunningWorker } from "./harness";
import { resolveLocalhostSubdomains } from "./oauth-helpers";
import { startSpaServer, type SpaServer } from "./spa-server";
import type { Browser } from "playwright-core";

let worker: RunningWorker;
let spa: SpaServer;
let browser: Browser;
let app: CreatedApp;
let auth: string;
const PASSWORD = "spa libraries password";

beforeAll(async () => {
  resolveLocalhostSubdomains();
  [worker, spa, browser] = await Promise.all([
    startWorker(),
    startSpaServer({ "oidc-client-ts.js": ["oidc-client-ts", "dist/browser/oidc-client-ts.min.js"], "kinde.js": ["@kinde-oss/kinde-auth-pkce-js", "dist/kinde-auth-pkce-js.esm.js"] }),
    launchChromium(),
  ]);
  const slug = `spa${Date.now().toString(36)}`;
  app = await createApp(worker.url, { name: "SPA Libraries", slug, settings: { signing_alg: "RS256" } });
  auth = `http://${slug}.localhost:${new URL(worker.url).port}`;
});

afterAll(async () => {
  await browser?.close();
  await spa?.close();
  await worker?.dispose();
});

/** A registered public client for an SPA at `origin`, and a user to sign in with. */
async function setUp(origin: string, username: string) {
  const client = await createClient(worker.url, app.id, {
    name: username,
    type: "public",
    redirect_uris: [`${origin}/cb`],
    post_logout_redirect_uris: [`${origin}/bye`],
    allowed_origins: [origin],
  });
  const userId = await signupUser(worker.url, app, username, PASSWORD);
  return { client, userId };
}

async function fillHostedForm(p: Page, username: string) {
  await p.waitForURL(`${auth}/oauth2/auth?**`);
  await p.fill("input[name=username]", username);
  await p.fill("input[name=password]", PASSWORD);
  await p.click("button[type=submit]");
}

/** The refresh token is dead: its chain ended with the browser session. */
async function refreshRefused(clientId: string, refreshToken: string) {
  const res = await fetch(`${auth}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: clientId }),
  });
  expect({ status: res.status, error: ((await res.json()) as { error: string }).error }).toEqual({ status: 400, error: "invalid_grant" });
}

describe("oidc-client-ts in Chromium", () => {
  it("signinRedirect, the hosted form, the callback, a refresh through the library, signoutRedirect to a registered URI", async () => {
    const host = `oidc${Date.now().toString(36)}.localhost`;
    const origin = `http://${host}:${spa.port}`;
    const { client, userId } = await setUp(origin, "ada");
    spa.page(
      host,
      `<!doctype html><meta charset="utf-8"><title>oidc-client-ts</title><script src="/lib/oidc-client-ts.js"></script>
<script>
window.mgr = new oidc.UserManager({ authority: ${JSON.stringify(auth)}, client_id: ${JSON.stringify(client.client_id)},
  redirect_uri: location.origin + "/cb", post_logout_redirect_uri: location.origin + "/bye",
  response_type: "code", scope: "openid profile email offline", automaticSilentRenew: false,
  userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }) });
const plain = (u) => u && { access_token: u.access_token, refresh_token: u.refresh_token, id_token: u.id_token, sub: u.profile.sub, expired: u.expired };
window.app = {
  signIn: () => mgr.signinRedirect({ state: { back: "/" } }),
  callback: () => mgr.signinRedirectCallback().then(plain, (e) => ({ error: String(e) })),
  renew: () => mgr.signinSilent().then(plain, (e) => ({ error: String(e) })),
  signOut: () => mgr.signoutRedirect(),
};
</script>`,
    );
    const context = await browser.newContext();
    const p = await context.newPage();
    await p.goto(`${origin}/`);
    await p.evaluate(() => void (globalThis as any).app.signIn());
    await fillHostedForm(p, "ada");
    await p.waitForURL(`${origin}/cb?**`);
    const user = await p.evaluate(() => (globalThis as any).app.callback());
    expect(user.error).toBeUndefined();
    expect(user).toMatchObject({ sub: userId, expired: false });
    expect(typeof user.refresh_token).toBe("string");

    // signinSilent with a refresh token is a refresh_token grant, not an iframe.
    const renewed = await p.evaluate(() => (globalThis as any).app.renew());
    expect(renewed.error).toBeUndefined();
    expect(renewed.sub).toBe(userId);
    expect(renewed.access_token).not.toBe(user.access_token);
    expect(renewed.refresh_token).not.toBe(user.refresh_token);

    // signoutRedirect sends the ID token as id_token_hint: Latch signs out at once and returns to /bye.
    await Promise.all([p.waitForURL(`${origin}/bye**`), p.evaluate(() => void (globalThis as any).app.signOut())]);
    await refreshRefused(client.client_id, renewed.refresh_token);
    await context.close();
  });
});

describe("Kinde's SPA SDK in Chromium", () => {
  const kindePage = (clientId: string) => `<!doctype html><meta charset="utf-8"><title>kinde</title>
<script type="module">
import createKindeClient, { refreshToken, RefreshType } from "/lib/kinde.js";
window.kindeErrors = [];
window.kinde = createKindeClient({ client_id: ${JSON.stringify(clientId)}, domain: ${JSON.stringify(auth)},
  redirect_uri: location.origin + "/cb", logout_uri: location.origin + "/bye",
  on_error_callback: (e) => window.kindeErrors.push(e) });
window.app = {
  login: async () => (await window.kinde).login(),
  state: async () => {
    const k = await window.kinde;
    return { authenticated: await k.isAuthenticated(), token: await k.getAccessToken(), user: k.getUser(), errors: window.kindeErrors };
  },
  // The SDK's own refresh, as its timer and getAccessToken run it; the cookie flow off localhost.
  refresh: (cookie) => refreshToken({ domain: ${JSON.stringify(auth)}, clientId: ${JSON.stringify(clientId)}, refreshType: cookie ? RefreshType.cookie : RefreshType.refreshToken }),
  logout: async () => (await window.kinde).logout(),
};
</script>`;

  for (const mode of ["local storage (127.0.0.1)", "cookie refresh (any other host)"] as const) {
    it(`login, getAccessToken and getUser, refresh, logout: ${mode}`, async () => {
      const cookie = mode.startsWith("cookie");
      const host = cookie ? `kinde${Date.now().toString(36)}.localhost` : "127.0.0.1";
      const origin = `http://${host}:${spa.port}`;
      const username = cookie ? "kim" : "kit";
      const { client, userId } = await setUp(origin, username);
      spa.page(host, kindePage(client.client_id));

      const context = await browser.newContext();
      const p = await context.newPage();
      // What the token endpoint gave the page, to check afterwards that logout ended the chain.
      const issued: string[] = [];
      p.on("response", (r) => {
        if (r.url() === `${auth}/oauth2/token` && r.ok()) r.json().then((b: { refresh_token?: string }) => b.refresh_token && issued.push(b.refresh_token), () => undefined);
      });
      await p.goto(`${origin}/`);
      await p.waitForFunction(() => "app" in globalThis);
      await p.evaluate(() => void (globalThis as any).app.login());
      await fillHostedForm(p, username);
      await p.waitForURL(`${origin}/cb**`);
      await p.waitForFunction(() => "app" in globalThis);
      const signedIn = await p.evaluate(() => (globalThis as any).app.state());
      expect(signedIn.errors).toEqual([]);
      expect(signedIn.authenticated).toBe(true);
      expect(signedIn.user).toMatchObject({ id: userId, email: `${username}@example.com` });
      const first = JSON.parse(Buffer.from(signedIn.token.split(".")[1], "base64url").toString());
      expect(first).toMatchObject({ sub: userId, iss: auth, client_id: client.client_id });
      if (!cookie) expect(await p.evaluate(() => Object.values(localStorage).some((v) => /\.[A-Za-z0-9_-]{43}$/.test(String(v))))).toBe(true);

      const refreshed = await p.evaluate((c) => (globalThis as any).app.refresh(c), cookie);
      expect(refreshed.success).toBe(true);
      expect(refreshed.accessToken).not.toBe(signedIn.token);
      const after = await p.evaluate(() => (globalThis as any).app.state());
      expect(after.token).toBe(refreshed.accessToken);

      // Kinde's logout URL has no id_token_hint: Latch asks, and signing out returns to the registered URI.
      await p.evaluate(() => void (globalThis as any).app.logout());
      await p.waitForURL(`${auth}/logout?**`);
      expect(await p.textContent("h1")).toBe("Sign out?");
      await Promise.all([p.waitForURL(`${origin}/bye**`), p.click("button[type=submit]")]);
      expect(issued.length).toBeGreaterThanOrEqual(2);
      await refreshRefused(client.client_id, issued.at(-1)!);
      await context.close();
    });
  }
});
