/** Helpers for driving the OAuth face inside workerd: app hosts, clients, a cookie jar, the hosted form. */
import { SELF } from "cloudflare:test";
import { ADMIN, createApp, signup, type SignedUp, type TestApp } from "../helpers";

export interface OAuthTestApp extends TestApp {
  origin: string;
}

export async function oauthApp(input: Record<string, unknown> = {}): Promise<OAuthTestApp> {
  const app = await createApp(input);
  return { ...app, origin: `http://${app.slug}.localhost:8787` };
}

export interface TestClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
}

export const REDIRECT = "https://client.example/cb";

export async function addClient(app: TestApp, input: Record<string, unknown> = {}): Promise<TestClient> {
  const res = await SELF.fetch(`http://127.0.0.1:8787/admin/apps/${app.id}/clients`, {
    method: "POST",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Client", type: "public", redirect_uris: [REDIRECT], ...input }),
  });
  if (res.status !== 201) throw new Error(`addClient: ${res.status} ${await res.text()}`);
  return (await res.json()) as TestClient;
}

/** A fetch against the app's host that keeps cookies and never follows redirects. */
export class Browser {
  cookies = new Map<string, string>();
  constructor(readonly app: OAuthTestApp) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const url = path.startsWith("http") ? path : `${this.app.origin}${path}`;
    const res = await SELF.fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getAll("Set-Cookie")) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  post(path: string, form: Record<string, string> | URLSearchParams, headers: Record<string, string> = {}): Promise<Response> {
    return this.fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
      body: form instanceof URLSearchParams ? form : new URLSearchParams(form),
    });
  }
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&quot;": '"', "&lt;": "<", "&gt;": ">", "&#39;": "'", "&#x27;": "'" };
const unescape = (s: string) => s.replace(/&(amp|quot|lt|gt|#39|#x27);/g, (m) => ENTITIES[m] ?? m);

/** The hidden inputs of the hosted form. */
export function hiddenFields(html: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const [, attrs] of html.matchAll(/<input([^>]*)>/g)) {
    const a = Object.fromEntries([...attrs!.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k, unescape(v!)]));
    if (a.type === "hidden" && a.name) out.append(a.name, a.value ?? "");
  }
  return out;
}

export function inputValue(html: string, name: string): string | undefined {
  for (const [, attrs] of html.matchAll(/<input([^>]*)>/g)) {
    const a = Object.fromEntries([...attrs!.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k, unescape(v!)]));
    if (a.name === name) return a.value;
  }
  return undefined;
}

export function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

export function authorizePath(params: Record<string, string>): string {
  return `/oauth2/auth?${new URLSearchParams(params)}`;
}

export interface LoginResult {
  code: string;
  state: string | null;
  location: URL;
  verifier: string;
  browser: Browser;
}

/**
 * Drives the whole hosted login: GET /oauth2/auth, fill the form, POST it, read the code
 * from the redirect. `params` override the defaults (PKCE S256 with a fresh verifier).
 */
export async function login(
  app: OAuthTestApp,
  client: TestClient,
  user: { username: string; password: string },
  params: Record<string, string> = {},
  browser = new Browser(app),
): Promise<LoginResult> {
  const { verifier, challenge } = await pkce();
  const query = {
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0]!,
    scope: "openid profile email offline",
    state: "st-" + Math.random().toString(36).slice(2),
    nonce: "n-" + Math.random().toString(36).slice(2),
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...params,
  };
  // An empty override removes the parameter.
  for (const [k, v] of Object.entries(query)) if (v === "") delete (query as Record<string, string>)[k];
  const page = await browser.fetch(authorizePath(query));
  let res = page;
  if (page.status === 200) {
    const form = hiddenFields(await page.text());
    form.set("username", user.username);
    form.set("password", user.password);
    res = await browser.post("/oauth2/auth", form, { Origin: app.origin });
  }
  if (res.status !== 302 && res.status !== 303) throw new Error(`login: ${res.status} ${await res.text()}`);
  const location = new URL(res.headers.get("location")!);
  const code = location.searchParams.get("code");
  if (!code) throw new Error(`login: no code in ${location}`);
  return { code, state: location.searchParams.get("state"), location, verifier, browser };
}

export async function newUser(app: TestApp): Promise<SignedUp> {
  return signup(app);
}

export function tokenRequest(app: OAuthTestApp, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${app.origin}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form),
  });
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split(".");
  const dec = (s: string) => JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
  return { header: dec(h!), payload: dec(p!) };
}

export interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
}

/** Logs in and exchanges the code: a public PKCE client unless a secret is given. */
export async function tokensFor(app: OAuthTestApp, client: TestClient, user: { username: string; password: string }, params: Record<string, string> = {}) {
  const l = await login(app, client, user, params);
  const res = await tokenRequest(app, {
    grant_type: "authorization_code",
    code: l.code,
    redirect_uri: client.redirect_uris[0]!,
    code_verifier: l.verifier,
    client_id: client.client_id,
    ...(client.client_secret ? { client_secret: client.client_secret } : {}),
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return { ...(await res.json<TokenBody>()), login: l };
}
