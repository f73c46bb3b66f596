/**
 * The operator console in Chromium (issue 16): refused without the operator token; signed
 * in, it creates an app and a client, gives the app a custom domain (kiavi-auth.json on
 * that domain flips to cookie mode), finds a user and ends their sessions. Every effect is
 * checked through the APIs, not the console's own pages.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, signupUser } from "./browser-helpers";
import { ADMIN_TOKEN, startWorker, type RunningWorker } from "./harness";
import { resolveLocalhostSubdomains } from "./oauth-helpers";

let worker: RunningWorker;
let browser: Browser;
beforeAll(async () => {
  resolveLocalhostSubdomains();
  [worker, browser] = await Promise.all([startWorker(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await worker?.dispose();
});

const port = () => new URL(worker.url).port;
/** BASE_HOST of the `dev` environment is localhost: the console lives there only. */
const consoleUrl = (path = "") => `http://localhost:${port()}/console${path}`;

async function jsonAt(p: Page, url: string): Promise<Record<string, unknown>> {
  const res = await p.goto(url);
  expect(res?.status()).toBe(200);
  return JSON.parse(await res!.text()) as Record<string, unknown>;
}

async function secretOn(p: Page, label: string): Promise<string> {
  const text = await p.locator(`p:has-text("${label}:") code`).first().textContent();
  return (text ?? "").trim();
}

describe("operator console in Chromium", () => {
  it("is refused without the operator token", async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    await p.goto(consoleUrl("/apps"));
    expect(new URL(p.url()).pathname).toBe("/console");
    await p.fill("input[name=token]", "not-the-token");
    const [res] = await Promise.all([p.waitForResponse((r) => r.url().endsWith("/console/sign-in")), p.click("button[type=submit]")]);
    expect(res.status()).toBe(401);
    expect(await p.textContent("[role=alert]")).toContain("That is not the operator token.");
    expect((await context.cookies()).some((c) => c.name === "latch_console")).toBe(false);
    await p.goto(consoleUrl("/apps"));
    expect(new URL(p.url()).pathname).toBe("/console");
    // Without the cookie an action is refused outright; on an app's host the console does not exist.
    const post = await fetch(consoleUrl("/apps"), { method: "POST", body: new URLSearchParams({ name: "x", slug: "x" }), redirect: "manual" });
    expect(post.status).toBe(401);
    expect((await fetch(`http://demo.localhost:${port()}/console`)).status).toBe(404);
    await context.close();
  });

  it("signs in, creates an app and a client, sets a custom domain, finds a user and ends their sessions", async () => {
    const context = await browser.newContext();
    const p = await context.newPage();
    // The one enhancement script asks before destructive forms; the test says yes.
    const dialogs: string[] = [];
    p.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await p.goto(consoleUrl());
    await p.fill("input[name=token]", ADMIN_TOKEN);
    await Promise.all([p.waitForURL(consoleUrl("/apps")), p.click("button[type=submit]")]);
    const [cookie] = (await context.cookies(consoleUrl())).filter((c) => c.name === "latch_console");
    expect(cookie).toMatchObject({ path: "/console", httpOnly: true, secure: true, sameSite: "Strict" });

    // An app: its secrets are shown once.
    const slug = `con${Date.now().toString(36)}`;
    await p.fill("input[name=name]", "Console Shop");
    await p.fill("input[name=slug]", slug);
    await Promise.all([p.waitForSelector("text=Secrets, shown once"), p.click("text=Create app")]);
    const appId = await secretOn(p, "App id");
    const appSecret = await secretOn(p, "App secret");
    const masterSecret = await secretOn(p, "Master secret");
    expect(appId).toMatch(/^kid_/);
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
    expect(await (await fetch(`${worker.url}/admin/apps/${appId}`, { headers: admin })).json()).toMatchObject({ slug, name: "Console Shop", mode: "exchange" });
    await Promise.all([p.waitForURL(consoleUrl(`/apps/${appId}`)), p.click("text=Continue to the app")]);

    // A client.
    await p.fill("#client_name", "Storefront");
    await p.selectOption("#client_type", "public");
    await p.fill("#redirect_uris", "https://shop.example/cb");
    await Promise.all([p.waitForSelector("#client-id"), p.click("text=Create client")]);
    const clientId = ((await p.textContent("#client-id")) ?? "").trim();
    const { clients } = (await (await fetch(`${worker.url}/admin/apps/${appId}/clients`, { headers: admin })).json()) as { clients: Record<string, unknown>[] };
    expect(clients).toMatchObject([{ client_id: clientId, name: "Storefront", type: "public", redirect_uris: ["https://shop.example/cb"] }]);

    // The custom domain: the app's browser mode becomes cookie, on auth.{domain}.
    const domain = `${slug}.localhost`;
    expect(await jsonAt(p, `http://${slug}.localhost:${port()}/.well-known/kiavi-auth.json`)).toMatchObject({ mode: "exchange" });
    await p.goto(consoleUrl(`/apps/${appId}`));
    expect(await p.textContent("#mode")).toBe("exchange");
    await p.fill("#custom_domain", domain);
    await Promise.all([p.waitForURL(consoleUrl(`/apps/${appId}?done=saved`)), p.click("text=Save app")]);
    expect(await p.textContent("#mode")).toBe("cookie");
    expect(await jsonAt(p, `http://auth.${domain}:${port()}/.well-known/kiavi-auth.json`)).toMatchObject({ mode: "cookie", issuer: `http://auth.${domain}:${port()}` });

    // A user with a session: found by username, their sessions ended.
    const userId = await signupUser(worker.url, { id: appId, app_secret: appSecret }, `ada${slug}`, "console user password");
    const login = await fetch(`${worker.url}/user/${appId}/login`, {
      method: "POST",
      headers: { Authorization: `Basic ${btoa(`${appId}:${appSecret}`)}`, "Content-Type": "application/json" },
      body: JSON.stringify({ username: `ada${slug}`, password: "console user password" }),
    });
    const authtoken = ((await login.json()) as { _kmd: { authtoken: string } })._kmd.authtoken;
    const me = () => fetch(`${worker.url}/user/${appId}/_me`, { headers: { Authorization: `Kinvey ${authtoken}` } }).then((r) => r.status);
    expect(await me()).toBe(200);

    await p.goto(consoleUrl(`/apps/${appId}/users`));
    await p.fill("#q", `ada${slug}`);
    await Promise.all([p.waitForURL(/\/users\?q=/), p.click("text=Search")]);
    await Promise.all([p.waitForURL(consoleUrl(`/apps/${appId}/users/${userId}`)), p.click(`text=ada${slug}`)]);
    expect(await p.textContent("#session-count")).toBe("2");
    await Promise.all([p.waitForURL(/done=sessions-ended/), p.click("text=End all sessions")]);
    expect(await p.textContent("#session-count")).toBe("0");
    expect(dialogs).toEqual(["End every session and refresh chain of this user?"]);
    expect(await me()).toBe(401);
    const sessions = await fetch(`http://auth.${domain}:${port()}/api/v1/users/${userId}/sessions`, { headers: { Authorization: `Basic ${btoa(`${appId}:${masterSecret}`)}` } });
    expect(await sessions.json()).toMatchObject({ sessions: [] });

    // Signed out, the console is refused again.
    await Promise.all([p.waitForURL(consoleUrl()), p.click("text=Sign out")]);
    await p.goto(consoleUrl("/apps"));
    expect(new URL(p.url()).pathname).toBe("/console");
    await context.close();
  });
});
