import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp, type TestApp } from "../helpers";
import { api, apiError, createUser, okJson } from "./helpers";

const claimsVersion = (id: string) => env.DB.prepare("SELECT claims_version FROM users WHERE id = ?").bind(id).first<number>("claims_version");

async function role(app: TestApp, key: string): Promise<string> {
  return (await okJson(api(app, "/roles", { method: "POST", json: { key, name: `Role ${key}`, description: "d" } }), 201)).role.id;
}
async function permission(app: TestApp, key: string): Promise<string> {
  return (await okJson(api(app, "/permissions", { method: "POST", json: { key, name: `Permission ${key}` } }), 201)).permission.id;
}

describe("roles", () => {
  it("creates, reads, lists with paging, updates and deletes roles", async () => {
    const app = await createApp();
    const ids = [await role(app, "admin"), await role(app, "editor"), await role(app, "viewer")];
    const got = await okJson(api(app, `/roles/${ids[0]}`));
    expect(got.role).toEqual({ id: ids[0], key: "admin", name: "Role admin", description: "d", is_default_role: false });
    const page1 = await okJson(api(app, "/roles?page_size=2"));
    expect(page1.roles.map((r: { key: string }) => r.key)).toEqual(["admin", "editor"]);
    const page2 = await okJson(api(app, `/roles?page_size=2&next_token=${page1.next_token}`));
    expect(page2.roles.map((r: { key: string }) => r.key)).toEqual(["viewer"]);
    expect(page2.next_token).toBeUndefined();

    expect((await okJson(api(app, `/roles/${ids[1]}`, { method: "PATCH", json: { name: "Editors", key: "editors" } }))).code).toBe("ROLE_UPDATED");
    expect((await okJson(api(app, `/roles/${ids[1]}`))).role).toMatchObject({ key: "editors", name: "Editors" });
    expect((await okJson(api(app, `/roles/${ids[2]}`, { method: "DELETE" }))).code).toBe("ROLE_DELETED");
    expect(await apiError(api(app, `/roles/${ids[2]}`))).toMatchObject({ status: 404, code: "ROLE_NOT_FOUND" });
    const types = (await okJson(api(app, "/events?page_size=50"))).events.map((e: { type: string }) => e.type);
    expect(types).toEqual(["role.deleted", "role.updated", "role.created", "role.created", "role.created"]);
  });

  it("refuses duplicate keys (409) and bad input (400)", async () => {
    const app = await createApp();
    await role(app, "admin");
    expect(await apiError(api(app, "/roles", { method: "POST", json: { key: "admin", name: "Again" } }))).toMatchObject({ status: 409, code: "ROLE_KEY_TAKEN" });
    expect(await apiError(api(app, "/roles", { method: "POST", json: { key: "has space", name: "x" } }))).toMatchObject({ status: 400 });
    expect(await apiError(api(app, "/roles", { method: "POST", json: { key: "k" } }))).toMatchObject({ status: 400 });
    expect(await apiError(api(app, "/roles", { method: "POST", json: { key: "k", name: "n", extra: 1 } }))).toMatchObject({ status: 400 });
  });

  it("manages a role's permissions and invalidates the claims of its holders", async () => {
    const app = await createApp();
    const r = await role(app, "admin");
    const [p1, p2] = [await permission(app, "read:all"), await permission(app, "write:all")];
    const holder = await createUser(app, { email: "holder@example.com" });
    const bystander = await createUser(app, { email: "by@example.com" });
    await okJson(api(app, `/users/${holder}/roles`, { method: "POST", json: { role_id: r } }), 201);
    const v = await claimsVersion(holder);
    const res = await okJson(api(app, `/roles/${r}/permissions`, { method: "PATCH", json: { permissions: [{ id: p1 }, { id: p2 }] } }));
    expect(res).toMatchObject({ permissions_added: [p1, p2], permissions_removed: [] });
    expect(await claimsVersion(holder)).toBe(v! + 1);
    expect(await claimsVersion(bystander)).toBe(1);
    expect((await okJson(api(app, `/roles/${r}/permissions`))).permissions.map((p: { key: string }) => p.key)).toEqual(["read:all", "write:all"]);
    await okJson(api(app, `/roles/${r}/permissions`, { method: "PATCH", json: { permissions: [{ id: p2, operation: "delete" }] } }));
    await okJson(api(app, `/roles/${r}/permissions/${p1}`, { method: "DELETE" }));
    expect((await okJson(api(app, `/roles/${r}/permissions`))).permissions).toEqual([]);
    expect(await claimsVersion(holder)).toBe(v! + 3);
    expect((await okJson(api(app, `/roles/${r}/users`))).users).toEqual([{ id: holder }]);
    expect(await apiError(api(app, `/roles/${r}/permissions`, { method: "PATCH", json: { permissions: [{ id: "perm_nope" }] } }))).toMatchObject({
      status: 400,
      code: "PERMISSION_NOT_FOUND",
    });
  });
});

describe("permissions", () => {
  it("creates, lists, renames (invalidating holders) and deletes permissions", async () => {
    const app = await createApp();
    const p = await permission(app, "read:docs");
    await permission(app, "write:docs");
    const direct = await createUser(app, { email: "d@example.com" });
    const viaRole = await createUser(app, { email: "r@example.com" });
    const r = await role(app, "reader");
    await okJson(api(app, `/roles/${r}/permissions`, { method: "PATCH", json: { permissions: [{ id: p }] } }));
    await okJson(api(app, `/users/${direct}/permissions`, { method: "POST", json: { permission_id: p } }), 201);
    await okJson(api(app, `/users/${viaRole}/roles`, { method: "POST", json: { role_id: r } }), 201);
    const [vd, vr] = [await claimsVersion(direct), await claimsVersion(viaRole)];

    expect((await okJson(api(app, "/permissions"))).permissions.map((x: { key: string }) => x.key)).toEqual(["read:docs", "write:docs"]);
    await okJson(api(app, `/permissions/${p}`, { method: "PATCH", json: { description: "only text" } }));
    expect([await claimsVersion(direct), await claimsVersion(viaRole)]).toEqual([vd, vr]);
    await okJson(api(app, `/permissions/${p}`, { method: "PATCH", json: { key: "read:documents" } }));
    expect([await claimsVersion(direct), await claimsVersion(viaRole)]).toEqual([vd! + 1, vr! + 1]);

    const perms = await okJson(api(app, `/users/${viaRole}/permissions`));
    expect(perms.permissions).toEqual([{ id: p, key: "read:documents", name: "Permission read:docs", description: "only text", direct: false, roles: [{ id: r, key: "reader" }] }]);

    await okJson(api(app, `/permissions/${p}`, { method: "DELETE" }));
    expect((await okJson(api(app, `/users/${direct}/permissions`))).permissions).toEqual([]);
    expect((await okJson(api(app, `/roles/${r}/permissions`))).permissions).toEqual([]);
    expect(await claimsVersion(direct)).toBe(vd! + 2);
    expect(await apiError(api(app, `/permissions/${p}`, { method: "DELETE" }))).toMatchObject({ status: 404, code: "PERMISSION_NOT_FOUND" });
  });
});

describe("a user's roles and permissions", () => {
  it("assigns and removes, each with its event and a claims bump", async () => {
    const app = await createApp();
    const u = await createUser(app, { email: "a@example.com" });
    const r = await role(app, "admin");
    const p = await permission(app, "do:things");
    await okJson(api(app, `/users/${u}/roles`, { method: "POST", json: { role_id: r } }), 201);
    await okJson(api(app, `/users/${u}/permissions`, { method: "POST", json: { permission_id: p } }), 201);
    expect((await okJson(api(app, `/users/${u}/roles`))).roles).toEqual([{ id: r, key: "admin", name: "Role admin", description: "d" }]);
    expect((await okJson(api(app, `/users/${u}/permissions`))).permissions[0]).toMatchObject({ key: "do:things", direct: true, roles: [] });
    await okJson(api(app, `/users/${u}/roles/${r}`, { method: "DELETE" }));
    await okJson(api(app, `/users/${u}/permissions/${p}`, { method: "DELETE" }));
    expect((await okJson(api(app, `/users/${u}/roles`))).roles).toEqual([]);
    expect(await claimsVersion(u)).toBe(5);
    const types = (await okJson(api(app, `/events?user_id=${u}`))).events.map((e: { type: string }) => e.type);
    expect(types).toEqual(["user.permission_removed", "user.role_removed", "user.permission_assigned", "user.role_assigned", "user.created"]);
    expect(await apiError(api(app, `/users/${u}/roles`, { method: "POST", json: { role_id: "role_nope" } }))).toMatchObject({ status: 404, code: "ROLE_NOT_FOUND" });
    expect(await apiError(api(app, `/users/nope/roles`, { method: "POST", json: { role_id: r } }))).toMatchObject({ status: 404, code: "USER_NOT_FOUND" });
    expect(await apiError(api(app, `/users/${u}/permissions`, { method: "POST", json: {} }))).toMatchObject({ status: 400 });
  });

  it("cannot assign another app's role", async () => {
    const a = await createApp();
    const b = await createApp();
    const r = await role(a, "admin");
    const u = await createUser(b, { email: "b@example.com" });
    expect(await apiError(api(b, `/users/${u}/roles`, { method: "POST", json: { role_id: r } }))).toMatchObject({ status: 404, code: "ROLE_NOT_FOUND" });
  });
});

describe("feature flags", () => {
  it("defines flags, lists app defaults, and overrides per user with a claims bump", async () => {
    const app = await createApp();
    await okJson(api(app, "/feature_flags", { method: "POST", json: { key: "dark_mode", name: "Dark mode", type: "bool", default_value: "false" } }), 201);
    await okJson(api(app, "/feature_flags", { method: "POST", json: { key: "theme", name: "Theme", type: "str", default_value: "blue", allow_override_level: "usr" } }), 201);
    await okJson(api(app, "/feature_flags", { method: "POST", json: { key: "limit", name: "Limit", type: "int", default_value: "5" } }), 201);
    expect(await apiError(api(app, "/feature_flags", { method: "POST", json: { key: "x", name: "X", type: "bool", default_value: "maybe" } }))).toMatchObject({ status: 400 });
    expect(await apiError(api(app, "/feature_flags", { method: "POST", json: { key: "y", name: "Y", type: "float", default_value: "1" } }))).toMatchObject({ status: 400 });
    expect(await apiError(api(app, "/feature_flags", { method: "POST", json: { key: "theme", name: "T", type: "str", default_value: "1" } }))).toMatchObject({ status: 409 });

    const envFlags = await okJson(api(app, "/environment/feature_flags"));
    expect(envFlags.feature_flags).toEqual({ dark_mode: { type: "bool", value: "false" }, limit: { type: "int", value: "5" }, theme: { type: "str", value: "blue" } });

    await okJson(api(app, "/feature_flags/limit?name=Limit&type=int&default_value=10&description=per%20day&allow_override_level=env", { method: "PUT" }));
    expect((await okJson(api(app, "/environment/feature_flags"))).feature_flags.limit.value).toBe("10");
    expect(await apiError(api(app, "/feature_flags/limit?default_value=ten", { method: "PUT" }))).toMatchObject({ status: 400 });
    expect(await apiError(api(app, "/feature_flags/nope?default_value=1", { method: "PUT" }))).toMatchObject({ status: 404, code: "FEATURE_FLAG_NOT_FOUND" });

    const u = await createUser(app, { email: "f@example.com" });
    await okJson(api(app, `/users/${u}/feature_flags/dark_mode?value=true`, { method: "PATCH" }));
    expect(await claimsVersion(u)).toBe(2);
    expect(await apiError(api(app, `/users/${u}/feature_flags/limit?value=lots`, { method: "PATCH" }))).toMatchObject({ status: 400 });
    const flags = await okJson(api(app, `/users/${u}/feature_flags`));
    expect(flags.feature_flags).toEqual({
      dark_mode: { type: "bool", value: "true", is_overridden: true },
      limit: { type: "int", value: "10", is_overridden: false },
      theme: { type: "str", value: "blue", is_overridden: false },
    });
    await okJson(api(app, `/users/${u}/feature_flags/dark_mode`, { method: "DELETE" }));
    expect((await okJson(api(app, `/users/${u}/feature_flags`))).feature_flags.dark_mode.value).toBe("false");
    expect(await apiError(api(app, `/users/${u}/feature_flags/dark_mode`, { method: "DELETE" }))).toMatchObject({ status: 404 });

    await okJson(api(app, `/users/${u}/feature_flags/theme?value=red`, { method: "PATCH" }));
    await okJson(api(app, "/feature_flags/theme", { method: "DELETE" }));
    expect(Object.keys((await okJson(api(app, `/users/${u}/feature_flags`))).feature_flags)).toEqual(["dark_mode", "limit"]);
    expect((await okJson(api(app, "/feature_flags"))).feature_flags.map((f: { key: string }) => f.key)).toEqual(["dark_mode", "limit"]);
  });
});
