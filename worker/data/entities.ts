/**
 * The entity store. An entity is one `entities` row (creator, gr, gw lifted out of `_acl`;
 * `_acl` and the document as JSON) plus one `entity_grants` row per named reader, writer,
 * reader group and writer group. Every write that touches `_acl` rewrites the grants in the
 * same D1 batch, derived in SQL from the same JSON, so the two cannot drift.
 */
import type { Env } from "../env";
import { isPlainObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { randomId } from "../util/crypto";
import type { Acl, Actor, Level } from "./acl";
import { aclSelect, guardedLimit, type AclSelect, type SqlActor } from "./acl-sql";
import { isLevel } from "./collections";
import { MEMBER_GROUPS, memberGroupsParams } from "./groups";
import { bind, concat, join, sql, StatementTooLarge, type Sql } from "./sql";

export interface EntityRow {
  id: string;
  creator: string;
  acl: string;
  data: string;
  created_at: number;
  updated_at: number;
}

const ENTITY_COLUMNS = "e.id, e.creator, e.acl, e.data, e.created_at, e.updated_at";
// eslint-disable-next-line no-control-regex
const ID = /^[^_\u0000-\u001f\u007f/][^\u0000-\u001f\u007f/]{0,254}$/;
const PRINCIPAL = /^[^\u0000-\u001f\u007f]{1,255}$/;
const MAX_GRANTS = 1_000;

let lastMs = 0;
let sequence = 0;

/**
 * 24 hex characters like a Mongo ObjectId, and like one ordered by creation: 11 of
 * milliseconds, 3 of a per-isolate sequence, 10 random. Lists without `sort` are in `_id`
 * order (the primary key's), which for server ids is creation order.
 */
export function newEntityId(now = Date.now()): string {
  sequence = now === lastMs ? (sequence + 1) % 4096 : 0;
  lastMs = now;
  return now.toString(16).padStart(11, "0") + sequence.toString(16).padStart(3, "0") + randomId(10, "0123456789abcdef");
}

export function isEntityId(value: unknown): value is string {
  return typeof value === "string" && ID.test(value);
}

function bad(message: string): never {
  throw new KinveyError("BadRequest", message);
}

/** The wire document: `_id`, the fields, `_acl` as stored, `_kmd` from the row's times. */
export function entityDoc(row: EntityRow): Record<string, unknown> {
  return {
    _id: row.id,
    ...(JSON.parse(row.data) as Record<string, unknown>),
    _acl: JSON.parse(row.acl) as Acl,
    _kmd: { lmt: new Date(row.updated_at).toISOString(), ect: new Date(row.created_at).toISOString() },
  };
}

/** `ms` (an integer column of epoch milliseconds) as `toISOString()` spells it, in SQL. */
function isoSql(ms: string): string {
  return `strftime('%Y-%m-%dT%H:%M:%S', ${ms} / 1000, 'unixepoch') || printf('.%03dZ', ${ms} % 1000)`;
}

/**
 * entityDoc in SQL, as JSON text: a list's page leaves D1 as one string that becomes the
 * response body as it is. Decoding 50 rows and re-encoding them cost more CPU than the query.
 * `data` and `acl` hold JSON objects; `json()` minifies them, so the fields are spliced in
 * between `_id` and `_acl` as text whatever whitespace a writer left. A row SQL cannot render
 * (a time past the year 9999) shows as `null` in the page rather than going missing from it.
 */
const ENTITY_DOC_JSON = `coalesce('{"_id":' || json_quote(e.id)
  || CASE WHEN json(e.data) != '{}' THEN ',' || substr(json(e.data), 2, length(json(e.data)) - 2) ELSE '' END
  || ',"_acl":' || json(e.acl)
  || ',"_kmd":{"lmt":"' || ${isoSql("e.updated_at")} || '","ect":"' || ${isoSql("e.created_at")} || '"}}', 'null')`;

/** Splits a client document into `_id`, `_acl` (raw) and the stored fields; `_kmd` is dropped. */
export function splitEntity(body: Record<string, unknown>): { id: unknown; acl: unknown; data: Record<string, unknown> } {
  const { _id: id, _acl: acl, _kmd: _ignored, ...data } = body;
  return { id, acl, data };
}

function principals(value: unknown, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_GRANTS || !value.every((v) => typeof v === "string" && PRINCIPAL.test(v))) {
    bad(`_acl.${what} must be an array of at most ${MAX_GRANTS} id strings.`);
  }
  return [...new Set(value as string[])];
}

/**
 * Validates a client `_acl`. A missing `creator` means "unchanged" (`creator` argument);
 * `gr`/`gw` are kept only when given, so an SDK round-trip never flips them.
 */
export function parseAcl(value: unknown, creator: string): Acl {
  if (!isPlainObject(value)) bad("_acl must be an object.");
  const acl: Acl = { creator };
  if (value.creator !== undefined) {
    if (typeof value.creator !== "string" || !PRINCIPAL.test(value.creator)) bad("_acl.creator must be an id string.");
    acl.creator = value.creator;
  }
  for (const flag of ["gr", "gw"] as const) {
    if (value[flag] === undefined || value[flag] === null) continue;
    if (typeof value[flag] !== "boolean") bad(`_acl.${flag} must be true or false.`);
    acl[flag] = value[flag];
  }
  const r = principals(value.r, "r");
  const w = principals(value.w, "w");
  if (r) acl.r = r;
  if (w) acl.w = w;
  if (value.groups !== undefined) {
    if (!isPlainObject(value.groups)) bad("_acl.groups must be an object {r, w}.");
    const groups: { r?: string[]; w?: string[] } = {};
    const gr = principals(value.groups.r, "groups.r");
    const gw = principals(value.groups.w, "groups.w");
    if (gr) groups.r = gr;
    if (gw) groups.w = gw;
    acl.groups = groups;
  }
  return acl;
}

function flag(value: boolean | undefined): number | null {
  return value === undefined ? null : value ? 1 : 0;
}

/** Grants derived from the `_acl` JSON, guarded so they follow only the ACL actually stored. */
function grantStatements(env: Env, appId: string, collection: string, id: string, aclJson: string): D1PreparedStatement[] {
  const stored = "EXISTS (SELECT 1 FROM entities WHERE app_id = ?1 AND collection = ?2 AND id = ?3 AND acl = ?4)";
  return [
    env.DB.prepare(`DELETE FROM entity_grants WHERE app_id = ?1 AND collection = ?2 AND entity_id = ?3 AND ${stored}`).bind(appId, collection, id, aclJson),
    env.DB.prepare(
      `INSERT OR IGNORE INTO entity_grants (app_id, collection, entity_id, kind, right, principal_id)
       SELECT ?1, ?2, ?3, kind, right, value FROM (
         SELECT 'u' AS kind, 'r' AS right, value FROM json_each(?4, '$.r')
         UNION ALL SELECT 'u', 'w', value FROM json_each(?4, '$.w')
         UNION ALL SELECT 'g', 'r', value FROM json_each(?4, '$.groups.r')
         UNION ALL SELECT 'g', 'w', value FROM json_each(?4, '$.groups.w'))
       WHERE ${stored}`,
    ).bind(appId, collection, id, aclJson),
  ];
}

/**
 * Create. With `unlessReadOnly` the insert itself checks the collection's level (a user may
 * not create in a Read Only collection) and inserts nothing there: the first statement's
 * `changes` is then 0, and the guarded grant statements find no entity either.
 */
export function insertStatements(
  env: Env,
  appId: string,
  collection: string,
  id: string,
  acl: Acl,
  data: Record<string, unknown>,
  now: number,
  unlessReadOnly = false,
): D1PreparedStatement[] {
  const aclJson = JSON.stringify(acl);
  const guard = unlessReadOnly ? "WHERE coalesce((SELECT level FROM collections WHERE app_id = ?1 AND name = ?2), 'shared') != 'readonly'" : "";
  return [
    env.DB.prepare(
      `INSERT INTO entities (app_id, collection, id, creator, gr, gw, acl, data, created_at, updated_at)
       SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9 ${guard}`,
    ).bind(appId, collection, id, acl.creator, flag(acl.gr), flag(acl.gw), aclJson, JSON.stringify(data), now),
    ...grantStatements(env, appId, collection, id, aclJson),
  ];
}

/**
 * Full replace. `previousAcl` guards the update: if the ACL changed since the caller's
 * permission was decided, nothing is written (the first statement reports 0 changes).
 */
export function replaceStatements(
  env: Env,
  appId: string,
  collection: string,
  id: string,
  previousAclJson: string,
  acl: Acl,
  data: Record<string, unknown>,
  now: number,
): D1PreparedStatement[] {
  const aclJson = JSON.stringify(acl);
  return [
    env.DB.prepare(
      `UPDATE entities SET creator = ?, gr = ?, gw = ?, acl = ?, data = ?, updated_at = max(?, updated_at)
        WHERE app_id = ? AND collection = ? AND id = ? AND acl = ?`,
    ).bind(acl.creator, flag(acl.gr), flag(acl.gw), aclJson, JSON.stringify(data), now, appId, collection, id, previousAclJson),
    ...(aclJson === previousAclJson ? [] : grantStatements(env, appId, collection, id, aclJson)),
  ];
}

/** Deletes one entity if its ACL is still `previousAclJson`; then its grants. */
export function deleteStatements(env: Env, appId: string, collection: string, id: string, previousAclJson: string): D1PreparedStatement[] {
  return [
    env.DB.prepare("DELETE FROM entities WHERE app_id = ? AND collection = ? AND id = ? AND acl = ?").bind(appId, collection, id, previousAclJson),
    env.DB.prepare(
      "DELETE FROM entity_grants WHERE app_id = ?1 AND collection = ?2 AND entity_id = ?3 AND NOT EXISTS (SELECT 1 FROM entities WHERE app_id = ?1 AND collection = ?2 AND id = ?3)",
    ).bind(appId, collection, id),
  ];
}

export interface Loaded {
  level: Level;
  row: EntityRow | null;
  /** The caller's groups among the entity's group grants (all that the decision needs). */
  groups: Set<string>;
}

type LoadedRow = EntityRow & { level: string | null; my_groups: string };

/** Level, entity and the caller's relevant group memberships in one statement. */
export function loadEntityStatement(env: Env, appId: string, collection: string, id: string, actor: SqlActor): D1PreparedStatement {
  const user = actor.kind === "user" ? actor.id : null;
  const q = concat(
    user ? sql(`WITH RECURSIVE ${MEMBER_GROUPS} `, ...memberGroupsParams(appId, user)) : "",
    "SELECT c.level AS level, ",
    ENTITY_COLUMNS,
    user
      ? sql(
          `, (SELECT json_group_array(g.principal_id) FROM entity_grants g INDEXED BY entity_grants_entity
               WHERE g.app_id = ? AND g.collection = ? AND g.entity_id = ? AND g.kind = 'g' AND g.principal_id IN (SELECT id FROM mg)) AS my_groups`,
          appId,
          collection,
          id,
        )
      : ", '[]' AS my_groups",
    sql(
      ` FROM (SELECT 1) AS one
        LEFT JOIN collections c ON c.app_id = ? AND c.name = ?
        LEFT JOIN entities e ON e.app_id = ? AND e.collection = ? AND e.id = ?`,
      appId,
      collection,
      appId,
      collection,
      id,
    ),
  );
  return bind(env.DB, q);
}

/** What loadEntityStatement read (its one row). */
export function loadedFrom(result: D1Result): Loaded {
  const row = result.results[0] as LoadedRow;
  return {
    level: isLevel(row.level) ? row.level : "shared",
    row: row.id === null ? null : row,
    groups: new Set(JSON.parse(row.my_groups) as string[]),
  };
}

export async function loadEntity(env: Env, appId: string, collection: string, id: string, actor: SqlActor): Promise<Loaded> {
  return loadedFrom(await loadEntityStatement(env, appId, collection, id, actor).all());
}

/** loadEntity for several ids in one D1 round trip. */
export async function loadEntities(env: Env, appId: string, collection: string, ids: string[], actor: SqlActor): Promise<Map<string, Loaded>> {
  if (ids.length === 0) return new Map();
  const results = await env.DB.batch(ids.map((id) => loadEntityStatement(env, appId, collection, id, actor)));
  return new Map(ids.map((id, i) => [id, loadedFrom(results[i] as D1Result)]));
}

/** Ids among `ids` that already exist (array POST). */
export async function existingIds(env: Env, appId: string, collection: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { results } = await env.DB.prepare("SELECT id FROM entities WHERE app_id = ? AND collection = ? AND id IN (SELECT value FROM json_each(?))")
    .bind(appId, collection, JSON.stringify(ids))
    .all<{ id: string }>();
  return new Set(results.map((r) => r.id));
}

export interface ListOptions {
  where: Sql;
  order: Sql | null;
  limit: number;
  skip: number;
}

type Arm = AclSelect["arms"][number];

/** Prepares a statement built from a client query; one too big for D1 is the client's error. */
function prepareQuery(env: Env, q: Sql): D1PreparedStatement {
  try {
    return bind(env.DB, q);
  } catch (err) {
    if (err instanceof StatementTooLarge) {
      throw new KinveyError("InvalidQuerySyntax", `The query is too large for one statement (${err.message}). Use $in for long lists of values.`);
    }
    throw err;
  }
}

/** The ACL arms (see aclSelect) with the query's predicate added to each. */
function filtered(actor: SqlActor, right: "r" | "w", appId: string, collection: string, where: Sql): { with: Sql | string; arms: Arm[] } {
  const acl = aclSelect(actor, right, appId, collection);
  return { with: acl.with ?? "", arms: acl.arms.map((arm) => ({ ...arm, where: concat(arm.where, " AND ", where) })) };
}

/** One page of a list: how many entities it holds and their wire documents as a JSON array. */
export interface Page {
  count: number;
  json: string;
}

/** Readable matches, one page, in one statement (the collection's level is read inside it). */
export async function listEntities(env: Env, appId: string, collection: string, actor: SqlActor, options: ListOptions): Promise<Page> {
  return pageFrom(await listStatement(env, appId, collection, actor, options).all());
}

/** The page of a listStatement result. */
export function pageFrom(result: D1Result): Page {
  const row = result.results[0] as { count: number; json: string };
  return { count: row.count, json: row.json };
}

export function listStatement(env: Env, appId: string, collection: string, actor: SqlActor, options: ListOptions): D1PreparedStatement {
  const f = filtered(actor, "r", appId, collection, options.where);
  // `_id` is the default order and the tie-breaker, so pages are stable.
  const orderBy = concat(options.order ? concat(options.order, ", ") : "", "e.id");
  const page = (arm: Arm) =>
    concat(`SELECT ${ENTITY_COLUMNS} FROM ${arm.from} WHERE `, arm.where, " ORDER BY ", orderBy, " LIMIT ", guardedLimit(arm.guard, options.limit), sql(" OFFSET ?", options.skip));
  // Each arm keeps its own ORDER BY/LIMIT (it stops at its page's end); the aggregate's
  // ORDER BY puts the page in order again (the columns keep their names under alias `e`).
  const rows = f.arms.length === 1 ? page(f.arms[0]!) : join(f.arms.map((arm) => concat("SELECT * FROM (", page(arm), ")")), " UNION ALL ");
  const q = concat(f.with, `SELECT count(*) AS count, '[' || coalesce(group_concat(${ENTITY_DOC_JSON}, ',' ORDER BY `, orderBy, "), '') || ']' AS json FROM (", rows, ") AS e");
  return prepareQuery(env, q);
}

export async function countEntities(env: Env, appId: string, collection: string, actor: SqlActor, where: Sql): Promise<number> {
  return countFrom(await countStatement(env, appId, collection, actor, where).all());
}

/** The count of a countStatement result. */
export function countFrom(result: D1Result): number {
  return (result.results[0] as { count: number } | undefined)?.count ?? 0;
}

export function countStatement(env: Env, appId: string, collection: string, actor: SqlActor, where: Sql): D1PreparedStatement {
  const f = filtered(actor, "r", appId, collection, where);
  // A CASE branch not taken is never evaluated: only the arm whose guard holds counts.
  const counts = f.arms.map((arm) => {
    const count = concat(`(SELECT count(*) FROM ${arm.from} WHERE `, arm.where, ")");
    return arm.guard ? concat("(CASE WHEN ", arm.guard, " THEN ", count, " ELSE 0 END)") : count;
  });
  return prepareQuery(env, concat(f.with, "SELECT ", join(counts, " + "), " AS count"));
}

/**
 * Deletes the matches the caller may write, atomically. The writable matches are first
 * marked (their creator set to a one-off marker, an indexed column) while their grants
 * still exist, so the grants and then the entities can be deleted by that mark.
 */
export async function deleteWhere(env: Env, appId: string, collection: string, actor: Actor, where: Sql): Promise<number> {
  const mark = `\u0001deleting:${randomId(32)}`;
  const f = filtered(actor, "w", appId, collection, where);
  const writable = f.arms.map((arm) => concat(`SELECT * FROM (SELECT e.rowid FROM ${arm.from} WHERE `, arm.where, " LIMIT ", guardedLimit(arm.guard, -1), ")"));
  const results = await env.DB.batch([
    prepareQuery(env, concat(f.with, sql("UPDATE entities SET creator = ? WHERE rowid IN (", mark), join(writable, " UNION ALL "), ")")),
    env.DB.prepare(
      "DELETE FROM entity_grants WHERE app_id = ?1 AND collection = ?2 AND entity_id IN (SELECT id FROM entities WHERE app_id = ?1 AND collection = ?2 AND creator = ?3)",
    ).bind(appId, collection, mark),
    env.DB.prepare("DELETE FROM entities WHERE app_id = ? AND collection = ? AND creator = ?").bind(appId, collection, mark),
  ]);
  return results[results.length - 1]?.meta.changes ?? 0;
}
