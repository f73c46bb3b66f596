/**
 * Kinvey sessions (issue 18): a password change with only an auth token needs the current
 * password, and auth tokens die after the app's idle and absolute lifetimes. Times are moved
 * by rewriting the session row (the injected clock of a stored session).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { touchDue } from "../../worker/identity/sessions";
import { appAuth, basic, call, createApp, errorOf, kinveyAuth, masterAuth, signup, type SignedUp, type TestApp } from "../helpers";
import { api, okJson } from "../manage/helpers";

const DAY = 86_400_000;

const put = (app: TestApp, u: SignedUp, auth: string, json: unknown) => call(`/user/${app.id}/${u._id}`, { method: "PUT", headers: { Authorization: auth }, json });
const login = (app: TestApp, username: string, password: string) =>
  call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username, password } });
const me = (app: TestApp, token: string) => call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(token) } });
const listData = (app: TestApp, token: string) => call(`/appdata/${app.id}/things`, { headers: { Authorization: kinveyAuth(token) } });

async function sessionRow(userId: string) {
  return env.DB.prepare("SELECT id, created_at, last_seen_at FROM sessions WHERE user_id = ? AND kind = 'kinvey'").bind(userId).first<{ id: string; created_at: number; last_seen_at: number }>();
}
async function age(userId: string, times: { created?: number; lastSeen?: number }) {
  const now = Date.now();
  await env.DB.prepare("UPDATE sessions SET created_at = ?, last_seen_at = ? WHERE user_id = ? AND kind = 'kinvey'")
    .bind(now - (times.created ?? 0), now - (times.lastSeen ?? 0), userId)
    .run();
}
async function expectInvalid(res: Response | Promise<Response>) {
  expect(await errorOf(await res)).toMatchObject({ status: 401, error: "InvalidCredentials" });
}

describe("a self-service password change with an auth token needs the current password", () => {
  it("refuses without currentPassword, or with a wrong one, with 401 InvalidCredentials, changing nothing", async () => {
    const app = await createApp();
    const u = await signup(app);
    await expectInvalid(put(app, u, kinveyAuth(u.token), { password: "taken over password" }));
    await expectInvalid(put(app, u, kinveyAuth(u.token), { password: "taken over password", currentPassword: "" }));
    await expectInvalid(put(app, u, kinveyAuth(u.token), { password: "taken over password", currentPassword: "not the password" }));
    expect((await login(app, u.username, "taken over password")).status).toBe(401);
    expect((await login(app, u.username, u.password)).status).toBe(200);
    expect((await me(app, u.token)).status).toBe(200);
  });

  it("accepts the right one; currentPassword is never stored in the profile", async () => {
    const app = await createApp();
    const u = await signup(app);
    const res = await put(app, u, kinveyAuth(u.token), { password: "a new password", currentPassword: u.password, colour: "blue" });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown> & { _kmd: { authtoken: string } };
    expect(doc.colour).toBe("blue");
    expect(doc).not.toHaveProperty("currentPassword");
    const stored = await env.DB.prepare("SELECT profile FROM users WHERE id = ?").bind(u._id).first<string>("profile");
    expect(stored).not.toContain("currentPassword");
    expect((await login(app, u.username, "a new password")).status).toBe(200);
  });

  it("other field changes with a token need no password", async () => {
    const app = await createApp();
    const u = await signup(app);
    expect((await put(app, u, kinveyAuth(u.token), { colour: "green" })).status).toBe(200);
  });

  it("Basic user credentials, master credentials and the management API are exempt", async () => {
    const app = await createApp();
    const u = await signup(app);
    expect((await put(app, u, basic(u.username, u.password), { password: "changed with basic" })).status).toBe(200);
    expect((await put(app, u, masterAuth(app), { password: "changed by master" })).status).toBe(200);
    expect((await login(app, u.username, "changed by master")).status).toBe(200);
    await okJson(api(app, `/users/${u._id}/password`, { method: "PUT", json: { password: "changed by the api" } }));
    expect((await login(app, u.username, "changed by the api")).status).toBe(200);
  });
});

describe("Kinvey session lifetimes", () => {
  it("a token idle past kinvey_session_idle_seconds (default 14 days) answers 401 InvalidCredentials", async () => {
    const app = await createApp();
    const u = await signup(app);
    await age(u._id, { created: 20 * DAY, lastSeen: 13 * DAY });
    expect((await me(app, u.token)).status).toBe(200);
    const kinveySessions = async () => (await okJson(api(app, `/users/${u._id}/sessions`))).sessions.filter((s: { type: string }) => s.type === "kinvey");
    expect(await kinveySessions()).toHaveLength(1);
    await age(u._id, { created: 20 * DAY, lastSeen: 14 * DAY + 60_000 });
    await expectInvalid(me(app, u.token));
    await expectInvalid(listData(app, u.token)); // the data reads' own one-round-trip lookup too
    // The management API no longer lists it as a live session.
    expect(await kinveySessions()).toEqual([]);
  });

  it("a token older than kinvey_session_absolute_seconds (default 90 days) dies however often used", async () => {
    const app = await createApp();
    const u = await signup(app);
    await age(u._id, { created: 89 * DAY, lastSeen: 0 });
    expect((await listData(app, u.token)).status).toBe(200);
    await age(u._id, { created: 90 * DAY + 60_000, lastSeen: 0 });
    await expectInvalid(me(app, u.token));
    await expectInvalid(listData(app, u.token));
  });

  it("follows the app's settings, and refuses an absolute lifetime below the idle one", async () => {
    const app = await createApp({ settings: { kinvey_session_idle_seconds: 3600, kinvey_session_absolute_seconds: 7200 } });
    const u = await signup(app);
    await age(u._id, { created: 1000, lastSeen: 3_000_000 });
    expect((await me(app, u.token)).status).toBe(200);
    await age(u._id, { created: 1000, lastSeen: 3_700_000 });
    await expectInvalid(me(app, u.token));
    await age(u._id, { created: 7_300_000, lastSeen: 0 });
    await expectInvalid(me(app, u.token));

    const res = await call("/admin/apps", {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token" },
      json: { name: "Bad", slug: `bad${Date.now().toString(36)}`, settings: { kinvey_session_idle_seconds: 7200, kinvey_session_absolute_seconds: 3600 } },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("kinvey_session_absolute_seconds must be at least kinvey_session_idle_seconds");
  });

  it("use moves the idle timer, but writes at most once per 15 minutes", async () => {
    const app = await createApp();
    const u = await signup(app);
    await age(u._id, { created: DAY, lastSeen: 60_000 });
    const before = (await sessionRow(u._id))!.last_seen_at;
    expect((await me(app, u.token)).status).toBe(200);
    expect((await listData(app, u.token)).status).toBe(200);
    expect((await sessionRow(u._id))!.last_seen_at).toBe(before); // used a minute ago: no write

    await age(u._id, { created: DAY, lastSeen: 16 * 60_000 });
    const start = Date.now();
    expect((await listData(app, u.token)).status).toBe(200);
    expect((await sessionRow(u._id))!.last_seen_at).toBeGreaterThanOrEqual(start);
    await age(u._id, { created: DAY, lastSeen: 16 * 60_000 });
    expect((await me(app, u.token)).status).toBe(200);
    expect((await sessionRow(u._id))!.last_seen_at).toBeGreaterThanOrEqual(start);
  });

  it("touchDue: 15 minutes, or a quarter of a shorter idle lifetime", () => {
    expect(touchDue(0, 14 * 86_400, 15 * 60_000 - 1)).toBe(false);
    expect(touchDue(0, 14 * 86_400, 15 * 60_000)).toBe(true);
    expect(touchDue(0, 600, 149_999)).toBe(false);
    expect(touchDue(0, 600, 150_000)).toBe(true);
  });
});
