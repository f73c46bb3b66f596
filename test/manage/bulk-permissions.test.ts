/**
 * Lists of ids past D1's 100 bound parameters: `PATCH /roles/{id}/permissions` with 150 ids
 * adds and removes them all (one parameter per list), and refuses above its documented maximum.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_ROLE_PERMISSIONS_PATCH } from "../../worker/manage/roles";
import { createApp } from "../helpers";
import { api, apiError, createUser, okJson } from "./helpers";

const rolePermissionCount = (roleId: string) => env.DB.prepare("SELECT count(*) AS n FROM role_permissions WHERE role_id = ?").bind(roleId).first<number>("n");

describe("PATCH /roles/{id}/permissions with many ids", () => {
  it("adds and removes 150 permissions in one request, never a 500", async () => {
    const app = await createApp();
    const roleId = (await okJson(api(app, "/roles", { method: "POST", json: { key: "bulk", name: "Bulk" } }), 201)).role.id as string;
    const now = Date.now();
    const ids = Array.from({ length: 150 }, (_, i) => `perm_bulk_${app.id}_${i}`);
    await env.DB.batch(ids.map((id, i) => env.DB.prepare("INSERT INTO permissions (id, app_id, key, name, created_at) VALUES (?, ?, ?, ?, ?)").bind(id, app.id, `p:${i}`, `P ${i}`, now + i)));
    const holder = await createUser(app, { email: "holder@example.com" });
    await okJson(api(app, `/users/${holder}/roles`, { method: "POST", json: { role_id: roleId } }), 201);

    const added = await okJson(api(app, `/roles/${roleId}/permissions`, { method: "PATCH", json: { permissions: ids.map((id) => ({ id })) } }));
    expect(added.permissions_added).toEqual(ids);
    expect(await rolePermissionCount(roleId)).toBe(150);
    expect((await okJson(api(app, `/users/${holder}/permissions`))).permissions).toHaveLength(150);

    // An unknown id among 150 is still found and named, and nothing is written.
    const withUnknown = [...ids.slice(0, 149).map((id) => ({ id, operation: "delete" })), { id: "perm_missing" }];
    expect(await apiError(api(app, `/roles/${roleId}/permissions`, { method: "PATCH", json: { permissions: withUnknown } }))).toEqual({
      status: 400,
      code: "PERMISSION_NOT_FOUND",
      message: "No permission with id perm_missing.",
    });
    expect(await rolePermissionCount(roleId)).toBe(150);

    const removed = await okJson(api(app, `/roles/${roleId}/permissions`, { method: "PATCH", json: { permissions: ids.map((id) => ({ id, operation: "delete" })) } }));
    expect(removed.permissions_removed).toEqual(ids);
    expect(await rolePermissionCount(roleId)).toBe(0);
  });

  it(`refuses more than ${MAX_ROLE_PERMISSIONS_PATCH} ids with 400 INVALID_REQUEST`, async () => {
    const app = await createApp();
    const roleId = (await okJson(api(app, "/roles", { method: "POST", json: { key: "big", name: "Big" } }), 201)).role.id as string;
    const permissions = Array.from({ length: MAX_ROLE_PERMISSIONS_PATCH + 1 }, (_, i) => ({ id: `perm_${i}` }));
    expect(await apiError(api(app, `/roles/${roleId}/permissions`, { method: "PATCH", json: { permissions } }))).toEqual({
      status: 400,
      code: "INVALID_REQUEST",
      message: `permissions must be an array of 1 to ${MAX_ROLE_PERMISSIONS_PATCH} {id, operation} objects.`,
    });
  });
});
