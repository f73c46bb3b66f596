/**
 * Upstream connections on the management API (Kinde's paths and envelopes; scopes
 * read:connections, create:connections, update:connections, delete:connections):
 *   GET    /connections                 {code, message, connections: [...], has_more}
 *   POST   /connections                 {name, display_name, strategy, options} → 201 {connection: {id}}
 *   GET    /connections/{id}            {code, message, connection}
 *   PATCH  /connections/{id}            fields to change; options merge
 *   DELETE /connections/{id}            its users' identities go with it
 * Latch's extras beside Kinde's fields: `enabled`, the non-secret `options` and `callback_url`.
 */
import { Hono } from "hono";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { ConnectionNameTakenError, createConnection, deleteConnection, updateConnection } from "../connections/changes";
import { ConnectionInputError, connectionView } from "../connections/input";
import { connectionById, connectionsOfApp } from "../connections/store";
import { requestIssuer } from "../tenancy/apps";
import { bad, need, ok, type ManageContext, type ManageEnv } from "./context";

export const connectionManageRoutes = new Hono<ManageEnv>();

function asApiError(err: unknown): never {
  if (err instanceof ConnectionInputError) bad(err.message);
  if (err instanceof ConnectionNameTakenError) throw new ApiError("CONNECTION_NAME_TAKEN", err.message);
  throw err;
}

function issuer(c: ManageContext): string {
  return requestIssuer(new URL(c.req.url).host);
}

async function connectionOf(c: ManageContext) {
  const id = c.req.param("connectionId")!;
  const connection = await connectionById(c.env, c.var.app.id, id);
  if (!connection) throw new ApiError("CONNECTION_NOT_FOUND", `No connection with id ${id}.`);
  return connection;
}

connectionManageRoutes.get("/connections", need("read:connections"), async (c) => {
  const list = await connectionsOfApp(c.env, c.var.app.id);
  return ok(c, { connections: list.map((x) => connectionView(x, issuer(c))), has_more: false });
});

connectionManageRoutes.post("/connections", need("create:connections"), async (c) => {
  const connection = await createConnection(c.env, c.var.app.id, await readJsonObject(c), "api").catch(asApiError);
  return ok(c, { connection: { id: connection.id } }, 201, "CONNECTION_CREATED", "Connection successfully created");
});

connectionManageRoutes.get("/connections/:connectionId", need("read:connections"), async (c) => {
  return ok(c, { connection: connectionView(await connectionOf(c), issuer(c)) });
});

connectionManageRoutes.patch("/connections/:connectionId", need("update:connections"), async (c) => {
  await updateConnection(c.env, await connectionOf(c), await readJsonObject(c), "api").catch(asApiError);
  return ok(c, {}, 200, "CONNECTION_UPDATED", "Connection successfully updated");
});

connectionManageRoutes.delete("/connections/:connectionId", need("delete:connections"), async (c) => {
  await deleteConnection(c.env, await connectionOf(c), "api");
  return ok(c, {}, 200, "CONNECTION_DELETED", "Connection successfully deleted");
});
