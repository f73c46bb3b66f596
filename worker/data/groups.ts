/**
 * Kinvey user groups: the store, and the one recursive query that answers "which groups is
 * this user in" (direct members, `users.all` groups, and every ancestor through nesting).
 * `UNION` (not `UNION ALL`) makes cycles terminate. It is spliced into the statement that
 * needs it, so membership never costs a round trip of its own, nor a lookup per entity.
 */
import type { Env } from "../env";
import { isPlainObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { randomId } from "../util/crypto";
import type { SqlValue } from "./sql";

/** CTE `mg(id)`; parameters: appId, userId, appId, appId. */
// INDEXED BY and CROSS JOIN pin the plan: D1 keeps no ANALYZE statistics, and without them
// SQLite would rather scan an app's whole primary-key range than use the (app, user) index.
export const MEMBER_GROUPS = `mg(id) AS (
  SELECT group_id FROM group_users INDEXED BY group_users_user WHERE app_id = ? AND user_id = ?
  UNION SELECT id FROM groups INDEXED BY groups_all_users WHERE app_id = ? AND all_users = 1
  UNION SELECT gc.parent_id FROM mg CROSS JOIN group_children gc INDEXED BY group_children_child ON gc.app_id = ? AND gc.child_id = mg.id
)`;

export function memberGroupsParams(appId: string, userId: string | SqlValue): unknown[] {
  return [appId, userId, appId, appId];
}

/** Every group `userId` belongs to. Used where a whole set is needed (tests, tools). */
export async function groupsOfUser(env: Env, appId: string, userId: string): Promise<string[]> {
  const { results } = await env.DB.prepare(`WITH RECURSIVE ${MEMBER_GROUPS} SELECT id FROM mg ORDER BY id`)
    .bind(...memberGroupsParams(appId, userId))
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

export interface GroupInput {
  id: string;
  all: boolean;
  users: string[];
  children: string[];
  doc: Record<string, unknown>;
}

const ID = /^[A-Za-z0-9_\-.:@]{1,128}$/;
const MAX_MEMBERS = 10_000;
const MAX_CHILDREN = 1_000;

function bad(message: string): never {
  throw new KinveyError("BadRequest", message);
}

/** A ref is a bare id or a KinveyRef `{_type: "KinveyRef", _collection, _id}`. */
function refId(value: unknown, what: string): string {
  const id = isPlainObject(value) ? value._id : value;
  if (typeof id !== "string" || !ID.test(id)) bad(`${what} must hold ids or KinveyRefs with an _id.`);
  return id;
}

/** Validates a Kinvey group document. `id` comes from the path (PUT) or `_id`/a new id (POST). */
export function parseGroup(body: Record<string, unknown>, pathId?: string): GroupInput {
  const id = pathId ?? (body._id === undefined ? randomId(24, "0123456789abcdef") : body._id);
  if (typeof id !== "string" || !ID.test(id)) bad("_id must be 1 to 128 letters, digits or _-.:@");
  if (pathId !== undefined && body._id !== undefined && body._id !== pathId) bad("_id in the body differs from the path.");
  let all = false;
  let users: string[] = [];
  if (body.users !== undefined) {
    if (!isPlainObject(body.users)) bad("users must be an object {all, list}.");
    if (body.users.all !== undefined && typeof body.users.all !== "boolean") bad("users.all must be a boolean.");
    all = body.users.all === true;
    const list = body.users.list ?? [];
    if (!Array.isArray(list) || list.length > MAX_MEMBERS) bad(`users.list must be an array of at most ${MAX_MEMBERS} users.`);
    users = [...new Set(list.map((u) => refId(u, "users.list")))];
  }
  const groupsValue = body.groups ?? [];
  if (!Array.isArray(groupsValue) || groupsValue.length > MAX_CHILDREN) bad(`groups must be an array of at most ${MAX_CHILDREN} groups.`);
  const children = [...new Set(groupsValue.map((g) => refId(g, "groups")))];
  const doc: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!["_id", "_acl", "_kmd", "users", "groups"].includes(k)) doc[k] = v;
  return { id, all, users, children, doc };
}

interface GroupRow {
  id: string;
  all_users: number;
  doc: string;
  created_at: number;
  updated_at: number;
  users: string;
  children: string;
}

/** The group with its members and children, in one read. */
export async function groupById(env: Env, appId: string, id: string): Promise<Record<string, unknown> | null> {
  const row = await env.DB.prepare(
    `SELECT g.id, g.all_users, g.doc, g.created_at, g.updated_at,
            (SELECT json_group_array(user_id) FROM (SELECT user_id FROM group_users WHERE app_id = ?1 AND group_id = ?2 ORDER BY user_id)) AS users,
            (SELECT json_group_array(child_id) FROM (SELECT child_id FROM group_children WHERE app_id = ?1 AND parent_id = ?2 ORDER BY child_id)) AS children
       FROM groups g WHERE g.app_id = ?1 AND g.id = ?2`,
  )
    .bind(appId, id)
    .first<GroupRow>();
  if (!row) return null;
  const ref = (collection: string) => (id: string) => ({ _type: "KinveyRef", _collection: collection, _id: id });
  return {
    ...(JSON.parse(row.doc) as Record<string, unknown>),
    _id: row.id,
    users: { all: row.all_users === 1, list: (JSON.parse(row.users) as string[]).map(ref("user")) },
    groups: (JSON.parse(row.children) as string[]).map(ref("group")),
    _kmd: { ect: new Date(row.created_at).toISOString(), lmt: new Date(row.updated_at).toISOString() },
  };
}

/** Statements that create or fully replace a group (one batch). */
export function saveGroupStatements(env: Env, appId: string, group: GroupInput, now: number): D1PreparedStatement[] {
  const db = env.DB;
  return [
    db
      .prepare(
        `INSERT INTO groups (app_id, id, all_users, doc, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (app_id, id) DO UPDATE SET all_users = excluded.all_users, doc = excluded.doc, updated_at = excluded.updated_at`,
      )
      .bind(appId, group.id, group.all ? 1 : 0, JSON.stringify(group.doc), now),
    db.prepare("DELETE FROM group_users WHERE app_id = ? AND group_id = ?").bind(appId, group.id),
    db.prepare("INSERT INTO group_users (app_id, group_id, user_id) SELECT ?, ?, value FROM json_each(?)").bind(appId, group.id, JSON.stringify(group.users)),
    db.prepare("DELETE FROM group_children WHERE app_id = ? AND parent_id = ?").bind(appId, group.id),
    db
      .prepare("INSERT INTO group_children (app_id, parent_id, child_id) SELECT ?, ?, value FROM json_each(?)")
      .bind(appId, group.id, JSON.stringify(group.children)),
  ];
}

export function deleteGroupStatements(env: Env, appId: string, id: string): D1PreparedStatement[] {
  const db = env.DB;
  return [
    db.prepare("DELETE FROM groups WHERE app_id = ? AND id = ?").bind(appId, id),
    db.prepare("DELETE FROM group_users WHERE app_id = ? AND group_id = ?").bind(appId, id),
    // Both directions: a group recreated under this id must not inherit old parents.
    db.prepare("DELETE FROM group_children WHERE app_id = ?1 AND (parent_id = ?2 OR child_id = ?2)").bind(appId, id),
  ];
}
