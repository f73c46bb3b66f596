/** Shared test helpers: create an isolated app per test through the operator API. */
import { SELF } from "cloudflare:test";

export const ADMIN = { Authorization: "Bearer test-admin-token" };
export const BASE = "http://127.0.0.1:8787";

let counter = 0;
export function uniqueSlug(prefix = "t"): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export interface TestApp {
  id: string;
  slug: string;
  issuer: string;
  app_secret: string;
  master_secret: string;
  settings: Record<string, unknown>;
}

/**
 * A fresh app for one test. It signs with ES256 (cheap keys and signatures) unless the
 * test names `signing_alg`; createAppWithDefaults keeps every production default.
 */
export async function createApp(input: Record<string, unknown> = {}): Promise<TestApp> {
  const settings = (input.settings ?? {}) as Record<string, unknown>;
  return createAppWithDefaults({ ...input, settings: { signing_alg: "ES256", ...settings } });
}

export async function createAppWithDefaults(input: Record<string, unknown> = {}): Promise<TestApp> {
  const res = await SELF.fetch(`${BASE}/admin/apps`, {
    method: "POST",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Test App", slug: uniqueSlug(), ...input }),
  });
  if (res.status !== 201) throw new Error(`createApp: ${res.status} ${await res.text()}`);
  return (await res.json()) as TestApp;
}

export function basic(name: string, secret: string): string {
  return `Basic ${btoa(`${name}:${secret}`)}`;
}

export const appAuth = (app: TestApp) => basic(app.id, app.app_secret);
export const masterAuth = (app: TestApp) => basic(app.id, app.master_secret);
export const kinveyAuth = (token: string) => `Kinvey ${token}`;

export function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(init.json);
  }
  return SELF.fetch(`${BASE}${path}`, { ...init, headers, body });
}

export interface SignedUp {
  _id: string;
  username: string;
  token: string;
  password: string;
}

export async function signup(app: TestApp, username = uniqueSlug("u"), password = "correct horse battery"): Promise<SignedUp> {
  const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username, password } });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { _id: string; username: string; _kmd: { authtoken: string } };
  return { _id: body._id, username: body.username, token: body._kmd.authtoken, password };
}

export async function errorOf(res: Response): Promise<{ status: number; error: string; body: Record<string, unknown> }> {
  const body = (await res.json()) as Record<string, unknown>;
  return { status: res.status, error: String(body.error ?? (body.errors as { code: string }[] | undefined)?.[0]?.code), body };
}
