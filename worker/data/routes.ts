/**
 * `/appdata/{appKey}/{collection}[/{id}|/_count|/_permissions]` (SPEC §3). Mounted at
 * /appdata beside the ping route. Every handler: authenticate, refuse app credentials,
 * decide with acl.ts (single entity) or acl-sql.ts (sets), then touch D1.
 */
import { Hono } from "hono";
import { readJson, isPlainObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { allow, apiVersion, json, jsonText, kinveyAuth, kinveyAuthDeferred, readAuthenticated, type KinveyContext, type KinveyEnv } from "../identity/kinvey-context";
import type { Principal } from "../identity/credentials";
import { decideRead, decideReplace, decideWrite, mayCreate, type Acl, type Actor, type Outcome } from "./acl";
import type { SqlActor } from "./acl-sql";
import { collectionName, isLevel, levelOf, setLevelStatement } from "./collections";
import {
  countFrom,
  countStatement,
  deleteStatements,
  deleteWhere,
  entityDoc,
  existingIds,
  type Loaded,
  insertStatements,
  isEntityId,
  listStatement,
  loadedFrom,
  loadEntities,
  loadEntity,
  loadEntityStatement,
  pageFrom,
  newEntityId,
  parseAcl,
  replaceStatements,
  splitEntity,
} from "./entities";
import { compileQuery, compileSort, MAX_LIMIT, parseFields, parseLimit, parseQueryParam, parseSkip, project } from "./query";
import { SqlValue } from "./sql";

export const dataRoutes = new Hono<KinveyEnv>();

/** Largest array POST (Kinvey's multi-insert limit). */
const MAX_BATCH = 100;
/** Attempts when an entity changed between the decision and the write. */
const ATTEMPTS = 3;

/** Rule 1: app credentials may not touch data. */
function actorOf(c: KinveyContext): Actor {
  const principal = allow(c, "user", "master");
  return principal.kind === "master" ? { kind: "master" } : { kind: "user", id: principal.user.id, groups: new Set() };
}

/** The actor of a read under readAuthenticated: the session's user as SQL, or actorOf. */
function readActor(c: KinveyContext, userSql: { text: string; params: unknown[] } | null): SqlActor {
  return userSql ? { kind: "user", id: new SqlValue(userSql.text, userSql.params), groups: new Set() } : actorOf(c);
}

/** The actor once the principal is known (after readAuthenticated). */
function actorOfPrincipal(principal: Principal): Actor {
  return principal.kind === "master" ? { kind: "master" } : principal.kind === "user" ? { kind: "user", id: principal.user.id, groups: new Set() } : { kind: "app" };
}

function withGroups(actor: Actor, groups: Set<string>): Actor {
  return actor.kind === "user" ? { ...actor, groups } : actor;
}

function refuse(outcome: Outcome): void {
  if (outcome === "not_found") throw new KinveyError("EntityNotFound");
  if (outcome === "insufficient") throw new KinveyError("InsufficientCredentials", "The ACL of this entity does not allow this operation.");
}

function collectionOf(c: KinveyContext): string {
  return collectionName(c.req.param("collection"));
}

async function entityBody(c: KinveyContext): Promise<Record<string, unknown>> {
  const body = await readJson(c);
  if (body === undefined) return {};
  if (!isPlainObject(body)) throw new KinveyError("BadRequest", "An entity must be a JSON object.");
  return body;
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed/i.test(err.message);
}

/** The `_acl` of a new entity: the caller is the creator unless master names one. */
/**
 * The `_acl` of a new entity. The creator "is automatically set to the authenticated user
 * id" (Kinvey's ACL guide): a user's own create names itself whatever `_acl.creator` it
 * sent (an SDK may send one it copied), and only master credentials choose another.
 */
function newAcl(c: KinveyContext, actor: Actor, raw: unknown): Acl {
  const creator = actor.kind === "user" ? actor.id : c.var.app.id;
  if (raw === undefined) return { creator };
  const acl = parseAcl(raw, creator);
  return actor.kind === "master" ? acl : { ...acl, creator };
}

function queryOf(c: KinveyContext) {
  return compileQuery(parseQueryParam(c.req.query("query")));
}

// --- collection settings -------------------------------------------------------------

dataRoutes.get("/:appKey/:collection/_permissions", kinveyAuth, async (c) => {
  allow(c, "master");
  const collection = collectionOf(c);
  return json(c, { collection, level: await levelOf(c.env, c.var.app.id, collection) });
});

dataRoutes.put("/:appKey/:collection/_permissions", kinveyAuth, async (c) => {
  allow(c, "master");
  const collection = collectionOf(c);
  const body = await entityBody(c);
  if (!isLevel(body.level)) throw new KinveyError("BadRequest", 'level must be one of "shared", "private", "readonly", "full".');
  await setLevelStatement(c.env, c.var.app.id, collection, body.level).run();
  return json(c, { collection, level: body.level });
});

// --- sets ----------------------------------------------------------------------------

// Reads (count, list, get) authenticate a session token inside their own D1 round trip
// (kinveyAuthDeferred + readAuthenticated): one round trip per request.

dataRoutes.get("/:appKey/:collection/_count", kinveyAuthDeferred, async (c) => {
  const count = await readAuthenticated(c, (userSql) => {
    const actor = readActor(c, userSql);
    const collection = collectionOf(c);
    return { statement: countStatement(c.env, c.var.app.id, collection, actor, queryOf(c)), finish: countFrom };
  });
  return json(c, { count });
});

dataRoutes.get("/:appKey/:collection", kinveyAuthDeferred, async (c) => {
  const { page, limit, fields } = await readAuthenticated(c, (userSql) => {
    const actor = readActor(c, userSql);
    const collection = collectionOf(c);
    const where = queryOf(c);
    const order = compileSort(c.req.query("sort"));
    const fields = parseFields(c.req.query("fields"));
    const limit = parseLimit(c.req.query("limit"));
    const skip = parseSkip(c.req.query("skip"));
    // Without a limit, one row past the cap tells "too many" from "exactly the cap".
    const statement = listStatement(c.env, c.var.app.id, collection, actor, { where, order, limit: limit ?? MAX_LIMIT + 1, skip });
    return { statement, finish: (result) => ({ page: pageFrom(result), limit, fields }) };
  });
  if (limit === null && page.count > MAX_LIMIT) {
    throw new KinveyError("ResultSetSizeExceeded", `The query matches more than ${MAX_LIMIT} entities; add a limit or narrow the query.`);
  }
  if (fields) return json(c, (JSON.parse(page.json) as Record<string, unknown>[]).map((doc) => project(doc, fields)));
  return jsonText(c, page.json);
});

dataRoutes.delete("/:appKey/:collection", kinveyAuth, async (c) => {
  const actor = actorOf(c);
  const collection = collectionOf(c);
  const text = c.req.query("query");
  if (text === undefined || text.trim() === "") throw new KinveyError("MissingQuery");
  const where = compileQuery(parseQueryParam(text));
  return json(c, { count: await deleteWhere(c.env, c.var.app.id, collection, actor, where) });
});

// --- create --------------------------------------------------------------------------

interface Prepared {
  id: string;
  doc: Record<string, unknown>;
  statements: D1PreparedStatement[];
}

/** The document just written, built from what was written (no read-back). */
function written(id: string, acl: Acl, data: Record<string, unknown>, createdAt: number, updatedAt: number): Record<string, unknown> {
  return entityDoc({ id, creator: acl.creator, acl: JSON.stringify(acl), data: JSON.stringify(data), created_at: createdAt, updated_at: updatedAt });
}

function readOnly(): KinveyError {
  return new KinveyError("InsufficientCredentials", "This collection is read-only for users.");
}

function prepareCreate(c: KinveyContext, actor: Actor, collection: string, body: unknown, now: number, unlessReadOnly = false): Prepared {
  if (!isPlainObject(body)) throw new KinveyError("BadRequest", "An entity must be a JSON object.");
  const { id: rawId, acl: rawAcl, data } = splitEntity(body);
  if (rawId !== undefined && !isEntityId(rawId)) throw new KinveyError("BadRequest", "_id must be a string of 1 to 255 characters, not starting with _ and without / or control characters.");
  const id = (rawId as string | undefined) ?? newEntityId();
  const acl = newAcl(c, actor, rawAcl);
  return { id, doc: written(id, acl, data, now, now), statements: insertStatements(c.env, c.var.app.id, collection, id, acl, data, now, unlessReadOnly) };
}

/**
 * The error for a create whose `_id` is taken. "Already exists" only to a caller that may read
 * the entity; to anyone else the answer of a write to an entity it cannot see (SPEC §3: 404
 * EntityNotFound), so a POST cannot probe for ids that a GET hides. A row gone meanwhile
 * counts as unseen too.
 */
function takenError(actor: Actor, id: string, loaded: Loaded | undefined): KinveyError {
  const row = loaded?.row;
  if (!loaded || !row || decideRead(withGroups(actor, loaded.groups), loaded.level, JSON.parse(row.acl) as Acl) !== "ok") {
    return new KinveyError("EntityNotFound");
  }
  return new KinveyError("BadRequest", `An entity with _id ${id} already exists; PUT replaces it.`);
}

function location(c: KinveyContext, collection: string, id: string): string {
  return `${new URL(c.req.url).origin}/appdata/${encodeURIComponent(c.var.app.id)}/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`;
}

dataRoutes.post("/:appKey/:collection", kinveyAuth, async (c) => {
  const actor = actorOf(c);
  const collection = collectionOf(c);
  const body = await readJson(c);
  const appId = c.var.app.id;
  const now = Date.now();

  if (Array.isArray(body)) {
    if (apiVersion(c) < 5) throw new KinveyError("FeatureUnavailable", "Array POST needs X-Kinvey-API-Version 5 or above.");
    if (actor.kind === "user" && !mayCreate(actor, await levelOf(c.env, appId, collection))) throw readOnly();
    if (body.length === 0 || body.length > MAX_BATCH) throw new KinveyError("BadRequest", `An array POST holds 1 to ${MAX_BATCH} entities.`);
    const entities: (Record<string, unknown> | null)[] = body.map(() => null);
    const errors: { index: number; code: string; errmsg: string }[] = [];
    const prepared: (Prepared & { index: number })[] = [];
    const ids = new Set<string>();
    body.forEach((item, index) => {
      try {
        const p = prepareCreate(c, actor, collection, item, now);
        if (ids.has(p.id)) throw new KinveyError("BadRequest", `_id ${p.id} appears twice in the request.`);
        ids.add(p.id);
        prepared.push({ ...p, index });
      } catch (err) {
        if (!(err instanceof KinveyError)) throw err;
        errors.push({ index, code: err.code, errmsg: err.debug || err.message });
      }
    });
    const taken = await existingIds(c.env, appId, collection, [...ids]);
    const seen = await loadEntities(c.env, appId, collection, [...taken], actor);
    const fresh = prepared.filter((p) => {
      if (!taken.has(p.id)) return true;
      const err = takenError(actor, p.id, seen.get(p.id));
      errors.push({ index: p.index, code: err.code, errmsg: err.debug || err.message });
      return false;
    });
    if (fresh.length > 0) {
      try {
        await c.env.DB.batch(fresh.flatMap((p) => p.statements));
      } catch (err) {
        // An id taken meanwhile fails the whole batch: nothing was written.
        if (isUniqueViolation(err)) throw new KinveyError("KinveyInternalErrorRetry", "An _id was taken during the request; retry.");
        throw err;
      }
    }
    for (const p of fresh) entities[p.index] = p.doc;
    errors.sort((a, b) => a.index - b.index);
    return json(c, { entities, errors }, 207);
  }

  // A user's insert checks the Read Only level itself: no round trip to read the level first.
  const p = prepareCreate(c, actor, collection, body ?? {}, now, actor.kind === "user");
  let inserted: number;
  try {
    inserted = (await c.env.DB.batch(p.statements))[0]?.meta.changes ?? 0;
  } catch (err) {
    if (isUniqueViolation(err)) throw takenError(actor, p.id, await loadEntity(c.env, appId, collection, p.id, actor));
    throw err;
  }
  if (inserted !== 1) throw readOnly();
  c.header("Location", location(c, collection, p.id));
  return json(c, p.doc, 201);
});

// --- one entity ----------------------------------------------------------------------

function pathId(c: KinveyContext, forWrite: boolean): string {
  const id = c.req.param("id");
  if (!isEntityId(id)) throw forWrite ? new KinveyError("BadRequest", "Invalid entity id.") : new KinveyError("EntityNotFound");
  return id;
}

dataRoutes.get("/:appKey/:collection/:id", kinveyAuthDeferred, async (c) => {
  const { loaded, actor, fields } = await readAuthenticated(c, (userSql) => {
    const sqlActor = readActor(c, userSql);
    const collection = collectionOf(c);
    const id = pathId(c, false);
    const fields = parseFields(c.req.query("fields"));
    const statement = loadEntityStatement(c.env, c.var.app.id, collection, id, sqlActor);
    return { statement, finish: (result, principal) => ({ loaded: loadedFrom(result), actor: actorOfPrincipal(principal), fields }) };
  });
  const { level, row, groups } = loaded;
  if (!row) throw new KinveyError("EntityNotFound");
  refuse(decideRead(withGroups(actor, groups), level, JSON.parse(row.acl) as Acl));
  return json(c, project(entityDoc(row), fields));
});

dataRoutes.put("/:appKey/:collection/:id", kinveyAuth, async (c) => {
  const actor = actorOf(c);
  const collection = collectionOf(c);
  const id = pathId(c, true);
  const body = await entityBody(c);
  const { id: bodyId, acl: rawAcl, data } = splitEntity(body);
  if (bodyId !== undefined && bodyId !== id) throw new KinveyError("BadRequest", "_id in the body differs from the path.");
  const appId = c.var.app.id;

  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const { level, row, groups } = await loadEntity(c.env, appId, collection, id, actor);
    const now = Date.now();
    if (!row) {
      if (!mayCreate(actor, level)) throw readOnly();
      const acl = newAcl(c, actor, rawAcl);
      try {
        await c.env.DB.batch(insertStatements(c.env, appId, collection, id, acl, data, now));
      } catch (err) {
        if (isUniqueViolation(err)) continue; // created meanwhile: replace it instead
        throw err;
      }
      c.header("Location", location(c, collection, id));
      return json(c, written(id, acl, data, now, now), 201);
    }
    const current = JSON.parse(row.acl) as Acl;
    // No `_acl` keeps the stored one; a given `_acl` without creator keeps the creator.
    const next = rawAcl === undefined ? current : parseAcl(rawAcl, current.creator);
    refuse(decideReplace(withGroups(actor, groups), level, current, next));
    const results = await c.env.DB.batch(replaceStatements(c.env, appId, collection, id, row.acl, next, data, now));
    if (results[0]?.meta.changes === 1) return json(c, written(id, next, data, row.created_at, Math.max(now, row.updated_at)));
  }
  throw new KinveyError("KinveyInternalErrorRetry", "The entity kept changing during the update.");
});

dataRoutes.delete("/:appKey/:collection/:id", kinveyAuth, async (c) => {
  const actor = actorOf(c);
  const collection = collectionOf(c);
  const id = pathId(c, false);
  const appId = c.var.app.id;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const { level, row, groups } = await loadEntity(c.env, appId, collection, id, actor);
    if (!row) throw new KinveyError("EntityNotFound");
    // Rule 5: write implies delete.
    refuse(decideWrite(withGroups(actor, groups), level, JSON.parse(row.acl) as Acl));
    const results = await c.env.DB.batch(deleteStatements(c.env, appId, collection, id, row.acl));
    if (results[0]?.meta.changes === 1) return json(c, { count: 1 });
  }
  throw new KinveyError("KinveyInternalErrorRetry", "The entity kept changing during the delete.");
});
