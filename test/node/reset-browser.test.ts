/**
 * Password reset in Chromium (issue 14): the app's sign-in leads to the hosted page,
 * "Forgot password?" mails a link, the dev mailbox shows it, the link's page sets a new
 * password, and "Sign in" goes back to the app's authorization request, which the new
 * password completes (the old one no longer does).
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { signInOnHostedPage, signupUser, startSignIn, useBrowserStack } from "./browser-helpers";
import { createApp, createClient } from "./harness";

const stack = useBrowserStack();

type Completed = { mode: string; status: number; body: Record<string, unknown> };
const complete = (p: Page) => p.evaluate(() => (globalThis as unknown as { latch: { complete(): Promise<unknown> } }).latch.complete()) as Promise<Completed>;

describe("password reset in Chromium", () => {
  it("forgot password → mailbox → reset → sign in with the new password", async () => {
    const workerPort = new URL(stack.worker.url).port;
    const slug = `rs${Date.now().toString(36)}`;
    const auth = `http://${slug}.localhost:${workerPort}`;
    const shopHost = `shop${slug}.localhost`;
    const appOrigin = `http://${shopHost}:${stack.apps.port}`;
    const app = await createApp(stack.worker.url, { name: "Reset App", slug });
    const client = await createClient(stack.worker.url, app.id, { name: "spa", type: "public", redirect_uris: [`${appOrigin}/cb`], allowed_origins: [appOrigin] });
    const username = `ada${slug}`;
    await signupUser(stack.worker.url, app, username, "the old password");
    stack.apps.configure(shopHost, auth, client.client_id);

    const context = await stack.browser.newContext();
    const p = await context.newPage();
    await p.goto(`${appOrigin}/`);
    await p.waitForFunction(() => "latch" in globalThis);
    await startSignIn(p, auth);

    await Promise.all([p.waitForURL(`${auth}/account/forgot-password?**`), p.click("text=Forgot password?")]);
    await p.fill("input[name=username]", `${username}@example.com`);
    await Promise.all([p.waitForSelector("[data-check-email]"), p.click("button[type=submit]")]);

    // The dev mailbox, as a developer would open it; the outbox delivers within moments.
    const mailbox = `${auth}/dev/mailbox?to=${encodeURIComponent(`${username}@example.com`)}`;
    await p.goto(mailbox);
    for (let i = 0; i < 100 && !(await p.$("[data-mail-link]")); i++) {
      await new Promise((r) => setTimeout(r, 100));
      await p.goto(mailbox);
    }
    expect(await p.textContent("strong")).toBe("Reset your Reset App password");
    await Promise.all([p.waitForURL(`${auth}/account/reset-password?token=**`), p.click("[data-mail-link]")]);

    await p.fill("input[name=password]", "the new password");
    await p.fill("input[name=password_confirm]", "the new password");
    await Promise.all([p.waitForSelector("[data-done]"), p.click("button[type=submit]")]);
    expect(await p.textContent("[data-done]")).toContain("Your password has been changed");

    // "Sign in" returns to the app's authorization request; the old password is refused there.
    await Promise.all([p.waitForURL(`${auth}/oauth2/auth?**`), p.click("[data-continue]")]);
    await p.fill("input[name=username]", username);
    await p.fill("input[name=password]", "the old password");
    await Promise.all([p.waitForSelector("p.error"), p.click("button[type=submit]")]);
    expect(await p.textContent("p.error")).toContain("Incorrect username or password");
    await signInOnHostedPage(p, username, "the new password", appOrigin);
    const done = await complete(p);
    expect(done).toMatchObject({ mode: "exchange", status: 200 });
    expect(typeof done.body.access_token).toBe("string");
    await context.close();
  });
});
