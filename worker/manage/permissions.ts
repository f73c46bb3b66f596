/**
 * Permissions (Kinde paths). A permission's key is what the `permissions` claim lists, so
 * renaming or deleting one invalidates the claims of everyone holding it, directly or
 * through a role.
 */
import { Hono } from "hono";
import { eventStatement } from "../events/log";
import { readJsonObject } from "../http/body";
import { createPermission, type KeyedRow } from "../identity/access-admin";
import { bumpClaimsStatement, HOLDS_PERMISSION, invalidateClaims, usersWithPermission } from "../identity/claim-holders";
import { need, ok, onlyKeys, text, type ManageEnv } from "./context";
import { conflictOnKey, descriptionOf, keyedView, keyOf, listPage, loadKeyed } from "./keyed";

export const permissionRoutes = new Hono<ManageEnv>();

permissionRoutes.get("/permissions", need("read:permissions"), async (c) => {
  const { items, nextToken } = await listPage<KeyedRow>(c, "SELECT * FROM permissions WHERE app_id = ?", [c.var.app.id]);
  return ok(c, { permissions: items.map(keyedView), ...(nextToken ? { next_token: nextToken } : {}) });
});

permissionRoutes.post("/permissions", need("create:permissions"), async (c) => {
  const body = await readJsonObject(c);
  onlyKeys(body, ["name", "key", "description"]);
  const key = keyOf(body, true)!;
  const name = text(body, "name", 256, true)!;
  const description = descriptionOf(body) ?? null;
  const id = await createPermission(c.env, c.var.app.id, { key, name, description }, "api").catch((err) => conflictOnKey(err, "permission"));
  return ok(c, { permission: { id } }, 201, "PERMISSION_CREATED", "Permission successfully created");
});

permissionRoutes.get("/permissions/:permissionId", need("read:permissions"), async (c) =>
  ok(c, { permission: keyedView(await loadKeyed(c, "permissions", c.req.param("permissionId"))) }),
);

permissionRoutes.patch("/permissions/:permissionId", need("update:permissions"), async (c) => {
  const row = await loadKeyed(c, "permissions", c.req.param("permissionId"));
  const body = await readJsonObject(c);
  onlyKeys(body, ["name", "key", "description"]);
  const key = keyOf(body, false) ?? row.key;
  const name = text(body, "name", 256) ?? row.name;
  const description = "description" in body ? (descriptionOf(body) ?? null) : row.description;
  const app = c.var.app;
  const renamed = key !== row.key;
  const holders = renamed ? await usersWithPermission(c.env, app.id, row.id) : [];
  try {
    await c.env.DB.batch([
      c.env.DB.prepare("UPDATE permissions SET key = ?, name = ?, description = ? WHERE app_id = ? AND id = ?").bind(key, name, description, app.id, row.id),
      ...(renamed ? [bumpClaimsStatement(c.env, app.id, HOLDS_PERMISSION, row.id)] : []),
      eventStatement(c.env, app.id, "permission.updated", null, { permission: { id: row.id, key, name } }, Date.now(), "api"),
    ]);
  } catch (err) {
    conflictOnKey(err, "permission");
  }
  await invalidateClaims(c.env, app.id, holders);
  return ok(c, {}, 200, "PERMISSION_UPDATED", "Permission successfully updated");
});

permissionRoutes.delete("/permissions/:permissionId", need("delete:permissions"), async (c) => {
  const row = await loadKeyed(c, "permissions", c.req.param("permissionId"));
  const app = c.var.app;
  const holders = await usersWithPermission(c.env, app.id, row.id);
  const db = c.env.DB;
  await db.batch([
    bumpClaimsStatement(c.env, app.id, HOLDS_PERMISSION, row.id),
    db.prepare("DELETE FROM user_permissions WHERE app_id = ? AND permission_id = ?").bind(app.id, row.id),
    db.prepare("DELETE FROM role_permissions WHERE permission_id = ?").bind(row.id),
    db.prepare("DELETE FROM permissions WHERE app_id = ? AND id = ?").bind(app.id, row.id),
    eventStatement(c.env, app.id, "permission.deleted", null, { permission: { id: row.id, key: row.key } }, Date.now(), "api"),
  ]);
  await invalidateClaims(c.env, app.id, holders);
  return ok(c, {}, 200, "PERMISSION_DELETED", "Permission successfully deleted");
});
