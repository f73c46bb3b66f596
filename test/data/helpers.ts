/** Helpers for the data API tests: an app with three users, and terse request helpers. */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { prepareSession } from "../../worker/identity/sessions";
import { newUserId } from "../../worker/identity/users";
import { appAuth, call, createApp, errorOf, kinveyAuth, masterAuth, uniqueSlug, type SignedUp, type TestApp } from "../helpers";

export interface World {
  app: TestApp;
  master: string;
  appCreds: string;
  alice: SignedUp & { auth: string };
  bob: SignedUp & { auth: string };
  carol: SignedUp & { auth: string };
}

export async function world(): Promise<World> {
  const app = await createApp({ name: "Data" });
  const [alice, bob, carol] = await Promise.all([fastUser(app), fastUser(app), fastUser(app)]);
  const withAuth = (u: SignedUp) => ({ ...u, auth: kinveyAuth(u.token) });
  return { app, master: masterAuth(app), appCreds: appAuth(app), alice: withAuth(alice!), bob: withAuth(bob!), carol: withAuth(carol!) };
}

/**
 * A user and a Kinvey session written straight to D1: signup's password hashing is
 * deliberately slow, and these tests are about data, not login (test/kinvey covers signup).
 */
export async function fastUser(app: TestApp): Promise<SignedUp> {
  const id = newUserId();
  const username = uniqueSlug("u");
  const now = Date.now();
  const session = await prepareSession(env, app.id, id, "kinvey", { now });
  await env.DB.batch([
    env.DB.prepare("INSERT INTO users (id, app_id, username, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'unusable', ?, ?)").bind(id, app.id, username, now, now),
    session.statement,
  ]);
  return { _id: id, username, token: session.token, password: "" };
}

export type Doc = Record<string, unknown> & { _id: string; _acl: Record<string, unknown>; _kmd: { ect: string; lmt: string } };

export function data(w: World, auth: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(`/appdata/${w.app.id}${path}`, { method, headers: { Authorization: auth, ...headers }, json: body });
}

export async function ok<T = Doc>(res: Response | Promise<Response>, status = 200): Promise<T> {
  const r = await res;
  const text = await r.text();
  expect(r.status, text).toBe(status);
  return JSON.parse(text) as T;
}

export async function refused(res: Response | Promise<Response>, status: number, error: string): Promise<void> {
  const r = await res;
  const e = await errorOf(r);
  expect({ status: e.status, error: e.error }, JSON.stringify(e.body)).toEqual({ status, error });
}

export async function setLevel(w: World, collection: string, level: string): Promise<void> {
  await ok(data(w, w.master, "PUT", `/${collection}/_permissions`, { level }));
}

export async function create(w: World, auth: string, collection: string, body: Record<string, unknown>): Promise<Doc> {
  return ok<Doc>(data(w, auth, "POST", `/${collection}`, body), 201);
}

export async function group(w: World, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  return ok(call(`/group/${w.app.id}`, { method: "POST", headers: { Authorization: w.master }, json: body }), 201);
}

export async function list(w: World, auth: string, collection: string, params: Record<string, string> = {}): Promise<Doc[]> {
  const qs = new URLSearchParams(params).toString();
  return ok<Doc[]>(data(w, auth, "GET", `/${collection}${qs ? `?${qs}` : ""}`));
}

export async function count(w: World, auth: string, collection: string, query?: unknown): Promise<number> {
  const qs = query === undefined ? "" : `?query=${encodeURIComponent(JSON.stringify(query))}`;
  return (await ok<{ count: number }>(data(w, auth, "GET", `/${collection}/_count${qs}`))).count;
}

export const ids = (docs: { _id: string }[]) => docs.map((d) => d._id).sort();
