/**
 * Upstream sign-in in Chromium: the app page's PKCE redirect reaches the hosted login page,
 * the "Continue with …" button leads to the real provider's login page (oidc-provider on
 * loopback), and its sign-in comes back through Latch's callback to the app with a code
 * that exchanges for tokens recording the connection.
 */
import { decodeJwt } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, createApp, createClient } from "./harness";
import { startSignIn, useBrowserStack } from "./browser-helpers";
import { startUpstream, type TestUpstream } from "./upstream-provider";

const stack = useBrowserStack();
let upstream: TestUpstream | undefined;
afterAll(async () => upstream?.close());

describe("upstream sign-in in Chromium", () => {
  it("hosted button → upstream login page → back to the app with a code", async () => {
    const workerPort = new URL(stack.worker.url).port;
    const slug = `u${Date.now().toString(36)}`;
    const auth = `http://${slug}.localhost:${workerPort}`;
    const siteHost = `site${Date.now().toString(36)}.localhost`;
    const appOrigin = `http://${siteHost}:${stack.apps.port}`;
    const app = await createApp(stack.worker.url, { name: "Browser Upstream App", slug });
    const client = await createClient(stack.worker.url, app.id, { name: "spa", type: "public", redirect_uris: [`${appOrigin}/cb`], allowed_origins: [appOrigin] });
    upstream = await startUpstream([`${auth}/upstream/callback`], [{ sub: "browser-upstream", email: "browser@upstream.test", email_verified: true }]);
    const created = await fetch(`${stack.worker.url}/admin/apps/${app.id}/connections`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ strategy: "oidc:custom", name: "corp", display_name: "Corp SSO", options: { client_id: upstream.clientId, client_secret: upstream.clientSecret, issuer: upstream.issuer } }),
    });
    expect(created.status).toBe(201);
    stack.apps.configure(siteHost, auth, client.client_id);

    const context = await stack.browser.newContext();
    // The provider's development login page imports a web font; nothing leaves loopback.
    await context.route("**/*", (route) => {
      const host = new URL(route.request().url()).hostname;
      return host === "127.0.0.1" || host === "localhost" || host.endsWith(".localhost") ? route.continue() : route.abort();
    });
    const p = await context.newPage();
    await p.goto(`${appOrigin}/`);
    await p.waitForFunction(() => "latch" in globalThis);
    await startSignIn(p, auth);
    await Promise.all([p.waitForURL(`${upstream.issuer}/interaction/**`), p.click("text=Continue with Corp SSO")]);
    await p.fill("input[name=login]", "browser-upstream");
    await p.fill("input[name=password]", "any password");
    await Promise.all([p.waitForURL(`${appOrigin}/cb?**`), p.click("button[type=submit]")]);
    await p.waitForFunction(() => "latch" in globalThis);
    const done = (await p.evaluate(() => (globalThis as any).latch.complete())) as { status: number; body: Record<string, string> };
    expect(done.status).toBe(200);
    expect(decodeJwt(done.body.access_token!).auth_method).toBe("oidc:corp");
    expect(decodeJwt(done.body.id_token!).email).toBe("browser@upstream.test");
    await context.close();
  });
});
