/**
 * Passkeys in Chromium (SPEC §8) with the CDP virtual authenticator (ctap2, internal,
 * resident key, user verification): under passkey_required the first password sign-in
 * leads to enrolment on the hosted page, the new passkey signs in, and the app's access
 * token says `auth_method: "passkey"`. Then, with the auth host's cookies gone, the login
 * page's "Sign in with a passkey" signs in again, and the password alone is refused.
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { signupUser, startSignIn, useBrowserStack } from "./browser-helpers";
import { ADMIN_TOKEN, createApp, createClient } from "./harness";

const stack = useBrowserStack();

type Completed = { mode: string; status: number; body: Record<string, unknown> };
const complete = (p: Page) => p.evaluate(() => (globalThis as unknown as { latch: { complete(): Promise<unknown> } }).latch.complete()) as Promise<Completed>;
const appReady = (p: Page) => p.waitForFunction(() => "latch" in globalThis);

describe("passkeys in Chromium", () => {
  it("enrols on the hosted page under passkey_required, signs in with the passkey; the token says auth_method passkey", async () => {
    const workerPort = new URL(stack.worker.url).port;
    const slug = `pk${Date.now().toString(36)}`;
    const auth = `http://${slug}.localhost:${workerPort}`;
    const shopHost = `shop${slug}.localhost`;
    const appOrigin = `http://${shopHost}:${stack.apps.port}`;
    const app = await createApp(stack.worker.url, { name: "Passkey App", slug });
    const client = await createClient(stack.worker.url, app.id, { name: "spa", type: "public", redirect_uris: [`${appOrigin}/cb`], allowed_origins: [appOrigin], refresh_token_delivery: "cookie" });
    const password = "passkey app password";
    const userId = await signupUser(stack.worker.url, app, "ada", password);
    const patched = await fetch(`${stack.worker.url}/admin/apps/${app.id}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ settings: { auth_policy: "passkey_required" } }),
    });
    expect(patched.status).toBe(200);
    stack.apps.configure(shopHost, auth, client.client_id);

    const context = await stack.browser.newContext();
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const { authenticatorId } = (await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    })) as { authenticatorId: string };

    await p.goto(`${appOrigin}/`);
    await appReady(p);
    expect(await p.evaluate(() => (globalThis as unknown as { latch: { config(): Promise<unknown> } }).latch.config())).toMatchObject({ auth_policy: "passkey_required" });

    // First sign-in: the password leads to the enrolment page, not to the app.
    await startSignIn(p, auth);
    await p.fill("input[name=username]", "ada");
    await p.fill("input[name=password]", password);
    await Promise.all([p.waitForSelector("[data-passkey-enrol]"), p.click("button[type=submit]")]);
    expect(p.url().startsWith(`${auth}/oauth2/auth`)).toBe(true);
    expect((await context.cookies(auth)).map((c) => c.name)).not.toContain("latch_session");

    // Create the passkey; the page then signs in with it and lands on the app's callback.
    await Promise.all([p.waitForURL(`${appOrigin}/cb?**`, { timeout: 30_000 }), p.click("[data-passkey-enrol]")]);
    await appReady(p);
    const { credentials } = (await cdp.send("WebAuthn.getCredentials", { authenticatorId })) as unknown as { credentials: { isResidentCredential: boolean; rpId: string }[] };
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: `${slug}.localhost` });

    const first = await complete(p);
    expect(first.status).toBe(200);
    const jwks = createRemoteJWKSet(new URL(`${auth}/.well-known/jwks.json`));
    const verified = await jwtVerify(first.body.access_token as string, jwks, { issuer: auth, audience: client.client_id });
    expect(verified.payload).toMatchObject({ sub: userId, auth_method: "passkey" });

    // Signed out of the auth host: the login page's passkey button signs in again.
    await context.clearCookies();
    await p.goto(`${appOrigin}/`);
    await appReady(p);
    await startSignIn(p, auth);
    await p.waitForSelector("[data-passkey-signin]");
    await Promise.all([p.waitForURL(`${appOrigin}/cb?**`, { timeout: 30_000 }), p.click("[data-passkey-signin]")]);
    await appReady(p);
    const second = await complete(p);
    expect(second.status).toBe(200);
    expect((await jwtVerify(second.body.access_token as string, jwks, { issuer: auth, audience: client.client_id })).payload).toMatchObject({ sub: userId, auth_method: "passkey" });

    // The password alone is refused now.
    await context.clearCookies();
    await p.goto(`${appOrigin}/`);
    await appReady(p);
    await startSignIn(p, auth);
    await p.fill("input[name=username]", "ada");
    await p.fill("input[name=password]", password);
    const [refused] = await Promise.all([p.waitForResponse((r) => r.request().method() === "POST" && r.url().startsWith(`${auth}/oauth2/auth`)), p.click("button[type=submit]")]);
    expect(refused.status()).toBe(403);
    expect(await p.textContent("[role=alert]")).toContain("passkey only");
    await context.close();
  });
});
