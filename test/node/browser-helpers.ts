/**
 * Shared pieces of the Chromium tests: Debian's Chromium through playwright-core, and a
 * tiny app server whose pages behave like a browser SDK (read kiavi-auth.json, run the
 * PKCE redirect, call the session/refresh endpoints with credentials).
 */
import http from "node:http";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, inject } from "vitest";
import { startWorker, type RunningWorker } from "./harness";
import { resolveLocalhostSubdomains } from "./oauth-helpers";

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: inject("chromium"), args: CHROMIUM_ARGS });
}

export interface BrowserStack {
  worker: RunningWorker;
  apps: AppServer;
  browser: Browser;
}

/** One test file's worker, app-page server and Chromium: started before its tests, stopped after them. */
export function useBrowserStack(): BrowserStack {
  const stack = {} as BrowserStack;
  beforeAll(async () => {
    resolveLocalhostSubdomains();
    [stack.worker, stack.apps, stack.browser] = await Promise.all([startWorker(), startAppServer(), launchChromium()]);
  });
  afterAll(async () => {
    await stack.browser?.close();
    await stack.apps?.close();
    await stack.worker?.dispose();
  });
  return stack;
}

/**
 * The app's pages. `window.latch` is what a browser SDK would do, in twenty lines:
 * - signIn(): PKCE S256 redirect to the authorization endpoint named by kiavi-auth.json;
 * - complete(): on /cb, cookie mode is done (the session cookie is set); exchange mode
 *   exchanges the code at the token endpoint with credentials (the refresh cookie arrives);
 * - call(url, init): fetch with credentials, reporting the status or the CORS failure.
 */
function page(auth: string, clientId: string): string {
  return `<!doctype html><meta charset="utf-8"><title>app</title><p id="out">app page</p>
<script>
const AUTH = ${JSON.stringify(auth)}, CLIENT = ${JSON.stringify(clientId)};
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const config = fetch(AUTH + "/.well-known/kiavi-auth.json").then((r) => r.json());
window.latch = {
  config: () => config,
  async signIn() {
    const cfg = await config;
    const verifier = b64(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = b64(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const state = b64(crypto.getRandomValues(new Uint8Array(16)));
    sessionStorage.setItem("pkce", JSON.stringify({ verifier, state }));
    location.href = cfg.authorization_endpoint + "?" + new URLSearchParams({ response_type: "code", client_id: CLIENT,
      redirect_uri: location.origin + "/cb", scope: "openid profile email offline", state, code_challenge: challenge, code_challenge_method: "S256" });
  },
  async complete() {
    const cfg = await config;
    const q = new URLSearchParams(location.search);
    const { verifier, state } = JSON.parse(sessionStorage.getItem("pkce"));
    sessionStorage.removeItem("pkce");
    if (q.get("state") !== state) return { error: "state mismatch" };
    if (cfg.mode === "cookie") return { mode: "cookie" };
    const res = await fetch(cfg.token_endpoint, { method: "POST", credentials: "include", body: new URLSearchParams({
      grant_type: "authorization_code", code: q.get("code"), redirect_uri: location.origin + "/cb", code_verifier: verifier, client_id: CLIENT }) });
    return { mode: "exchange", status: res.status, body: await res.json() };
  },
  async call(url, init = {}) {
    try {
      const res = await fetch(url, { credentials: "include", ...init });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    } catch (e) {
      return { error: String(e) };
    }
  },
};
</script>`;
}

export interface AppServer {
  port: number;
  /** What the pages on `host` (no port) talk to. */
  configure(host: string, auth: string, clientId: string): void;
  close(): Promise<void>;
}

export async function startAppServer(): Promise<AppServer> {
  const sites = new Map<string, { auth: string; clientId: string }>();
  const server = http.createServer((req, res) => {
    const host = String(req.headers.host ?? "").replace(/:\d+$/, "");
    const site = sites.get(host);
    if (!site) {
      res.writeHead(404).end("unknown site");
      return;
    }
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(page(site.auth, site.clientId));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    configure: (host, auth, clientId) => sites.set(host, { auth, clientId }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Runs the app page's signIn() and waits for the hosted page of `auth` to load. */
export async function startSignIn(p: Page, auth: string): Promise<void> {
  await Promise.all([p.waitForURL(`${auth}/oauth2/auth?**`), p.evaluate(() => void (globalThis as any).latch.signIn())]);
}

/** Fills and submits the hosted sign-in form; resolves once the app's /cb page loaded. */
export async function signInOnHostedPage(p: Page, username: string, password: string, callbackOrigin: string): Promise<void> {
  await p.waitForSelector("input[name=username]");
  await p.fill("input[name=username]", username);
  await p.fill("input[name=password]", password);
  await Promise.all([p.waitForURL(`${callbackOrigin}/cb?**`), p.click("button[type=submit]")]);
  await p.waitForFunction(() => "latch" in globalThis);
}

/** Signs a user up through the Kinvey API (one user pool for every surface, SPEC §9). */
export async function signupUser(base: string, app: { id: string; app_secret: string }, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/user/${app.id}`, {
    method: "POST",
    headers: { Authorization: `Basic ${btoa(`${app.id}:${app.app_secret}`)}`, "Content-Type": "application/json" },
    body: JSON.stringify({ username, password, email: `${username}@example.com` }),
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { _id: string })._id;
}
