/**
 * Roles and permissions, store side: creation (shared by the management API and the
 * operator console) and the console's overview. Keys are what the `roles` and
 * `permissions` claims carry.
 */
import type { Env } from "../env";
import { eventStatement, type EventSource } from "../events/log";
import { randomId } from "../util/crypto";
import { IN_LIST, listParam } from "../util/sql-list";
import { bumpClaimsStatement, HOLDS_ROLE, invalidateClaims, usersWithRole } from "./claim-holders";

export interface KeyedRow {
  id: string;
  app_id: string;
  key: string;
  name: string;
  description: string | null;
  created_at: number;
}

export const ACCESS_KEY = /^[A-Za-z0-9_:.\-]{1,128}$/;

export class AccessInputError extends Error {}
export class AccessKeyTakenError extends Error {}

export interface NewKeyed {
  key: string;
  name: string;
  description: string | null;
}

function checked(input: NewKeyed): NewKeyed {
  if (!ACCESS_KEY.test(input.key)) throw new AccessInputError("key must be 1 to 128 characters of A-Z, a-z, 0-9, _ : . -");
  const name = input.name.trim();
  if (!name || name.length > 256) throw new AccessInputError("name must be a non-empty string of at most 256 characters.");
  return { key: input.key, name, description: input.description?.trim() || null };
}

async function createKeyed(env: Env, appId: string, kind: "role" | "permission", input: NewKeyed, source: EventSource): Promise<string> {
  const { key, name, description } = checked(input);
  const id = `${kind === "role" ? "role" : "perm"}_${randomId(20)}`;
  const table = kind === "role" ? "roles" : "permissions";
  const now = Date.now();
  try {
    await env.DB.batch([
      env.DB.prepare(`INSERT INTO ${table} (id, app_id, key, name, description, created_at) VALUES (?, ?, ?, ?, ?, ?)`).bind(id, appId, key, name, description, now),
      eventStatement(env, appId, kind === "role" ? "role.created" : "permission.created", null, { [kind]: { id, key, name } }, now, source),
    ]);
  } catch (err) {
    if (err instanceof Error && /UNIQUE constraint failed/i.test(err.message)) throw new AccessKeyTakenError(`A ${kind} with this key exists.`);
    throw err;
  }
  return id;
}

export const createRole = (env: Env, appId: string, input: NewKeyed, source: EventSource) => createKeyed(env, appId, "role", input, source);
export const createPermission = (env: Env, appId: string, input: NewKeyed, source: EventSource) => createKeyed(env, appId, "permission", input, source);

export interface AccessOverview {
  roles: (KeyedRow & { permissions: { id: string; key: string }[] })[];
  permissions: KeyedRow[];
}

/** Every role with its permission keys, and every permission (at most `limit` of each). */
export async function accessOverview(env: Env, appId: string, limit = 500): Promise<AccessOverview> {
  const [roles, permissions, grants] = await env.DB.batch<Record<string, unknown>>([
    env.DB.prepare("SELECT * FROM roles WHERE app_id = ? ORDER BY key LIMIT ?").bind(appId, limit),
    env.DB.prepare("SELECT * FROM permissions WHERE app_id = ? ORDER BY key LIMIT ?").bind(appId, limit),
    env.DB.prepare(
      "SELECT rp.role_id, p.id, p.key FROM role_permissions rp JOIN roles r ON r.id = rp.role_id JOIN permissions p ON p.id = rp.permission_id WHERE r.app_id = ? ORDER BY p.key",
    ).bind(appId),
  ]);
  const byRole = new Map<string, { id: string; key: string }[]>();
  for (const g of grants!.results as { role_id: string; id: string; key: string }[]) byRole.set(g.role_id, [...(byRole.get(g.role_id) ?? []), { id: g.id, key: g.key }]);
  return {
    roles: (roles!.results as unknown as KeyedRow[]).map((r) => ({ ...r, permissions: byRole.get(r.id) ?? [] })),
    permissions: permissions!.results as unknown as KeyedRow[],
  };
}

export class UnknownPermissionError extends Error {}

/**
 * Adds and removes permissions of a role in one batch with its `role.updated` event; the
 * role's holders get fresh claims on their next refresh. UnknownPermissionError names an id
 * that is not one of the app's permissions (nothing changes then).
 */
export async function changeRolePermissions(
  env: Env,
  appId: string,
  role: Pick<KeyedRow, "id" | "key" | "name">,
  added: string[],
  removed: string[],
  source: EventSource,
): Promise<void> {
  const ids = [...new Set([...added, ...removed])];
  const { results } = await env.DB.prepare(`SELECT id FROM permissions WHERE app_id = ? AND id ${IN_LIST}`)
    .bind(appId, listParam(ids))
    .all<{ id: string }>();
  const known = new Set(results.map((r) => r.id));
  const unknown = ids.find((id) => !known.has(id));
  if (unknown) throw new UnknownPermissionError(`No permission with id ${unknown}.`);
  const holders = await usersWithRole(env, appId, role.id);
  const db = env.DB;
  const now = Date.now();
  await db.batch([
    ...(added.length ? [db.prepare("INSERT OR IGNORE INTO role_permissions (role_id, permission_id) SELECT ?, value FROM json_each(?)").bind(role.id, listParam(added))] : []),
    ...(removed.length ? [db.prepare(`DELETE FROM role_permissions WHERE role_id = ? AND permission_id ${IN_LIST}`).bind(role.id, listParam(removed))] : []),
    bumpClaimsStatement(env, appId, HOLDS_ROLE, role.id),
    eventStatement(env, appId, "role.updated", null, { role: { id: role.id, key: role.key, name: role.name }, permissions_added: added, permissions_removed: removed }, now, source),
  ]);
  await invalidateClaims(env, appId, holders);
}

export async function roleById(env: Env, appId: string, id: string): Promise<KeyedRow | null> {
  return env.DB.prepare("SELECT * FROM roles WHERE app_id = ? AND id = ?").bind(appId, id).first<KeyedRow>();
}
