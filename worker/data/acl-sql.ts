/**
 * SPEC §3's ACL rules (acl.ts) compiled into a WHERE fragment over `entities e`, so lists,
 * counts and delete-by-query never load an entity the caller may not see.
 *
 * Each disjunct is answerable from an index, which lets SQLite run the whole OR as a
 * MULTI-INDEX OR (a union of index ranges) instead of scanning the collection:
 *   creator        → entities_creator (app_id, collection, creator)
 *   gr/gw          → entities_gr / entities_gw (app_id, collection, gr|gw)
 *   named grants   → entity_grants primary key (app_id, collection, kind, right, principal_id, …)
 *   group grants   → the same, for each group of the caller's membership CTE (groups.ts)
 */
import { LEVEL_DEFAULTS, type Actor, type Level, type Right } from "./acl";
import { MEMBER_GROUPS } from "./groups";
import { sql, type Sql } from "./sql";

export interface AclFilter {
  /** A `WITH RECURSIVE` clause the statement must start with, or null. */
  with: Sql | null;
  where: Sql;
}

export function aclFilter(actor: Actor, level: Level, right: Right, appId: string, collection: string): AclFilter {
  if (actor.kind === "master") return { with: null, where: sql("1") }; // rule 1
  if (actor.kind === "app") return { with: null, where: sql("0") };
  const column = right === "r" ? "e.gr" : "e.gw";
  const byDefault = right === "r" ? LEVEL_DEFAULTS[level].read : LEVEL_DEFAULTS[level].write;
  // Rule 4: an explicit flag wins; NULL means "the collection's default".
  const global = byDefault ? `${column} IS NOT 0` : `${column} = 1`;
  return {
    with: sql(`WITH RECURSIVE ${MEMBER_GROUPS} `, appId, actor.id, appId, appId),
    where: sql(
      `(e.creator = ? OR ${global}
        OR e.id IN (SELECT entity_id FROM entity_grants WHERE app_id = ? AND collection = ? AND kind = 'u' AND right = '${right}' AND principal_id = ?)
        OR e.id IN (SELECT entity_id FROM entity_grants WHERE app_id = ? AND collection = ? AND kind = 'g' AND right = '${right}' AND principal_id IN (SELECT id FROM mg)))`,
      actor.id,
      appId,
      collection,
      actor.id,
      appId,
      collection,
    ),
  };
}
