/**
 * @latch/browser in Chromium: an app page on a loopback origin loads the BUILT SDK
 * (sdk/browser/dist, ES modules, no bundler) and runs it against the running worker.
 * - exchange mode: sign-in through the hosted page, getAccessToken/getUser, a burst of 20
 *   calls near expiry that sends exactly one /refresh (counted from the network log), an
 *   offline /refresh that keeps state, passkey settings, a second tab that picks up the
 *   session, sign-out, and the 401 that then clears the other tab;
 * - cookie mode, reached by the mode flip: the page is configured with the app's Latch
 *   subdomain; after a PATCH of custom_domain the next page load picks cookie mode on
 *   auth.{domain}.localhost, and the same flow runs through /session/token.
 */
import http from "node:http";
import { readFile } from "node:fs/promises";
import { resolve, normalize } from "node:path";
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, signupUser } from "./browser-helpers";
import { ADMIN_TOKEN, createApp, createClient, startWorker, type RunningWorker } from "./harness";
import { resolveLocalhostSubdomains } from "./oauth-helpers";

const DIST = resolve("sdk/browser/dist");
const TTL = 600;

/** The app's page: the SDK from /sdk/, a clock the test can move (window.skew), and the auth events seen. */
function appPage(issuer: string, clientId: string): string {
  return `<!doctype html><meta charset="utf-8"><title>sdk app</title><p>app</p>
<script type="module">
import { LatchClient } from "/sdk/index.js";
window.skew = 0;
window.events = [];
window.latch = new LatchClient({ issuer: ${JSON.stringify(issuer)}, clientId: ${JSON.stringify(clientId)},
  redirectUri: location.origin + "/cb", now: () => Date.now() + window.skew });
window.latch.onAuthStateChange((event) => window.events.push(event));
window.sdkReady = true;
</script>`;
}

interface Sites {
  port: number;
  set(host: string, issuer: string, clientId: string): void;
  close(): Promise<void>;
}

async function startSites(): Promise<Sites> {
  const sites = new Map<string, { issuer: string; clientId: string }>();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/sdk/")) {
      const file = normalize(resolve(DIST, url.pathname.slice("/sdk/".length)));
      if (!file.startsWith(DIST) || !/\.js(\.map)?$/.test(file)) return void res.writeHead(404).end();
      const body = await readFile(file).catch(() => null);
      if (!body) return void res.writeHead(404).end();
      return void res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(body);
    }
    const site = sites.get(String(req.headers.host ?? "").replace(/:\d+$/, ""));
    if (!site) return void res.writeHead(404).end("unknown site");
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(appPage(site.issuer, site.clientId));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    port: (server.address() as { port: number }).port,
    set: (host, issuer, clientId) => sites.set(host, { issuer, clientId }),
    close: () => new Promise((done) => server.close(() => done())),
  };
}

let worker: RunningWorker;
let sites: Sites;
let browser: Browser;

beforeAll(async () => {
  resolveLocalhostSubdomains();
  [worker, sites, browser] = await Promise.all([startWorker(), startSites(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await sites?.close();
});

// --- page helpers (the SDK runs in the page; these only call it)

type Got = { token: string | null } | { error: string; retryable: boolean };
const ready = (p: Page) => p.waitForFunction(() => (globalThis as any).sdkReady === true);
const getToken = (p: Page) =>
  p.evaluate(async () => {
    try {
      return { token: await (globalThis as any).latch.getAccessToken() };
    } catch (e: any) {
      return { error: e.code, retryable: e.retryable };
    }
  }) as Promise<Got>;
const tokenOf = async (p: Page) => {
  const got = await getToken(p);
  if (!("token" in got)) throw new Error(`getAccessToken failed: ${JSON.stringify(got)}`);
  return got.token;
};
const setSkew = (p: Page, ms: number) => p.evaluate((v) => void ((globalThis as any).skew = v), ms);
const events = (p: Page) => p.evaluate(() => [...(globalThis as any).events]) as Promise<string[]>;
const storage = (p: Page) =>
  p.evaluate(() => ({
    session: Object.keys(sessionStorage).sort(),
    local: Object.keys(localStorage).length,
    cookies: (globalThis as any).document.cookie as string,
  }));

/** Counts the responses Latch sent to `path` (the network log: what reached the server and came back). */
function countResponses(p: Page, method: string, path: string): () => number {
  let n = 0;
  p.on("response", (r) => {
    if (r.request().method() === method && new URL(r.url()).pathname === path) n++;
  });
  return () => n;
}

/** signIn() from the app page, the hosted form, and back on /cb with the redirect handled. */
async function signIn(p: Page, auth: string, appOrigin: string, username: string, password: string): Promise<void> {
  const from = p.url();
  await Promise.all([p.waitForURL(`${auth}/oauth2/auth?**`), p.evaluate(() => void (globalThis as any).latch.signIn())]);
  await p.fill("input[name=username]", username);
  await p.fill("input[name=password]", password);
  await Promise.all([p.waitForURL(`${appOrigin}/cb?**`), p.click("button[type=submit]")]);
  await ready(p);
  expect(await p.evaluate(() => (globalThis as any).latch.handleRedirect())).toEqual({ returnTo: from });
  expect(p.url()).toBe(`${appOrigin}/cb`);
}

/**
 * A second tab of the same browser: its own sessionStorage, the same cookies. It picks up
 * the live session by itself (one refresh), and, once the first tab signed out, its next
 * refresh near expiry is answered 401, which alone clears its state.
 */
async function secondTab(context: BrowserContext, url: string, refreshMethod: string, refreshPath: string) {
  const tab = await context.newPage();
  const refreshes = countResponses(tab, refreshMethod, refreshPath);
  await tab.goto(url);
  await ready(tab);
  expect(await tokenOf(tab)).toBeTruthy();
  expect(await events(tab)).toEqual(["SIGNED_IN"]);
  expect(refreshes()).toBe(1);
  return {
    async expectClearedBy401() {
      await setSkew(tab, (TTL - 10) * 1000);
      expect(await getToken(tab)).toEqual({ token: null });
      expect(refreshes()).toBe(2);
      expect((await storage(tab)).session).toEqual([]);
      expect(await events(tab)).toEqual(["SIGNED_IN", "SIGNED_OUT"]);
      // Signed out: later calls cost no request.
      expect(await getToken(tab)).toEqual({ token: null });
      expect(refreshes()).toBe(2);
    },
  };
}

async function verify(token: string, issuer: string, audience: string) {
  return (await jwtVerify(token, createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`)), { issuer, audience, typ: "at+jwt" })).payload;
}

/**
 * The lazy-refresh contract, the same in both modes: a burst near expiry shares one
 * refresh; a blocked refresh keeps state and the next call retries.
 */
async function refreshContract(o: { context: BrowserContext; p: Page; issuer: string; clientId: string; userId: string; refreshMethod: string; refreshUrl: string; first: string }) {
  const { context, p, refreshUrl } = o;
  const refreshes = countResponses(p, o.refreshMethod, new URL(refreshUrl).pathname);

  // A fresh token comes from sessionStorage: no request.
  expect(await tokenOf(p)).toBe(o.first);
  expect(refreshes()).toBe(0);

  // Within the 30 s leeway: twenty parallel callers, one refresh, one new token for all.
  await setSkew(p, (TTL - 10) * 1000);
  const burst = (await p.evaluate(() => Promise.all(Array.from({ length: 20 }, () => (globalThis as any).latch.getAccessToken())))) as string[];
  expect(new Set(burst).size).toBe(1);
  expect(burst[0]).not.toBe(o.first);
  expect(refreshes()).toBe(1);
  expect((await verify(burst[0]!, o.issuer, o.clientId)).sub).toBe(o.userId);
  expect(await tokenOf(p)).toBe(burst[0]);
  expect(refreshes()).toBe(1);

  // Offline: the refresh request is blocked. Past expiry the call fails retryably and keeps everything.
  await context.route(refreshUrl.replace(/\?.*$/, "") + "**", (route) => route.abort("internetdisconnected"));
  await setSkew(p, (2 * TTL + 5) * 1000);
  const saved = await storage(p);
  expect(await getToken(p)).toEqual({ error: "network", retryable: true });
  expect(await storage(p)).toEqual(saved);
  // Within the leeway but not yet expired, the still-valid token is handed out meanwhile.
  await setSkew(p, (2 * TTL - 30) * 1000);
  expect(await tokenOf(p)).toBe(burst[0]);
  expect(refreshes()).toBe(1);

  // Back online: the next call retries and succeeds.
  await context.unrouteAll();
  await setSkew(p, (2 * TTL + 5) * 1000);
  const retried = await tokenOf(p);
  expect(retried).not.toBe(burst[0]);
  expect(refreshes()).toBe(2);

  await setSkew(p, 0);
}

describe("@latch/browser in Chromium", () => {
  it("exchange mode: sign-in, getAccessToken, one /refresh per burst, offline keeps state, 401 clears it, passkeys, sign-out", async () => {
    const workerPort = new URL(worker.url).port;
    const id = Date.now().toString(36);
    const auth = `http://x${id}.localhost:${workerPort}`;
    const shop = `shop${id}.localhost`;
    const appOrigin = `http://${shop}:${sites.port}`;
    const app = await createApp(worker.url, { name: "SDK Exchange", slug: `x${id}`, settings: { access_token_ttl: TTL } });
    const client = await createClient(worker.url, app.id, {
      name: "spa",
      type: "public",
      redirect_uris: [`${appOrigin}/cb`],
      post_logout_redirect_uris: [`${appOrigin}/`],
      allowed_origins: [appOrigin],
      refresh_token_delivery: "cookie",
    });
    const userId = await signupUser(worker.url, app, "lin", "lin password 1");
    sites.set(shop, auth, client.client_id);

    const context = await browser.newContext();
    const p = await context.newPage();
    const refreshes = countResponses(p, "POST", "/refresh");
    await p.goto(`${appOrigin}/`);
    await ready(p);
    expect(await p.evaluate(() => (globalThis as any).latch.getMode())).toBe("exchange");
    expect(await p.evaluate(() => (globalThis as any).latch.getAuthPolicy())).toBe("none");
    // Not signed in: one /refresh finds no cookie (401); afterwards nothing is asked again.
    expect(await getToken(p)).toEqual({ token: null });
    expect(await getToken(p)).toEqual({ token: null });
    expect(refreshes()).toBe(1);

    await signIn(p, auth, appOrigin, "lin", "lin password 1");
    const first = (await tokenOf(p))!;
    expect(await verify(first, auth, client.client_id)).toMatchObject({ sub: userId, iss: auth, aud: client.client_id });
    const user = await p.evaluate(() => (globalThis as any).latch.getUser());
    expect(user).toMatchObject({ sub: userId, email: "lin@example.com", app_id: app.id, auth_method: "password", permissions: [], roles: [], feature_flags: {} });
    // Only sessionStorage: the access token (the PKCE verifier is gone once used); no localStorage, no readable cookie.
    expect(await storage(p)).toEqual({ session: [`latch:${auth}:${client.client_id}:session`], local: 0, cookies: "" });
    expect(await events(p)).toEqual(["SIGNED_IN"]);
    expect(refreshes()).toBe(1);

    await refreshContract({ context, p, issuer: auth, clientId: client.client_id, userId, refreshMethod: "POST", refreshUrl: `${auth}/refresh`, first });

    // The SDK starts passkey enrolment on the hosted page of the signed-in user; back in the
    // app, the tab's state is still there (sessionStorage outlives page loads).
    await Promise.all([p.waitForURL(`${auth}/passkeys`), p.evaluate(() => void (globalThis as any).latch.enrollPasskey())]);
    expect(await p.textContent("h1")).toBe("Your passkeys");
    await p.goto(`${appOrigin}/account`);
    await ready(p);
    const current = await tokenOf(p);
    expect(current).toBeTruthy();

    const tab = await secondTab(context, `${appOrigin}/`, "POST", "/refresh");
    // signOut() ends the chain (POST /logout), then the hosted session through end_session_endpoint, and comes back.
    await Promise.all([p.waitForURL(`${appOrigin}/`), p.evaluate(() => void (globalThis as any).latch.signOut())]);
    await ready(p);
    expect((await storage(p)).session).toEqual([]);
    // The refresh cookie is gone and its chain ended: Latch says 401, in this tab and the other one.
    const before = refreshes();
    expect(await getToken(p)).toEqual({ token: null });
    expect(refreshes()).toBe(before + 1);
    await tab.expectClearedBy401();
    // The hosted session ended as well: signing in asks for the password again.
    await Promise.all([p.waitForURL(`${auth}/oauth2/auth?**`), p.evaluate(() => void (globalThis as any).latch.signIn())]);
    expect(await p.isVisible("input[name=password]")).toBe(true);
    await context.close();
  });

  it("cookie mode after the flip: PATCH custom_domain, the next page load uses /session/token on auth.{domain}", async () => {
    const workerPort = new URL(worker.url).port;
    const id = Date.now().toString(36);
    const latchHost = `http://c${id}.localhost:${workerPort}`;
    const domain = `acme${id}.localhost`;
    const auth = `http://auth.${domain}:${workerPort}`;
    const appOrigin = `http://app.${domain}:${sites.port}`;
    const app = await createApp(worker.url, { name: "SDK Cookie", slug: `c${id}`, settings: { access_token_ttl: TTL } });
    const client = await createClient(worker.url, app.id, {
      name: "web",
      type: "public",
      redirect_uris: [`${appOrigin}/cb`],
      allowed_origins: [appOrigin],
      refresh_token_delivery: "cookie",
    });
    const userId = await signupUser(worker.url, app, "ada", "ada password 1");
    // The app is configured with its Latch subdomain, and never changes.
    sites.set(`app.${domain}`, latchHost, client.client_id);

    const context = await browser.newContext();
    const p = await context.newPage();
    await p.goto(`${appOrigin}/`);
    await ready(p);
    expect(await p.evaluate(() => (globalThis as any).latch.getMode())).toBe("exchange");

    const patch = await fetch(`${worker.url}/admin/apps/${app.id}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ custom_domain: domain }),
    });
    expect(patch.status).toBe(200);
    await p.reload();
    await ready(p);
    expect(await p.evaluate(async () => {
      const c = await (globalThis as any).latch.config();
      return { mode: c.mode, issuer: c.issuer, cookie_domain: c.cookie_domain };
    })).toEqual({ mode: "cookie", issuer: auth, cookie_domain: domain });

    const tokens = countResponses(p, "GET", "/session/token");
    await signIn(p, auth, appOrigin, "ada", "ada password 1");
    // No code exchange in cookie mode: the session cookie is the credential, /session/token mints.
    expect(tokens()).toBe(1);
    const first = (await tokenOf(p))!;
    expect(await verify(first, auth, client.client_id)).toMatchObject({ sub: userId, iss: auth, aud: client.client_id });
    expect(await p.evaluate(() => (globalThis as any).latch.getUser())).toMatchObject({ sub: userId, email: "ada@example.com" });
    expect(await storage(p)).toEqual({ session: [`latch:${latchHost}:${client.client_id}:session`], local: 0, cookies: "" });

    await refreshContract({ context, p, issuer: auth, clientId: client.client_id, userId, refreshMethod: "GET", refreshUrl: `${auth}/session/token?client_id=${client.client_id}`, first });

    const tab = await secondTab(context, `${appOrigin}/`, "GET", "/session/token");
    await p.evaluate(() => (globalThis as any).latch.signOut());
    expect((await storage(p)).session).toEqual([]);
    expect(await p.evaluate(async (url) => (await fetch(url, { credentials: "include" })).status, `${auth}/session`)).toBe(401);
    await tab.expectClearedBy401();
    await context.close();
  });
});
