/** Helpers for management API tests: requests on the app's own host. */
import { SELF } from "cloudflare:test";
import { masterAuth, type TestApp } from "../helpers";

export function hostOf(app: TestApp): string {
  return `${app.slug}.localhost:8787`;
}

export function api(app: TestApp, path: string, init: RequestInit & { json?: unknown; auth?: string | null } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.auth !== null) headers.set("Authorization", init.auth ?? masterAuth(app));
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(init.json);
  }
  const { json: _json, auth: _auth, ...rest } = init;
  return SELF.fetch(`http://${hostOf(app)}/api/v1${path}`, { ...rest, headers, body });
}

/** The body of a 2xx answer; fails the test with the body otherwise. */
export async function okJson<T = Record<string, any>>(res: Response | Promise<Response>, status = 200): Promise<T> {
  const r = await res;
  const text = await r.text();
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** The single Kinde-style error of a refused request. */
export async function apiError(res: Response | Promise<Response>): Promise<{ status: number; code: string; message: string }> {
  const r = await res;
  const body = (await r.json()) as { errors: { code: string; message: string }[] };
  return { status: r.status, code: body.errors[0]!.code, message: body.errors[0]!.message };
}

export async function createUser(app: TestApp, input: { email?: string; username?: string; given?: string; family?: string } = {}): Promise<string> {
  const identities: unknown[] = [];
  if (input.email) identities.push({ type: "email", details: { email: input.email } });
  if (input.username) identities.push({ type: "username", details: { username: input.username } });
  const body = await okJson<{ id: string }>(
    api(app, "/user", { method: "POST", json: { profile: { given_name: input.given ?? "Ada", family_name: input.family ?? "Lovelace" }, identities } }),
  );
  return body.id;
}
