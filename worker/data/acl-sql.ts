/**
 * SPEC §3's ACL rules (acl.ts) compiled into a predicate over `entities e` — scope (app,
 * collection) included — so lists, counts and delete-by-query never load an entity the
 * caller may not see.
 *
 * Two shapes, chosen by the collection's default for the right asked:
 * - default "no" (Private; writes on Shared/Read Only): the readable set is small and is
 *   built from indexes alone, as a UNION of rowids:
 *     creator       → entities_creator (app_id, collection, creator)
 *     gr/gw = 1     → entities_gr / entities_gw (app_id, collection, gr|gw)
 *     named grants  → entity_grants primary key (app_id, collection, kind, right, principal_id)
 *     group grants  → the same, once per group of the caller's membership CTE (groups.ts)
 *   and `e.rowid IN (…)` is the only constraint on `e`, so SQLite fetches exactly those rows.
 *   (With app_id/collection also on `e`, SQLite without ANALYZE statistics prefers to walk
 *   the whole collection by index and test each rowid: 100k rows for 100 matches.)
 * - default "yes" (reads on Shared/Read Only/Full, writes on Full): most rows qualify, so the
 *   collection range is walked in `_id` order and filtered, stopping at the page's end.
 */
import { LEVEL_DEFAULTS, LEVELS, type Actor, type Level, type Right } from "./acl";
import { MEMBER_GROUPS, memberGroupsParams } from "./groups";
import { concat, sql, type Sql, type SqlValue } from "./sql";

/**
 * Who asks, as the SQL sees it: an Actor, or a user whose id the statement reads itself from
 * the session (SqlValue), so the session lookup costs no round trip of its own.
 */
export type SqlActor = Actor | { kind: "user"; id: SqlValue; groups: Set<string> };

export interface AclFilter {
  /** A `WITH RECURSIVE` clause the statement must start with, or null. */
  with: Sql | null;
  /** The FROM clause: `entities e`, possibly behind a guard (aclFilterVariants). */
  from: string;
  /** The complete predicate over `entities e`, app and collection included. */
  where: Sql;
}

/**
 * Walking a collection goes through the primary key (app_id, collection, id): `_id` is the
 * default order, so a first page stops after its last row. Pinned because, without ANALYZE
 * statistics, SQLite picks any (app_id, collection, …) index and then sorts the whole range.
 * `sqlite_autoindex_entities_1` is SQLite's fixed name for the table's PRIMARY KEY index.
 */
const WALK = "entities e INDEXED BY sqlite_autoindex_entities_1";

export function aclFilter(actor: SqlActor, level: Level, right: Right, appId: string, collection: string): AclFilter {
  const scope = sql("e.app_id = ? AND e.collection = ?", appId, collection);
  if (actor.kind === "master") return { with: null, from: WALK, where: scope }; // rule 1
  if (actor.kind === "app") return { with: null, from: "entities e", where: sql("0") };
  const flag = right === "r" ? "gr" : "gw";
  const byDefault = right === "r" ? LEVEL_DEFAULTS[level].read : LEVEL_DEFAULTS[level].write;
  const withClause = sql(`WITH RECURSIVE ${MEMBER_GROUPS} `, ...memberGroupsParams(appId, actor.id));
  // `right` and `flag` are from closed sets (never input); every value is bound.
  const grants = (kind: "u" | "g", principal: string) =>
    `SELECT entity_id FROM entity_grants WHERE app_id = ? AND collection = ? AND kind = '${kind}' AND right = '${right}' AND principal_id ${principal}`;

  if (byDefault) {
    // Rule 4: an explicit flag wins; NULL means "the collection's default" (here: yes).
    return {
      with: withClause,
      from: WALK,
      where: sql(
        `e.app_id = ? AND e.collection = ? AND (e.${flag} IS NOT 0 OR e.creator = ?
          OR e.id IN (${grants("u", "= ?")}) OR e.id IN (${grants("g", "IN (SELECT id FROM mg)")}))`,
        appId,
        collection,
        actor.id,
        appId,
        collection,
        actor.id,
        appId,
        collection,
      ),
    };
  }
  const viaGrant = (principal: string) =>
    `SELECT x.rowid FROM ${principal === "mg" ? "mg CROSS JOIN " : ""}entity_grants g
       CROSS JOIN entities x ON x.app_id = g.app_id AND x.collection = g.collection AND x.id = g.entity_id
      WHERE g.app_id = ? AND g.collection = ? AND g.kind = '${principal === "mg" ? "g" : "u"}' AND g.right = '${right}'
        AND g.principal_id = ${principal === "mg" ? "mg.id" : "?"}`;
  return {
    with: withClause,
    from: "entities e",
    where: sql(
      `e.rowid IN (
         SELECT rowid FROM entities INDEXED BY entities_creator WHERE app_id = ? AND collection = ? AND creator = ?
         UNION SELECT rowid FROM entities INDEXED BY entities_${flag} WHERE app_id = ? AND collection = ? AND ${flag} = 1
         UNION ${viaGrant("user")}
         UNION ${viaGrant("mg")})`,
      appId,
      collection,
      actor.id,
      appId,
      collection,
      appId,
      collection,
      actor.id,
      appId,
      collection,
    ),
  };
}

/** A filter for a collection whose level is not known yet: `with`, then one arm per shape. */
export interface AclSelect {
  with: Sql | null;
  /** `guard`: a boolean over the collection's level; null when the arm always applies. */
  arms: { from: string; where: Sql; guard: Sql | null }[];
}

/**
 * Reading the level costs no round trip of its own: the statement carries one arm per ACL
 * shape, each with a guard that reads the level (a primary-key lookup). Exactly one guard
 * holds. Callers must make a false guard stop its arm before any row is read: `LIMIT 0`
 * (SQLite checks the limit before the loop) or a CASE branch not taken. A guard in WHERE
 * would not do: SQLite does not hoist a subquery term, it would test it on every row.
 */
export function aclSelect(actor: SqlActor, right: Right, appId: string, collection: string): AclSelect {
  if (actor.kind !== "user") {
    const f = aclFilter(actor, "shared", right, appId, collection);
    return { with: f.with, arms: [{ from: f.from, where: f.where, guard: null }] };
  }
  const open = LEVELS.filter((l) => (right === "r" ? LEVEL_DEFAULTS[l].read : LEVEL_DEFAULTS[l].write));
  const closed = LEVELS.filter((l) => !open.includes(l));
  const arms: AclSelect["arms"] = [];
  let withClause: Sql | null = null;
  for (const levels of [open, closed]) {
    if (levels.length === 0) continue;
    const f = aclFilter(actor, levels[0] as Level, right, appId, collection);
    withClause = f.with; // the same membership CTE for both shapes
    const inList = levels.map((l) => `'${l}'`).join(", ");
    const guard = sql(`coalesce((SELECT level FROM collections WHERE app_id = ? AND name = ?), 'shared') IN (${inList})`, appId, collection);
    arms.push({ from: f.from, where: f.where, guard });
  }
  return { with: withClause, arms };
}

/** `LIMIT` for an arm: `limit` rows when the guard holds, none otherwise (-1: no limit). */
export function guardedLimit(guard: Sql | null, limit: number): Sql {
  return guard ? concat("(CASE WHEN ", guard, sql(" THEN ? ELSE 0 END)", limit)) : sql("?", limit);
}
