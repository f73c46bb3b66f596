/**
 * `/group/{appKey}[/{id}]` (SPEC §3): Kinvey user groups. Users may read a group; only
 * master creates, replaces or deletes one.
 */
import { Hono } from "hono";
import { readJson, isPlainObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { allow, json, kinveyAuth, noContent, type KinveyContext, type KinveyEnv } from "../identity/kinvey-context";
import { deleteGroupStatements, groupById, parseGroup, saveGroupStatements } from "./groups";

export const groupRoutes = new Hono<KinveyEnv>();

async function groupBody(c: KinveyContext): Promise<Record<string, unknown>> {
  const body = await readJson(c);
  if (body === undefined) return {};
  if (!isPlainObject(body)) throw new KinveyError("BadRequest", "A group must be a JSON object.");
  return body;
}

groupRoutes.post("/:appKey", kinveyAuth, async (c) => {
  allow(c, "master");
  const group = parseGroup(await groupBody(c));
  const appId = c.var.app.id;
  if (await groupById(c.env, appId, group.id)) throw new KinveyError("BadRequest", `A group with _id ${group.id} already exists; PUT replaces it.`);
  await c.env.DB.batch(saveGroupStatements(c.env, appId, group, Date.now()));
  return json(c, await groupById(c.env, appId, group.id), 201);
});

groupRoutes.get("/:appKey/:id", kinveyAuth, async (c) => {
  allow(c, "user", "master");
  const group = await groupById(c.env, c.var.app.id, c.req.param("id"));
  if (!group) throw new KinveyError("EntityNotFound", "No such group.");
  return json(c, group);
});

groupRoutes.put("/:appKey/:id", kinveyAuth, async (c) => {
  allow(c, "master");
  const group = parseGroup(await groupBody(c), c.req.param("id"));
  await c.env.DB.batch(saveGroupStatements(c.env, c.var.app.id, group, Date.now()));
  return json(c, await groupById(c.env, c.var.app.id, group.id));
});

groupRoutes.delete("/:appKey/:id", kinveyAuth, async (c) => {
  allow(c, "master");
  const appId = c.var.app.id;
  const id = c.req.param("id");
  const results = await c.env.DB.batch(deleteGroupStatements(c.env, appId, id));
  if (results[0]?.meta.changes !== 1) throw new KinveyError("EntityNotFound", "No such group.");
  return noContent(c);
});
