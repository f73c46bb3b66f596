/**
 * Each console action, with its effect checked through the operator, management, OAuth
 * or Kinvey API: the console is another way to make the same changes, not another store.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, appAuth, BASE, call, createApp, kinveyAuth, signup, uniqueSlug, type TestApp } from "../helpers";
import { api, okJson } from "../manage/helpers";
import { basicAuth, oauthApp, tokenRequest } from "../oauth/helpers";
import { signIn } from "./helpers";

const admin = (path: string, init: RequestInit = {}) => SELF.fetch(`${BASE}/admin${path}`, { ...init, headers: { ...ADMIN, ...(init.headers ?? {}) } });
const adminJson = async <T = any>(path: string): Promise<T> => (await (await admin(path)).json()) as T;

describe("operator console: apps", () => {
  it("creates an app and shows its secrets once", async () => {
    const op = await signIn();
    const slug = uniqueSlug("c");
    const res = await op.post("/apps", { name: "Console App", slug, custom_domain: "" });
    expect(res.status).toBe(201);
    const html = await res.text();
    const { apps } = await adminJson<{ apps: { id: string; slug: string; mode: string }[] }>("/apps");
    const app = apps.find((a) => a.slug === slug)!;
    expect(app).toMatchObject({ mode: "exchange" });
    const secret = /App secret: <code data-secret="?[^>]*>([A-Za-z0-9]{40})</.exec(html)?.[1];
    expect(secret).toBeDefined();
    // The app secret shown works on the Kinvey API, and the app page never shows it again.
    expect((await call(`/appdata/${app.id}`, { headers: { Authorization: `Basic ${btoa(`${app.id}:${secret}`)}` } })).status).toBe(200);
    expect((await op.get(`/apps/${app.id}`)).html).not.toContain(secret!);
    expect((await op.get("/apps")).html).toContain(slug);
    // A taken slug is refused with the API's message and status.
    const again = await op.post("/apps", { name: "Again", slug });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("An app with this slug exists.");
  });

  it("sets the custom domain (the mode flips to cookie), settings, and rotates keys", async () => {
    const app = await createApp();
    const op = await signIn();
    const domain = `${uniqueSlug("d")}.localhost`;
    const page = (await op.get(`/apps/${app.id}`)).html;
    expect(page).toContain('id="mode">exchange<');
    const settings = { ...app.settings, access_token_ttl: 600 };
    const saved = await op.post(`/apps/${app.id}`, { name: "Renamed", custom_domain: domain, settings: JSON.stringify(settings) }, { from: `/apps/${app.id}` });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`/console/apps/${app.id}?done=saved`);
    expect(await adminJson(`/apps/${app.id}`)).toMatchObject({ name: "Renamed", custom_domain: domain, mode: "cookie", settings: { access_token_ttl: 600 } });
    const wellKnown = await SELF.fetch(`http://auth.${domain}:8787/.well-known/kiavi-auth.json`);
    expect(await wellKnown.json()).toMatchObject({ mode: "cookie" });
    expect((await op.get(`/apps/${app.id}?done=saved`)).html).toContain('id="mode">cookie<');

    // A bad setting is refused with the settings' own message; nothing changes.
    const refused = await op.post(`/apps/${app.id}`, { name: "Renamed", custom_domain: domain, settings: JSON.stringify({ access_token_ttl: -1 }) }, { from: `/apps/${app.id}` });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("access_token_ttl must be");
    // Clearing the domain is exchange mode again.
    await op.post(`/apps/${app.id}`, { name: "Renamed", custom_domain: "" }, { from: `/apps/${app.id}` });
    expect(await adminJson(`/apps/${app.id}`)).toMatchObject({ custom_domain: null, mode: "exchange" });

    const jwks = async () => ((await (await SELF.fetch(`http://${app.slug}.localhost:8787/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    const before = await jwks();
    expect((await op.post(`/apps/${app.id}/keys/rotate`, {}, { from: `/apps/${app.id}` })).status).toBe(303);
    const after = await jwks();
    expect(after).toEqual(expect.arrayContaining(before));
    expect(after.length).toBe(before.length + 1);
  });
});

describe("operator console: clients", () => {
  it("creates, edits, re-keys and deletes a client", async () => {
    const app = await oauthApp();
    const op = await signIn();
    const created = await op.post(`/apps/${app.id}/clients`, { name: "Web", type: "public", redirect_uris: "https://app.example/cb\n", allowed_origins: "https://app.example" }, { from: `/apps/${app.id}` });
    expect(created.status).toBe(201);
    const listed = () => adminJson<{ clients: Record<string, any>[] }>(`/apps/${app.id}/clients`).then((b) => b.clients);
    const [web] = await listed();
    expect(web).toMatchObject({ name: "Web", type: "public", redirect_uris: ["https://app.example/cb"], allowed_origins: ["https://app.example"] });

    const edited = await op.post(
      `/apps/${app.id}/clients/${web!.client_id}`,
      { name: "Web 2", redirect_uris: "https://app.example/cb\nhttps://app.example/cb2", allowed_origins: "", post_logout_redirect_uris: "https://app.example/" },
      { from: `/apps/${app.id}/clients/${web!.client_id}` },
    );
    expect(edited.status).toBe(303);
    expect((await listed())[0]).toMatchObject({ name: "Web 2", redirect_uris: ["https://app.example/cb", "https://app.example/cb2"], allowed_origins: [], post_logout_redirect_uris: ["https://app.example/"] });
    // The store's rules hold: a public client needs a redirect URI, http only on loopback.
    const bad = await op.post(`/apps/${app.id}/clients/${web!.client_id}`, { name: "Web 2", redirect_uris: "http://app.example/cb" }, { from: `/apps/${app.id}` });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("http redirect URIs are allowed on loopback only");

    // An m2m client: its secret is shown once; a reset shows a new one and the old one stops working.
    const m2m = await op.post(`/apps/${app.id}/clients`, { name: "Backend", type: "m2m", scopes: "read:users" }, { from: `/apps/${app.id}` });
    const html = await m2m.text();
    const id = /Client id: <code data-secret="?[^>]*>([0-9a-f]{32})</.exec(html)![1]!;
    const first = /Client secret: <code data-secret="?[^>]*>([A-Za-z0-9]{50})</.exec(html)![1]!;
    const token = (secret: string) => tokenRequest(app, { grant_type: "client_credentials" }, { Authorization: basicAuth(id, secret) });
    expect((await token(first)).status).toBe(200);
    const reset = await op.post(`/apps/${app.id}/clients/${id}/secret`, {}, { from: `/apps/${app.id}` });
    const second = /Client secret: <code data-secret="?[^>]*>([A-Za-z0-9]{50})</.exec(await reset.text())![1]!;
    expect(second).not.toBe(first);
    expect((await token(first)).status).toBe(401);
    expect((await token(second)).status).toBe(200);
    expect((await op.get(`/apps/${app.id}/clients/${id}`)).html).not.toContain(second);

    expect((await op.post(`/apps/${app.id}/clients/${id}/delete`, {}, { from: `/apps/${app.id}` })).status).toBe(303);
    expect((await listed()).map((c) => c.client_id)).toEqual([web!.client_id]);
    expect((await token(second)).status).toBe(401);
    expect((await op.get(`/apps/${app.id}/clients/${id}`)).status).toBe(404);
  });
});

async function kinveyLogin(app: TestApp, username: string, password: string): Promise<Response> {
  return call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username, password } });
}

describe("operator console: users", () => {
  it("finds a user, ends their sessions, suspends them and resets their password", async () => {
    const app = await createApp();
    const u = await signup(app);
    const op = await signIn();
    const found = await op.get(`/apps/${app.id}/users?q=${u.username}`);
    expect(found.html).toContain(`/users/${u._id}`);
    expect((await op.get(`/apps/${app.id}/users?q=nobody`)).html).toContain("No users found.");

    const userPath = `/apps/${app.id}/users/${u._id}`;
    expect((await op.get(userPath)).html).toContain('id="session-count">1<');
    const ended = await op.post(`${userPath}/sessions/end`, {}, { from: userPath });
    expect(ended.status).toBe(303);
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(u.token) } })).status).toBe(401);
    expect((await okJson(api(app, `/users/${u._id}/sessions`))).sessions).toEqual([]);

    // One session ended by id.
    const login = (await (await kinveyLogin(app, u.username, u.password)).json()) as { _kmd: { authtoken: string } };
    const sessions = (await okJson(api(app, `/users/${u._id}/sessions`))).sessions as { session_id: string }[];
    expect(sessions).toHaveLength(1);
    expect((await op.post(`${userPath}/sessions/${sessions[0]!.session_id}/end`, {}, { from: userPath })).status).toBe(303);
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(login._kmd.authtoken) } })).status).toBe(401);
    expect((await op.post(`${userPath}/sessions/nope/end`, {}, { from: userPath })).status).toBe(404);

    expect((await op.post(`${userPath}/suspend`, { suspended: "true" }, { from: userPath })).status).toBe(303);
    expect(await okJson(api(app, `/user?id=${u._id}`))).toMatchObject({ is_suspended: true });
    expect((await kinveyLogin(app, u.username, u.password)).status).toBe(401);
    await op.post(`${userPath}/suspend`, { suspended: "false" }, { from: userPath });
    expect(await okJson(api(app, `/user?id=${u._id}`))).toMatchObject({ is_suspended: false });

    const short = await op.post(`${userPath}/password`, { password: "x" }, { from: userPath });
    expect(short.status).toBe(400);
    expect((await op.post(`${userPath}/password`, { password: "a brand new password" }, { from: userPath })).status).toBe(303);
    expect((await kinveyLogin(app, u.username, u.password)).status).toBe(401);
    expect((await kinveyLogin(app, u.username, "a brand new password")).status).toBe(200);

    // The console's actions are in the event log, as the operator's.
    const events = await op.get(`/apps/${app.id}/events?type=user.updated`);
    expect(events.html).toContain("user.updated");
    expect(events.html).toContain("<td>admin</td>");
    expect((await op.get(`/apps/${app.id}/events?type=nope`)).status).toBe(400);
  });
});

describe("operator console: roles, permissions, webhooks", () => {
  it("creates a role and a permission (seen by the management API) and lists webhooks with deliveries", async () => {
    const app = await createApp();
    const op = await signIn();
    const rolesPath = `/apps/${app.id}/roles`;
    expect((await op.post(`/apps/${app.id}/roles`, { key: "admin", name: "Admin", description: "" }, { from: rolesPath })).status).toBe(303);
    expect((await op.post(`/apps/${app.id}/permissions`, { key: "read:things", name: "Read things" }, { from: rolesPath })).status).toBe(303);
    expect((await okJson(api(app, "/roles"))).roles).toMatchObject([{ key: "admin", name: "Admin" }]);
    expect((await okJson(api(app, "/permissions"))).permissions).toMatchObject([{ key: "read:things" }]);
    const taken = await op.post(`/apps/${app.id}/roles`, { key: "admin", name: "Again" }, { from: rolesPath });
    expect(taken.status).toBe(409);
    expect((await op.post(`/apps/${app.id}/roles`, { key: "bad key!", name: "x" }, { from: rolesPath })).status).toBe(400);
    const page = await op.get(rolesPath);
    expect(page.html).toContain("read:things");

    // Granted and revoked through the console, seen through the management API.
    const [role] = (await okJson(api(app, "/roles"))).roles as { id: string }[];
    const [perm] = (await okJson(api(app, "/permissions"))).permissions as { id: string }[];
    const granted = () => okJson(api(app, `/roles/${role!.id}/permissions`)).then((b) => (b.permissions as { key: string }[]).map((p) => p.key));
    expect((await op.post(`/apps/${app.id}/roles/${role!.id}/permissions`, { permission_id: perm!.id, operation: "add" }, { from: rolesPath })).status).toBe(303);
    expect(await granted()).toEqual(["read:things"]);
    expect((await op.get(rolesPath)).html).toContain(`title="Revoke read:things"`);
    expect((await op.post(`/apps/${app.id}/roles/${role!.id}/permissions`, { permission_id: "perm_nope", operation: "add" }, { from: rolesPath })).status).toBe(400);
    expect((await op.post(`/apps/${app.id}/roles/${role!.id}/permissions`, { permission_id: perm!.id, operation: "delete" }, { from: rolesPath })).status).toBe(303);
    expect(await granted()).toEqual([]);
    expect((await op.post(`/apps/${app.id}/roles/role_nope/permissions`, { permission_id: perm!.id }, { from: rolesPath })).status).toBe(404);

    const hooksPath = `/apps/${app.id}/webhooks`;
    const added = await op.post(hooksPath, { name: "Hook", endpoint: "http://127.0.0.1:9/latch", event_types: "user.created user.created" }, { from: hooksPath });
    expect(added.status).toBe(303);
    const [hook] = (await okJson(api(app, "/webhooks"))).webhooks as { id: string; endpoint: string; event_types: string[] }[];
    expect(hook).toMatchObject({ endpoint: "http://127.0.0.1:9/latch", event_types: ["user.created"] });
    // The endpoint and event rules are the API's.
    const refusedHook = await op.post(hooksPath, { name: "Bad", endpoint: "http://hooks.example/latch", event_types: "user.created" }, { from: hooksPath });
    expect(refusedHook.status).toBe(400);
    expect(await refusedHook.text()).toContain("endpoint must be https");
    expect((await op.post(hooksPath, { name: "Bad", endpoint: "https://hooks.example/latch", event_types: "user.nope" }, { from: hooksPath })).status).toBe(400);

    await signup(app);
    const hooks = await op.get(hooksPath);
    expect(hooks.html).toContain("http://127.0.0.1:9/latch");
    expect(hooks.html).toContain("user.created");
    expect(hooks.html).toMatch(/<td>(pending|delivered|dead)<\/td>/);
    expect((await op.post(`${hooksPath}/${hook!.id}/delete`, {}, { from: hooksPath })).status).toBe(303);
    expect((await okJson(api(app, "/webhooks"))).webhooks).toEqual([]);
  });

  it("answers 404 for an unknown app", async () => {
    const op = await signIn();
    expect((await op.get("/apps/kid_nope")).status).toBe(404);
  });
});
