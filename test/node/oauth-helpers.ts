/**
 * Node-side helpers for the OAuth compatibility tests: `{slug}.localhost` resolves to
 * loopback (Node does not do that by itself), a cookie-jar fetch, and the hosted form.
 */
import { Agent, setGlobalDispatcher } from "undici";
import { createApp, createClient, type CreatedApp } from "./harness";

let installed = false;
/** Makes every host name resolve to 127.0.0.1 for this test process's global fetch. */
export function resolveLocalhostSubdomains(): void {
  if (installed) return;
  installed = true;
  setGlobalDispatcher(
    new Agent({
      connect: {
        lookup: ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
          options?.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as never,
      },
    }),
  );
}

export interface OAuthApp extends CreatedApp {
  /** http://{slug}.localhost:{port}: the app's issuer as the worker sees it. */
  origin: string;
}

export async function createOAuthApp(base: string, input: Record<string, unknown> = {}): Promise<OAuthApp> {
  const app = await createApp(base, input);
  const port = new URL(base).port;
  return { ...app, origin: `http://${app.slug}.localhost:${port}` };
}

export { createClient };

/** A cookie jar over fetch; redirects are not followed. */
export class Jar {
  cookies = new Map<string, string>();
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

const unescape = (s: string) => s.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#39;/g, "'");

export function hiddenFields(html: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const [, attrs] of html.matchAll(/<input([^>]*)>/g)) {
    const a = Object.fromEntries([...attrs!.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k, unescape(v!)]));
    if (a.type === "hidden" && a.name) out.append(a.name, a.value ?? "");
  }
  return out;
}

/**
 * Opens the authorization URL like a browser, signs in on the hosted form (or signs up,
 * when `signup`), and returns the URL the server redirected back to.
 */
export async function signInThroughForm(jar: Jar, authorizationUrl: URL, user: { username: string; password: string; email?: string }, signup = false): Promise<URL> {
  const page = await jar.fetch(authorizationUrl);
  if (page.status !== 200) {
    const location = page.headers.get("location");
    if (location) return new URL(location);
    throw new Error(`authorize: ${page.status} ${await page.text()}`);
  }
  const form = hiddenFields(await page.text());
  form.set("username", user.username);
  form.set("password", user.password);
  if (signup && user.email) form.set("email", user.email);
  const res = await jar.fetch(new URL("/oauth2/auth", authorizationUrl), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: authorizationUrl.origin },
    body: form,
  });
  const location = res.headers.get("location");
  if (res.status !== 303 || !location) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  return new URL(location);
}

/** Signs a user up through the Kinvey API (one user pool for every surface). */
export async function kinveySignup(base: string, app: CreatedApp, username: string, password: string, extra: Record<string, unknown> = {}): Promise<{ _id: string }> {
  const res = await fetch(`${base}/user/${app.id}`, {
    method: "POST",
    headers: { Authorization: `Basic ${btoa(`${app.id}:${app.app_secret}`)}`, "Content-Type": "application/json" },
    body: JSON.stringify({ username, password, ...extra }),
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  return (await res.json()) as { _id: string };
}
