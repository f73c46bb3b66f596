/**
 * Exchange mode in Chromium (SPEC §6): an app page on another site runs the PKCE flow
 * against {slug}.localhost; the code exchange sets the refresh cookie partitioned by the
 * app's site (seen through CDP) and leaves it out of the body; /refresh rotates it; the
 * old value replayed after the overlap window is refused, and that kills the chain.
 */
import { jwtVerify, createRemoteJWKSet } from "jose";
import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createApp, createClient } from "./harness";
import { signInOnHostedPage, signupUser, startSignIn, useBrowserStack } from "./browser-helpers";

const stack = useBrowserStack();

type CallResult = { status?: number; body?: any; error?: string };
const call = (p: Page, url: string, init: RequestInit = {}) => p.evaluate(([u, i]) => (globalThis as any).latch.call(u, i), [url, init] as const) as Promise<CallResult>;

interface CdpCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: string;
  partitionKey?: { topLevelSite: string; hasCrossSiteAncestor: boolean } | string;
}

/** The auth host's cookies as Chromium stores them, partitioned ones included. */
async function authCookies(context: BrowserContext, p: Page, auth: string): Promise<CdpCookie[]> {
  const cdp = await context.newCDPSession(p);
  const { cookies } = (await cdp.send("Network.getCookies", { urls: [`${auth}/`] })) as { cookies: CdpCookie[] };
  await cdp.detach();
  return cookies;
}

describe("exchange mode in Chromium", () => {
  it("PKCE from another site, partitioned refresh cookie, rotation, replay refused", async () => {
    const workerPort = new URL(stack.worker.url).port;
    const slug = `x${Date.now().toString(36)}`;
    const auth = `http://${slug}.localhost:${workerPort}`;
    const shopHost = `shop${Date.now().toString(36)}.localhost`;
    const appOrigin = `http://${shopHost}:${stack.apps.port}`;
    const app = await createApp(stack.worker.url, { name: "Exchange App", slug, settings: { refresh_overlap: 1 } });
    const client = await createClient(stack.worker.url, app.id, { name: "spa", type: "public", redirect_uris: [`${appOrigin}/cb`], allowed_origins: [appOrigin], refresh_token_delivery: "cookie" });
    const password = "exchange mode password";
    const userId = await signupUser(stack.worker.url, app, "grace", password);
    stack.apps.configure(shopHost, auth, client.client_id);

    const context = await stack.browser.newContext();
    const p = await context.newPage();
    await p.goto(`${appOrigin}/`);
    await p.waitForFunction(() => "latch" in globalThis);
    expect(await p.evaluate(() => (globalThis as any).latch.config())).toMatchObject({ mode: "exchange", issuer: auth, cookie_domain: null, refresh_endpoint: `${auth}/refresh` });

    await startSignIn(p, auth);
    await signInOnHostedPage(p, "grace", password, appOrigin);
    const exchanged = (await p.evaluate(() => (globalThis as any).latch.complete())) as { mode: string; status: number; body: Record<string, unknown> };
    expect(exchanged.mode).toBe("exchange");
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.refresh_token).toBeUndefined();
    const jwks = createRemoteJWKSet(new URL(`${auth}/.well-known/jwks.json`));
    const first = await jwtVerify(exchanged.body.access_token as string, jwks, { issuer: auth, audience: client.client_id });
    expect(first.payload.sub).toBe(userId);

    // The refresh cookie: HttpOnly, SameSite=None, partitioned under the app's top-level site.
    const [rt] = (await authCookies(context, p, auth)).filter((c) => c.name === "latch_rt");
    expect(rt).toBeDefined();
    expect(rt).toMatchObject({ domain: `${slug}.localhost`, path: "/", httpOnly: true, secure: true, sameSite: "None" });
    expect(rt!.partitionKey).toMatchObject({ topLevelSite: `http://${shopHost}` });
    expect(await p.evaluate(() => (globalThis as any).document.cookie as string)).not.toContain("latch_rt");

    // /refresh rotates it: a new access token, a new cookie value in the same partition.
    const refreshed = await call(p, `${auth}/refresh`, { method: "POST" });
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body).sort()).toEqual(["access_token", "expires_in", "token_type"]);
    await jwtVerify(refreshed.body.access_token, jwks, { issuer: auth, audience: client.client_id });
    const [rotated] = (await authCookies(context, p, auth)).filter((c) => c.name === "latch_rt");
    expect(rotated!.value).not.toBe(rt!.value);
    expect(rotated!.partitionKey).toMatchObject({ topLevelSite: `http://${shopHost}` });

    // A replay of the old cookie value after the 1 s overlap window is reuse: refused with
    // 401, and the whole chain ends, so the browser's current cookie is dead too.
    await new Promise((r) => setTimeout(r, 1500));
    const replay = await fetch(`${auth}/refresh`, { method: "POST", headers: { Origin: appOrigin, Cookie: `latch_rt=${rt!.value}` } });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: string }).error).toBe("invalid_grant");
    const afterReuse = await call(p, `${auth}/refresh`, { method: "POST" });
    expect(afterReuse.status).toBe(401);
    expect(afterReuse.body.error).toBe("invalid_grant");
    // The 401 cleared the cookie, as the SDK expects after a dead chain.
    expect((await authCookies(context, p, auth)).filter((c) => c.name === "latch_rt")).toEqual([]);

    // A page on a site that is not allow-listed cannot use /refresh.
    const evilHost = `evil${Date.now().toString(36)}.localhost`;
    stack.apps.configure(evilHost, auth, client.client_id);
    const e = await context.newPage();
    await e.goto(`http://${evilHost}:${stack.apps.port}/`);
    await e.waitForFunction(() => "latch" in globalThis);
    expect((await call(e, `${auth}/refresh`, { method: "POST" })).error).toMatch(/Failed to fetch/);
    await context.close();
  });
});
