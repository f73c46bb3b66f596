/**
 * Cookie mode in Chromium (SPEC §6): an app page on app.{custom}.localhost signs in through
 * the hosted page on auth.{custom}.localhost, reads /session and /session/token with
 * credentials, the JWT verifies against the JWKS; a page that is not allow-listed can
 * neither read the session nor log it out; logout makes /session answer 401.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createApp, createClient } from "./harness";
import { signInOnHostedPage, signupUser, startSignIn, useBrowserStack } from "./browser-helpers";

const stack = useBrowserStack();

type CallResult = { status?: number; body?: any; error?: string };
const call = (p: Page, url: string, init: RequestInit = {}) => p.evaluate(([u, i]) => (globalThis as any).latch.call(u, i), [url, init] as const) as Promise<CallResult>;

describe("cookie mode in Chromium", () => {
  it("signs in on the hosted page, reads /session and /session/token, refuses other pages, logs out", async () => {
    const workerPort = new URL(stack.worker.url).port;
    const domain = `acme${Date.now().toString(36)}.localhost`;
    const auth = `http://auth.${domain}:${workerPort}`;
    const appOrigin = `http://app.${domain}:${stack.apps.port}`;
    const app = await createApp(stack.worker.url, { name: "Cookie App", custom_domain: domain, settings: { allowed_origins: [appOrigin] } });
    const client = await createClient(stack.worker.url, app.id, { name: "web", type: "public", redirect_uris: [`${appOrigin}/cb`] });
    const password = "cookie mode password";
    const userId = await signupUser(stack.worker.url, app, "ada", password);
    for (const host of [`app.${domain}`, `evil.${domain}`, "evil.localhost"]) stack.apps.configure(host, auth, client.client_id);

    const context = await stack.browser.newContext();
    const p = await context.newPage();
    await p.goto(`${appOrigin}/`);
    await p.waitForFunction(() => "latch" in globalThis);
    const config = (await p.evaluate(() => (globalThis as any).latch.config())) as Record<string, unknown>;
    expect(config).toMatchObject({ mode: "cookie", issuer: auth, cookie_domain: domain, session_endpoint: `${auth}/session` });

    // Sign in through the hosted page; it sets the session cookie on the parent domain.
    await startSignIn(p, auth);
    await signInOnHostedPage(p, "ada", password, appOrigin);
    expect(await p.evaluate(() => (globalThis as any).latch.complete())).toEqual({ mode: "cookie" });
    const [cookie] = (await context.cookies(auth)).filter((c) => c.name === "latch_session");
    expect(cookie).toMatchObject({ domain: `.${domain}`, path: "/", httpOnly: true, secure: false, sameSite: "Lax" });
    // HttpOnly: invisible to the app's script.
    expect(await p.evaluate(() => (globalThis as any).document.cookie as string)).not.toContain("latch_session");

    const session = await call(p, `${auth}/session`);
    expect(session.status).toBe(200);
    expect(session.body.user).toMatchObject({ id: userId, username: "ada", email: "ada@example.com" });
    expect(session.body.auth_method).toBe("password");
    expect(session.body.auth_policy).toBe("none");

    const token = await call(p, `${auth}/session/token`);
    expect(token.status).toBe(200);
    expect(token.body.token_type).toBe("Bearer");
    const jwks = createRemoteJWKSet(new URL(`${auth}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(token.body.access_token, jwks, { issuer: auth, audience: app.id });
    expect(payload).toMatchObject({ sub: userId, sid: session.body.session.id, email: "ada@example.com", auth_method: "password" });

    // A same-site page that is not allow-listed: the cookie travels, but CORS and the
    // Origin check stop it; its cross-origin POST /logout is refused and changes nothing.
    for (const evil of [`http://evil.${domain}:${stack.apps.port}`, `http://evil.localhost:${stack.apps.port}`]) {
      const e = await context.newPage();
      // What the server answered, even where CORS hides it from the page: CDP sees the wire.
      const statuses: Record<string, number> = {};
      const requests = new Map<string, string>();
      const cdp = await context.newCDPSession(e);
      await cdp.send("Network.enable");
      cdp.on("Network.requestWillBeSent", (ev) => requests.set(ev.requestId, `${ev.request.method} ${new URL(ev.request.url).pathname}`));
      cdp.on("Network.responseReceivedExtraInfo", (ev) => {
        const name = requests.get(ev.requestId);
        if (name) statuses[name] = ev.statusCode;
      });
      await e.goto(`${evil}/`);
      await e.waitForFunction(() => "latch" in globalThis);
      const read = await call(e, `${auth}/session`);
      expect(read.error).toMatch(/Failed to fetch/);
      expect(read.body).toBeUndefined();
      const tokenRead = await call(e, `${auth}/session/token`);
      expect(tokenRead.error).toMatch(/Failed to fetch/);
      const logout = await call(e, `${auth}/logout`, { method: "POST" });
      expect(logout.error).toMatch(/Failed to fetch/);
      // CDP reports the wire asynchronously, possibly after the page saw the failure.
      await expect.poll(() => statuses["GET /session"], { timeout: 10_000 }).toBe(403);
      await expect.poll(() => statuses["GET /session/token"], { timeout: 10_000 }).toBe(403);
      await expect.poll(() => statuses["POST /logout"], { timeout: 10_000 }).toBe(403);
      await e.close();
    }
    expect((await call(p, `${auth}/session`)).status).toBe(200);

    // Logout from the app ends the session: /session is a readable 401 afterwards.
    const out = await call(p, `${auth}/logout`, { method: "POST" });
    expect(out.status).toBe(204);
    expect((await context.cookies(auth)).filter((c) => c.name === "latch_session")).toEqual([]);
    const after = await call(p, `${auth}/session`);
    expect(after.status).toBe(401);
    expect(after.body.error).toBe("login_required");
    await context.close();
  });
});
