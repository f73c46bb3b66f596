/** Kinvey `/rpc` user helpers (SPEC §3). */
import { Hono } from "hono";
import { eventStatement } from "../events/log";
import { readJsonObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { userByIdentifierStatement, usernameExists, type UserRow } from "../identity/users";
import { allow, json, kinveyAuth, noContent, type KinveyEnv } from "../identity/kinvey-context";

export const rpcRoutes = new Hono<KinveyEnv>();
rpcRoutes.use("/:appKey/*", kinveyAuth);

rpcRoutes.post("/:appKey/check-username-exists", async (c) => {
  allow(c, "app", "master", "user");
  const { username } = await readJsonObject(c);
  if (typeof username !== "string" || !username) throw new KinveyError("IncompleteRequestBody", "", "The request body must hold a username string.");
  return json(c, { usernameExists: await usernameExists(c.env, c.var.app.id, username) });
});

/**
 * Always 204, whether or not the user exists, so it cannot be used to probe accounts.
 * Latch sends no mail itself: the request is an event, delivered to the app's webhooks.
 */
rpcRoutes.post("/:appKey/:identifier/user-password-reset-initiate", async (c) => {
  allow(c, "app", "master", "user");
  const app = c.var.app;
  const user = await userByIdentifierStatement(c.env, app.id, c.req.param("identifier")).first<UserRow>();
  if (user && user.status === "active") await eventStatement(c.env, app.id, "user.password_reset_requested", user.id, {}).run();
  return noContent(c);
});
