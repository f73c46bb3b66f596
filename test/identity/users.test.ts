/**
 * The user store's rules (worker/identity/users.ts) on every surface that creates users:
 * Kinvey signup, the hosted sign-up, the management API and the demo seed. Identifiers are
 * one namespace per app under their keys; operator-owned attributes are not self-writable.
 */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { backfillIdentifierKeys } from "../../worker/identity/identifier-backfill";
import { ADMIN, appAuth, call, createApp, errorOf, kinveyAuth, signup, uniqueSlug, type TestApp } from "../helpers";
import { api } from "../manage/helpers";
import { addClient, authorizePath, Browser, decodeJwt, hiddenFields, oauthApp, pkce, tokensFor, type OAuthTestApp } from "../oauth/helpers";

const kinveySignup = (app: TestApp, doc: Record<string, unknown>) => call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: doc });

const manageCreate = (app: TestApp, identities: unknown[]) => api(app, "/user", { method: "POST", json: { identities } });

async function hostedSignup(app: OAuthTestApp, fields: { username: string; email?: string; password: string }): Promise<Response> {
  const client = await addClient(app);
  const browser = new Browser(app);
  const { challenge } = await pkce();
  const page = await browser.fetch(
    authorizePath({ response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, scope: "openid", code_challenge: challenge, code_challenge_method: "S256", prompt: "create" }),
  );
  const form = hiddenFields(await page.text());
  form.set("username", fields.username);
  form.set("email", fields.email ?? "");
  form.set("password", fields.password);
  return browser.post("/oauth2/auth", form, { Origin: app.origin });
}

describe("identifiers are one namespace per app, by key", () => {
  it.each([
    ["case", "Demo", "demo"],
    ["Unicode normal form", "jos\u00e9", "jose\u0301"],
    ["Cyrillic lookalike", "mallory", "m\u0430llory"],
  ])("Kinvey signup refuses a username that differs only by %s (409 UserAlreadyExists)", async (_why, first, second) => {
    const app = await createApp();
    expect((await kinveySignup(app, { username: first, password: "correct horse battery" })).status).toBe(201);
    const res = await kinveySignup(app, { username: second, password: "correct horse battery" });
    expect(await errorOf(res)).toMatchObject({ status: 409, error: "UserAlreadyExists" });
    const count = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE app_id = ?").bind(app.id).first<number>("n");
    expect(count).toBe(1);
  });

  it("a username can never equal another user's email, either way round, nor two emails differ by case", async () => {
    const app = await createApp();
    expect((await kinveySignup(app, { username: "ada", email: "Ada@Example.com", password: "correct horse battery" })).status).toBe(201);
    expect(await errorOf(await kinveySignup(app, { username: "ADA@example.COM", password: "correct horse battery" }))).toMatchObject({ status: 409, error: "UserAlreadyExists" });
    expect(await errorOf(await kinveySignup(app, { username: "other", email: "ada@EXAMPLE.com", password: "correct horse battery" }))).toMatchObject({ status: 409 });
    expect(await errorOf(await kinveySignup(app, { username: "third", email: "ADA", password: "correct horse battery" }))).toMatchObject({ status: 400, error: "BadRequest" });
  });

  it("the same rule on the hosted sign-up: another user's email as a username, or a duplicate email, is refused on the page", async () => {
    const app = await oauthApp();
    await kinveySignup(app, { username: "grace", email: "grace@example.com", password: "correct horse battery" });
    for (const fields of [
      { username: "Grace@Example.com", password: "correct horse battery" },
      { username: "hopper", email: "GRACE@example.com", password: "correct horse battery" },
      { username: "GRACE", password: "correct horse battery" },
    ]) {
      const res = await hostedSignup(app, fields);
      expect(res.status).toBe(409);
      expect(await res.text()).toContain("That username or email is taken.");
    }
    const created = await hostedSignup(app, { username: "hopper", email: "hopper@example.com", password: "correct horse battery" });
    expect(created.status).toBe(303);
    expect(new URL(created.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });

  it("the same rule on the management API: 409 USER_ALREADY_EXISTS", async () => {
    const app = await createApp();
    await kinveySignup(app, { username: "linus", email: "linus@example.com", password: "correct horse battery" });
    expect(await errorOf(await manageCreate(app, [{ type: "email", details: { email: "LINUS@example.com" } }]))).toMatchObject({ status: 409, error: "USER_ALREADY_EXISTS" });
    expect(await errorOf(await manageCreate(app, [{ type: "username", details: { username: "Linus" } }]))).toMatchObject({ status: 409, error: "USER_ALREADY_EXISTS" });
    expect(await errorOf(await manageCreate(app, [{ type: "username", details: { username: "linus@example.com" } }]))).toMatchObject({ status: 409 });
  });

  it("the demo seed goes through the store: idempotent, and its user's identifiers are taken like anyone's", async () => {
    const seed = () => SELF.fetch("http://127.0.0.1:8787/admin/dev/seed", { method: "POST", headers: ADMIN });
    const first = await seed();
    expect(first.status).toBe(200);
    expect((await first.json<{ seeded: string[] }>()).seeded).toEqual(expect.arrayContaining(["app", "user"]));
    expect((await (await seed()).json<{ seeded: string[] }>()).seeded).toEqual([]);
    const demo = { id: "kid_demo", app_secret: "demoappsecret0000000000000000000000000000" } as TestApp;
    expect(await errorOf(await kinveySignup(demo, { username: "DEMO", password: "correct horse battery" }))).toMatchObject({ status: 409, error: "UserAlreadyExists" });
    expect(await errorOf(await kinveySignup(demo, { username: "Demo@Example.com", password: "correct horse battery" }))).toMatchObject({ status: 409 });
    // Signs in with the README's credentials, by username in any case or by email.
    const login = (username: string) => call(`/user/kid_demo/login`, { method: "POST", headers: { Authorization: appAuth(demo) }, json: { username, password: "demo-password" } });
    expect((await login("Demo")).status).toBe(200);
    expect((await login("demo@example.com")).status).toBe(200);
  });

  it("the seed route does not exist outside development", async () => {
    const res = await worker.fetch(new Request("http://127.0.0.1:8787/admin/dev/seed", { method: "POST", headers: ADMIN }), { ...env, DEV_MODE: undefined }, createExecutionContext());
    expect(res.status).toBe(404);
  });

  it("signs in by any spelling of the identifier, and keeps the display form", async () => {
    const app = await createApp();
    await kinveySignup(app, { username: "Ada.Lovelace", email: "Ada@Example.com", password: "correct horse battery" });
    for (const username of ["ada.lovelace", "ADA.LOVELACE", "ada@example.com"]) {
      const res = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username, password: "correct horse battery" } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ username: "Ada.Lovelace", email: "ada@example.com" });
    }
  });
});

describe("operator-owned attributes are not self-writable", () => {
  it("Kinvey signup and a user's own update ignore org_code, provided_id, the reset flag and claims names; tokens never carry them", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const username = uniqueSlug("u");
    const res = await kinveySignup(app, {
      username,
      password: "correct horse battery",
      org_code: "org_victimcorp",
      provided_id: "victim-42",
      is_password_reset_requested: true,
      roles: [{ key: "admin" }],
      permissions: ["billing:write"],
      emailVerified: true,
      nickname: "kept",
    });
    expect(res.status).toBe(201);
    const doc = (await res.json()) as Record<string, unknown> & { _id: string; _kmd: { authtoken: string } };
    expect(doc).toMatchObject({ nickname: "kept" });
    for (const name of ["org_code", "provided_id", "is_password_reset_requested", "roles", "permissions", "emailVerified"]) expect(doc[name]).toBeUndefined();

    const put = await call(`/user/${app.id}/${doc._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(doc._kmd.authtoken) }, json: { username, org_code: "org_victimcorp", provided_id: "victim-42" } });
    expect(put.status).toBe(200);
    const row = await env.DB.prepare("SELECT org_code, provided_id, password_reset_required, profile FROM users WHERE id = ?").bind(doc._id).first<Record<string, unknown>>();
    expect(row).toMatchObject({ org_code: null, provided_id: null, password_reset_required: 0 });
    expect(String(row!.profile)).not.toMatch(/org_code|provided_id|victim/);

    const tokens = await tokensFor(app, client, { username, password: "correct horse battery" });
    expect(decodeJwt(tokens.access_token).payload.org_code).toBeUndefined();
    expect(decodeJwt(tokens.id_token!).payload.org_code).toBeUndefined();
  });

  it("the management API writes provided_id and the reset flag into their columns; org_code claims come from the column", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const patch = await api(app, `/user?id=${user._id}`, { method: "PATCH", json: { provided_id: "crm-7", is_password_reset_requested: true } });
    expect(await patch.json()).toMatchObject({ is_password_reset_requested: true });
    const read = await (await api(app, `/user?id=${user._id}`)).json();
    expect(read).toMatchObject({ provided_id: "crm-7" });
    expect(await env.DB.prepare("SELECT password_reset_required FROM users WHERE id = ?").bind(user._id).first("password_reset_required")).toBe(1);
    // The flag would make the hosted sign-in ask for a new password first (test/account/reset.test.ts).
    await api(app, `/user?id=${user._id}`, { method: "PATCH", json: { is_password_reset_requested: false } });
    await env.DB.prepare("UPDATE users SET org_code = 'org_acme' WHERE id = ?").bind(user._id).run();
    const tokens = await tokensFor(app, client, user);
    expect(decodeJwt(tokens.access_token).payload.org_code).toBe("org_acme");
  });
});

describe("identifier back-fill for rows older than migration 0002", () => {
  it("keys what it can and reports the collisions, leaving colliding rows unkeyed", async () => {
    const app = await createApp();
    const insert = (id: string, username: string, email: string | null) =>
      env.DB.prepare("INSERT INTO users (id, app_id, username, email, password_hash, profile, created_at, updated_at) VALUES (?, ?, ?, ?, '!none', '{}', 1, 1)")
        .bind(id, app.id, username, email)
        .run();
    await insert(`${app.id}-1`, "Zoë", "zoe@example.com");
    await insert(`${app.id}-2`, "zoe\u0308", null); // NFD of the same name: collides with -1 once keyed
    await insert(`${app.id}-3`, "ÅSA", null);
    const report = await backfillIdentifierKeys(env, 1000);
    expect(report.keyed).toBe(3);
    expect(report.collisions).toEqual([{ app_id: app.id, user_id: `${app.id}-2`, field: "username", value: "zoe\u0308", taken_by: `${app.id}-1` }]);
    expect(report.remaining).toBe(1);
    const rows = await env.DB.prepare("SELECT id, username_key, email_key FROM users WHERE app_id = ? ORDER BY id").bind(app.id).all<{ id: string; username_key: string | null; email_key: string | null }>();
    const byId = Object.fromEntries(rows.results.map((r) => [r.id, r]));
    expect(byId[`${app.id}-1`]).toMatchObject({ username_key: "zoë", email_key: "zoe@example.com" });
    expect(byId[`${app.id}-3`]!.username_key).toBe("åsa");
    expect(byId[`${app.id}-2`]!.username_key).toBeNull();
    // Run again: nothing new to key, the same collision, still reported.
    expect(await backfillIdentifierKeys(env, 1000)).toEqual({ keyed: 0, collisions: report.collisions, remaining: 1 });
    const viaApi = await SELF.fetch("http://127.0.0.1:8787/admin/identifiers/backfill", { method: "POST", headers: ADMIN });
    expect(viaApi.status).toBe(200);
    expect((await SELF.fetch("http://127.0.0.1:8787/admin/identifiers/backfill", { method: "POST" })).status).toBe(401);
  });
});
