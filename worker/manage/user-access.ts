/**
 * A user's roles, permissions and feature-flag overrides. Each is part of the user's
 * claims, so every change bumps the claims version in its batch and then invalidates the
 * user's chain snapshots. (Kinde scopes these under organizations; Latch has none, so
 * they hang off the user.)
 */
import { Hono } from "hono";
import { eventStatement, type EventType } from "../events/log";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { userById } from "../identity/users";
import { bumpUserClaimsStatement, invalidateClaims } from "../identity/claim-holders";
import { bad, need, notFound, ok, onlyKeys, type ManageContext, type ManageEnv } from "./context";
import { flagValue, loadFlag, wireType, type FlagRow } from "./feature-flags";
import { keyedView, listPage, loadKeyed } from "./keyed";
import type { KeyedRow } from "../identity/access-admin";

export const userAccessRoutes = new Hono<ManageEnv>();

async function userOf(c: ManageContext): Promise<string> {
  const id = c.req.param("userId")!;
  if (!(await userById(c.env, c.var.app.id, id))) notFound("user", id);
  return id;
}

/** Runs a claims-changing write for one user: the write, the bump and the event together. */
async function change(c: ManageContext, userId: string, write: D1PreparedStatement, type: EventType | null, data: Record<string, unknown>) {
  const app = c.var.app;
  await c.env.DB.batch([
    write,
    bumpUserClaimsStatement(c.env, app.id, userId),
    ...(type ? [eventStatement(c.env, app.id, type, userId, data, Date.now(), "api")] : []),
  ]);
  await invalidateClaims(c.env, app.id, [userId]);
}

function idField(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== "string" || !value || value.length > 128) bad(`${key} is required.`);
  return value;
}

// --- roles

userAccessRoutes.get("/users/:userId/roles", need("read:organization_user_roles", "read:user_roles"), async (c) => {
  const userId = await userOf(c);
  const { items, nextToken } = await listPage<KeyedRow>(
    c,
    "SELECT r.* FROM roles r JOIN user_roles ur ON ur.role_id = r.id AND ur.app_id = r.app_id WHERE ur.app_id = ? AND ur.user_id = ?",
    [c.var.app.id, userId],
    "r",
  );
  return ok(c, { roles: items.map(keyedView), ...(nextToken ? { next_token: nextToken } : {}) });
});

userAccessRoutes.post("/users/:userId/roles", need("create:organization_user_roles", "create:user_roles"), async (c) => {
  const userId = await userOf(c);
  const body = await readJsonObject(c);
  onlyKeys(body, ["role_id"]);
  const role = await loadKeyed(c, "roles", idField(body, "role_id"));
  const app = c.var.app;
  await change(
    c,
    userId,
    c.env.DB.prepare("INSERT OR IGNORE INTO user_roles (app_id, user_id, role_id) VALUES (?, ?, ?)").bind(app.id, userId, role.id),
    "user.role_assigned",
    { user: { id: userId }, role: { id: role.id, key: role.key } },
  );
  return ok(c, {}, 201, "ROLE_ADDED", "Role successfully added to user");
});

userAccessRoutes.delete("/users/:userId/roles/:roleId", need("delete:organization_user_roles", "delete:user_roles"), async (c) => {
  const userId = await userOf(c);
  const role = await loadKeyed(c, "roles", c.req.param("roleId"));
  await change(
    c,
    userId,
    c.env.DB.prepare("DELETE FROM user_roles WHERE app_id = ? AND user_id = ? AND role_id = ?").bind(c.var.app.id, userId, role.id),
    "user.role_removed",
    { user: { id: userId }, role: { id: role.id, key: role.key } },
  );
  return ok(c, {}, 200, "ROLE_REMOVED", "Role successfully removed from user");
});

// --- permissions

/** Effective permissions: direct ones and those of the user's roles, each with its roles. */
userAccessRoutes.get("/users/:userId/permissions", need("read:organization_user_permissions", "read:user_permissions"), async (c) => {
  const userId = await userOf(c);
  const { results } = await c.env.DB.prepare(
    `SELECT p.id, p.key, p.name, p.description, NULL AS role_id, NULL AS role_key
       FROM permissions p JOIN user_permissions up ON up.permission_id = p.id
      WHERE up.app_id = ?1 AND up.user_id = ?2
     UNION ALL
     SELECT p.id, p.key, p.name, p.description, r.id, r.key
       FROM permissions p JOIN role_permissions rp ON rp.permission_id = p.id
       JOIN roles r ON r.id = rp.role_id JOIN user_roles ur ON ur.role_id = r.id
      WHERE ur.app_id = ?1 AND ur.user_id = ?2
     ORDER BY 2`,
  )
    .bind(c.var.app.id, userId)
    .all<{ id: string; key: string; name: string; description: string | null; role_id: string | null; role_key: string | null }>();
  const byId = new Map<string, { id: string; key: string; name: string; description: string | null; direct: boolean; roles: { id: string; key: string }[] }>();
  for (const r of results) {
    const entry = byId.get(r.id) ?? { id: r.id, key: r.key, name: r.name, description: r.description, direct: false, roles: [] };
    if (r.role_id) entry.roles.push({ id: r.role_id, key: r.role_key! });
    else entry.direct = true;
    byId.set(r.id, entry);
  }
  return ok(c, { permissions: [...byId.values()] });
});

userAccessRoutes.post("/users/:userId/permissions", need("create:organization_user_permissions", "create:user_permissions"), async (c) => {
  const userId = await userOf(c);
  const body = await readJsonObject(c);
  onlyKeys(body, ["permission_id"]);
  const permission = await loadKeyed(c, "permissions", idField(body, "permission_id"));
  await change(
    c,
    userId,
    c.env.DB.prepare("INSERT OR IGNORE INTO user_permissions (app_id, user_id, permission_id) VALUES (?, ?, ?)").bind(c.var.app.id, userId, permission.id),
    "user.permission_assigned",
    { user: { id: userId }, permission: { id: permission.id, key: permission.key } },
  );
  return ok(c, {}, 201, "PERMISSION_ADDED", "Permission successfully added to user");
});

userAccessRoutes.delete("/users/:userId/permissions/:permissionId", need("delete:organization_user_permissions", "delete:user_permissions"), async (c) => {
  const userId = await userOf(c);
  const permission = await loadKeyed(c, "permissions", c.req.param("permissionId"));
  await change(
    c,
    userId,
    c.env.DB.prepare("DELETE FROM user_permissions WHERE app_id = ? AND user_id = ? AND permission_id = ?").bind(c.var.app.id, userId, permission.id),
    "user.permission_removed",
    { user: { id: userId }, permission: { id: permission.id, key: permission.key } },
  );
  return ok(c, {}, 200, "PERMISSION_REMOVED", "Permission successfully removed from user");
});

// --- feature flags

/** Latch addition: the user's effective flags (override, else the app default). */
userAccessRoutes.get("/users/:userId/feature_flags", need("read:user_feature_flags"), async (c) => {
  const userId = await userOf(c);
  const { results } = await c.env.DB.prepare(
    `SELECT f.key, f.type, coalesce(u.value, f.default_value) AS value, u.value IS NOT NULL AS overridden
       FROM feature_flags f LEFT JOIN user_feature_flags u ON u.app_id = f.app_id AND u.key = f.key AND u.user_id = ?2
      WHERE f.app_id = ?1 ORDER BY f.key`,
  )
    .bind(c.var.app.id, userId)
    .all<{ key: string; type: FlagRow["type"]; value: string; overridden: number }>();
  return ok(c, {
    feature_flags: Object.fromEntries(results.map((f) => [f.key, { type: wireType(f.type), value: f.value, is_overridden: f.overridden === 1 }])),
  });
});

/** Kinde: `PATCH /users/{id}/feature_flags/{key}?value=`. */
userAccessRoutes.patch("/users/:userId/feature_flags/:key", need("update:user_feature_flags"), async (c) => {
  const userId = await userOf(c);
  const flag = await loadFlag(c, c.req.param("key"));
  const value = c.req.query("value");
  if (value === undefined) bad("The value query parameter is required.");
  const v = flagValue(flag.type, value);
  await change(
    c,
    userId,
    c.env.DB.prepare("INSERT INTO user_feature_flags (app_id, user_id, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (app_id, user_id, key) DO UPDATE SET value = excluded.value").bind(
      c.var.app.id,
      userId,
      flag.key,
      v,
    ),
    "user.updated",
    { user: { id: userId }, feature_flag: { key: flag.key, value: v } },
  );
  return ok(c, {}, 200, "FEATURE_FLAG_OVERRIDE_UPDATED", "Feature flag override successfully updated");
});

userAccessRoutes.delete("/users/:userId/feature_flags/:key", need("update:user_feature_flags"), async (c) => {
  const userId = await userOf(c);
  const flag = await loadFlag(c, c.req.param("key"));
  const existing = await c.env.DB.prepare("SELECT 1 FROM user_feature_flags WHERE app_id = ? AND user_id = ? AND key = ?").bind(c.var.app.id, userId, flag.key).first();
  if (!existing) throw new ApiError("OVERRIDE_NOT_FOUND", `The user has no override of ${flag.key}.`);
  await change(
    c,
    userId,
    c.env.DB.prepare("DELETE FROM user_feature_flags WHERE app_id = ? AND user_id = ? AND key = ?").bind(c.var.app.id, userId, flag.key),
    "user.updated",
    { user: { id: userId }, feature_flag: { key: flag.key, value: null } },
  );
  return ok(c, {}, 200, "FEATURE_FLAG_OVERRIDE_DELETED", "Feature flag override successfully deleted");
});
