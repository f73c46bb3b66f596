/**
 * Upstream connections on the operator API (bearer ADMIN_TOKEN), mounted under /admin:
 *   POST   /admin/apps/{app}/connections          {name, display_name, strategy, enabled, options} → 201
 *   GET    /admin/apps/{app}/connections          {connections: [...]}
 *   GET    /admin/apps/{app}/connections/{id}
 *   PATCH  /admin/apps/{app}/connections/{id}     fields to change; options merge
 *   DELETE /admin/apps/{app}/connections/{id}     204; its users' identities go with it
 * The body is Kinde's connection shape (docs/upstream.md); secrets are never shown again.
 */
import { Hono } from "hono";
import { requireAdmin } from "./routes";
import type { Env } from "../env";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { ConnectionNameTakenError, createConnection, deleteConnection, updateConnection } from "../connections/changes";
import { ConnectionInputError, connectionView } from "../connections/input";
import { connectionById, connectionsOfApp } from "../connections/store";
import { appById, canonicalIssuer, type App } from "../tenancy/apps";

type AdminEnv = { Bindings: Env };
export const connectionAdminRoutes = new Hono<AdminEnv>();
connectionAdminRoutes.use("/apps/:appId/connections", requireAdmin);
connectionAdminRoutes.use("/apps/:appId/connections/*", requireAdmin);

async function appOf(env: Env, id: string): Promise<App> {
  const app = await appById(env, id);
  if (!app) throw new ApiError("APP_NOT_FOUND", `No app with id ${id}.`);
  return app;
}

async function connectionOf(env: Env, app: App, id: string) {
  const connection = await connectionById(env, app.id, id);
  if (!connection) throw new ApiError("CONNECTION_NOT_FOUND", `No connection with id ${id}.`);
  return connection;
}

function asApiError(err: unknown): never {
  if (err instanceof ConnectionInputError) throw new ApiError("INVALID_REQUEST", err.message);
  if (err instanceof ConnectionNameTakenError) throw new ApiError("CONNECTION_NAME_TAKEN", err.message);
  throw err;
}

connectionAdminRoutes.post("/apps/:appId/connections", async (c) => {
  const app = await appOf(c.env, c.req.param("appId"));
  const connection = await createConnection(c.env, app.id, await readJsonObject(c), "admin").catch(asApiError);
  return c.json(connectionView(connection, canonicalIssuer(app, c.env)), 201);
});

connectionAdminRoutes.get("/apps/:appId/connections", async (c) => {
  const app = await appOf(c.env, c.req.param("appId"));
  return c.json({ connections: (await connectionsOfApp(c.env, app.id)).map((x) => connectionView(x, canonicalIssuer(app, c.env))) });
});

connectionAdminRoutes.get("/apps/:appId/connections/:id", async (c) => {
  const app = await appOf(c.env, c.req.param("appId"));
  return c.json(connectionView(await connectionOf(c.env, app, c.req.param("id")), canonicalIssuer(app, c.env)));
});

connectionAdminRoutes.patch("/apps/:appId/connections/:id", async (c) => {
  const app = await appOf(c.env, c.req.param("appId"));
  const current = await connectionOf(c.env, app, c.req.param("id"));
  const next = await updateConnection(c.env, current, await readJsonObject(c), "admin").catch(asApiError);
  return c.json(connectionView(next, canonicalIssuer(app, c.env)));
});

connectionAdminRoutes.delete("/apps/:appId/connections/:id", async (c) => {
  const app = await appOf(c.env, c.req.param("appId"));
  await deleteConnection(c.env, await connectionOf(c.env, app, c.req.param("id")), "admin");
  return c.body(null, 204);
});
