/**
 * Roles and their permissions (Kinde paths). Role key and name are in the `roles` claim and
 * a role's permissions in `permissions`, so changes invalidate the claims of its holders.
 */
import { Hono } from "hono";
import { eventStatement } from "../events/log";
import { readJsonObject } from "../http/body";
import { changeRolePermissions, createRole, UnknownPermissionError, type KeyedRow } from "../identity/access-admin";
import { bumpClaimsStatement, HOLDS_ROLE, invalidateClaims, usersWithRole } from "../identity/claim-holders";
import { bad, need, ok, onlyKeys, text, type ManageEnv } from "./context";
import { conflictOnKey, descriptionOf, keyedView, keyOf, listPage, loadKeyed } from "./keyed";

export const roleRoutes = new Hono<ManageEnv>();

/** An unknown permission id in a body is the request's fault (400). */
function asApiError(err: unknown): never {
  if (err instanceof UnknownPermissionError) bad(err.message, "PERMISSION_NOT_FOUND");
  throw err;
}

const roleView = (row: KeyedRow) => ({ ...keyedView(row), is_default_role: false });

roleRoutes.get("/roles", need("read:roles"), async (c) => {
  const { items, nextToken } = await listPage<KeyedRow>(c, "SELECT * FROM roles WHERE app_id = ?", [c.var.app.id]);
  return ok(c, { roles: items.map(roleView), ...(nextToken ? { next_token: nextToken } : {}) });
});

roleRoutes.post("/roles", need("create:roles"), async (c) => {
  const body = await readJsonObject(c);
  onlyKeys(body, ["name", "key", "description", "is_default_role"]);
  if (body.is_default_role === true) bad("Default roles are not supported.");
  const key = keyOf(body, true)!;
  const name = text(body, "name", 256, true)!;
  const description = descriptionOf(body) ?? null;
  const id = await createRole(c.env, c.var.app.id, { key, name, description }, "api").catch((err) => conflictOnKey(err, "role"));
  return ok(c, { role: { id } }, 201, "ROLE_CREATED", "Role successfully created");
});

roleRoutes.get("/roles/:roleId", need("read:roles"), async (c) => ok(c, { role: roleView(await loadKeyed(c, "roles", c.req.param("roleId"))) }));

roleRoutes.patch("/roles/:roleId", need("update:roles"), async (c) => {
  const row = await loadKeyed(c, "roles", c.req.param("roleId"));
  const body = await readJsonObject(c);
  onlyKeys(body, ["name", "key", "description", "is_default_role", "assignment_permission_id"]);
  const key = keyOf(body, false) ?? row.key;
  const name = text(body, "name", 256) ?? row.name;
  const description = "description" in body ? (descriptionOf(body) ?? null) : row.description;
  const app = c.var.app;
  const now = Date.now();
  const claimsChange = key !== row.key || name !== row.name;
  const holders = claimsChange ? await usersWithRole(c.env, app.id, row.id) : [];
  try {
    await c.env.DB.batch([
      c.env.DB.prepare("UPDATE roles SET key = ?, name = ?, description = ? WHERE app_id = ? AND id = ?").bind(key, name, description, app.id, row.id),
      ...(claimsChange ? [bumpClaimsStatement(c.env, app.id, HOLDS_ROLE, row.id)] : []),
      eventStatement(c.env, app.id, "role.updated", null, { role: { id: row.id, key, name } }, now, "api"),
    ]);
  } catch (err) {
    conflictOnKey(err, "role");
  }
  await invalidateClaims(c.env, app.id, holders);
  return ok(c, {}, 200, "ROLE_UPDATED", "Role successfully updated");
});

roleRoutes.delete("/roles/:roleId", need("delete:roles"), async (c) => {
  const row = await loadKeyed(c, "roles", c.req.param("roleId"));
  const app = c.var.app;
  const holders = await usersWithRole(c.env, app.id, row.id);
  const db = c.env.DB;
  await db.batch([
    bumpClaimsStatement(c.env, app.id, HOLDS_ROLE, row.id),
    db.prepare("DELETE FROM user_roles WHERE app_id = ? AND role_id = ?").bind(app.id, row.id),
    db.prepare("DELETE FROM role_permissions WHERE role_id = ?").bind(row.id),
    db.prepare("DELETE FROM roles WHERE app_id = ? AND id = ?").bind(app.id, row.id),
    eventStatement(c.env, app.id, "role.deleted", null, { role: { id: row.id, key: row.key } }, Date.now(), "api"),
  ]);
  await invalidateClaims(c.env, app.id, holders);
  return ok(c, {}, 200, "ROLE_DELETED", "Role successfully deleted");
});

roleRoutes.get("/roles/:roleId/permissions", need("read:role_permissions", "read:roles"), async (c) => {
  const role = await loadKeyed(c, "roles", c.req.param("roleId"));
  const { items, nextToken } = await listPage<KeyedRow>(
    c,
    "SELECT p.* FROM permissions p JOIN role_permissions rp ON rp.permission_id = p.id WHERE rp.role_id = ? AND p.app_id = ?",
    [role.id, c.var.app.id],
    "p",
  );
  return ok(c, { permissions: items.map(keyedView), ...(nextToken ? { next_token: nextToken } : {}) });
});

/** Most permission ids one PATCH may name. */
export const MAX_ROLE_PERMISSIONS_PATCH = 1_000;

/** Kinde's bulk edit: `{permissions: [{id, operation?: "delete"}]}`; anything but delete adds. */
roleRoutes.patch("/roles/:roleId/permissions", need("update:role_permissions", "update:roles"), async (c) => {
  const role = await loadKeyed(c, "roles", c.req.param("roleId"));
  const body = await readJsonObject(c);
  onlyKeys(body, ["permissions"]);
  if (!Array.isArray(body.permissions) || body.permissions.length === 0 || body.permissions.length > MAX_ROLE_PERMISSIONS_PATCH) {
    bad(`permissions must be an array of 1 to ${MAX_ROLE_PERMISSIONS_PATCH} {id, operation} objects.`);
  }
  const added: string[] = [];
  const removed: string[] = [];
  for (const item of body.permissions as unknown[]) {
    if (typeof item !== "object" || item === null || typeof (item as { id?: unknown }).id !== "string") bad("Each permission needs an id.");
    const { id, operation } = item as { id: string; operation?: unknown };
    if (operation !== undefined && operation !== "delete" && operation !== "add") bad("operation must be add or delete.");
    (operation === "delete" ? removed : added).push(id);
  }
  await changeRolePermissions(c.env, c.var.app.id, role, added, removed, "api").catch(asApiError);
  return ok(c, { permissions_added: added, permissions_removed: removed }, 200, "PERMISSIONS_UPDATED", "Permissions successfully updated");
});

roleRoutes.delete("/roles/:roleId/permissions/:permissionId", need("delete:role_permissions", "update:roles"), async (c) => {
  const role = await loadKeyed(c, "roles", c.req.param("roleId"));
  await changeRolePermissions(c.env, c.var.app.id, role, [], [c.req.param("permissionId")], "api").catch(asApiError);
  return ok(c, {}, 200, "PERMISSION_REMOVED", "Permission successfully removed from role");
});

roleRoutes.get("/roles/:roleId/users", need("read:organization_user_roles", "read:roles"), async (c) => {
  const role = await loadKeyed(c, "roles", c.req.param("roleId"));
  const { items, nextToken } = await listPage<{ id: string; created_at: number }>(
    c,
    "SELECT u.id, u.created_at FROM users u JOIN user_roles ur ON ur.app_id = u.app_id AND ur.user_id = u.id WHERE ur.app_id = ? AND ur.role_id = ?",
    [c.var.app.id, role.id],
    "u",
  );
  return ok(c, { users: items.map((u) => ({ id: u.id })), ...(nextToken ? { next_token: nextToken } : {}) });
});
