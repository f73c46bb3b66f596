/**
 * Passkeys on the operator API (bearer ADMIN_TOKEN), mounted under /admin:
 *   GET    /admin/apps/{app}/users/{user}/passkeys            list
 *   PATCH  /admin/apps/{app}/users/{user}/passkeys/{id}       {name}
 *   DELETE /admin/apps/{app}/users/{user}/passkeys/{id}
 *   POST   /admin/apps/{app}/users/{user}/passkeys/reset      account recovery
 * Recovery (docs/passkeys.md) is the only way back in for a user who lost every passkey
 * under passkey_required: it deletes the passkeys, ends every session and chain, and logs
 * `passkey.reset`. The user's next password sign-in then leads to enrolment, never
 * straight to a session.
 */
import { Hono } from "hono";
import { requireAdmin } from "./routes";
import { endUserChains } from "../chains/api";
import type { Env } from "../env";
import { eventStatement } from "../events/log";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { deleteUserSessionsStatement } from "../identity/sessions";
import { userById } from "../identity/users";
import { appById } from "../tenancy/apps";
import { cleanName, deletePasskeyStatement, deleteUserPasskeysStatement, passkeyById, passkeysOfUser, passkeyView, renamePasskeyStatement } from "../identity/passkeys";

type AdminEnv = { Bindings: Env };
export const passkeyAdminRoutes = new Hono<AdminEnv>();
passkeyAdminRoutes.use("/apps/:appId/users/:userId/passkeys", requireAdmin);
passkeyAdminRoutes.use("/apps/:appId/users/:userId/passkeys/*", requireAdmin);

async function owner(env: Env, appId: string, userId: string) {
  const app = await appById(env, appId);
  if (!app) throw new ApiError("APP_NOT_FOUND", `No app with id ${appId}.`);
  const user = await userById(env, app.id, userId);
  if (!user) throw new ApiError("USER_NOT_FOUND", `No user with id ${userId}.`);
  return { app, user };
}

async function ownedPasskey(env: Env, appId: string, userId: string, id: string) {
  const passkey = id.length <= 1400 ? await passkeyById(env, appId, id) : null;
  if (!passkey || passkey.user_id !== userId) throw new ApiError("PASSKEY_NOT_FOUND", `No passkey ${id} for this user.`);
  return passkey;
}

passkeyAdminRoutes.get("/apps/:appId/users/:userId/passkeys", async (c) => {
  const { app, user } = await owner(c.env, c.req.param("appId"), c.req.param("userId"));
  return c.json({ passkeys: (await passkeysOfUser(c.env, app.id, user.id)).map(passkeyView) });
});

passkeyAdminRoutes.post("/apps/:appId/users/:userId/passkeys/reset", async (c) => {
  const { app, user } = await owner(c.env, c.req.param("appId"), c.req.param("userId"));
  const count = (await passkeysOfUser(c.env, app.id, user.id)).length;
  const now = Date.now();
  await c.env.DB.batch([
    deleteUserPasskeysStatement(c.env, app.id, user.id),
    deleteUserSessionsStatement(c.env, app.id, user.id),
    eventStatement(c.env, app.id, "passkey.reset", user.id, { deleted: count, via: "operator" }, now, "admin"),
  ]);
  const chains = await endUserChains(c.env, app.id, user.id, "passkey_reset", now);
  return c.json({ user_id: user.id, passkeys_deleted: count, chains_ended: chains, must_enrol: app.settings.auth_policy === "passkey_required" });
});

passkeyAdminRoutes.patch("/apps/:appId/users/:userId/passkeys/:id", async (c) => {
  const { app, user } = await owner(c.env, c.req.param("appId"), c.req.param("userId"));
  const passkey = await ownedPasskey(c.env, app.id, user.id, c.req.param("id"));
  const body = await readJsonObject(c);
  const name = cleanName(body.name);
  if (!name) throw new ApiError("INVALID_REQUEST", "name must be 1 to 64 characters without control characters.");
  await c.env.DB.batch([
    renamePasskeyStatement(c.env, app.id, user.id, passkey.id, name),
    eventStatement(c.env, app.id, "passkey.renamed", user.id, { passkey_id: passkey.id, via: "operator" }, Date.now(), "admin"),
  ]);
  return c.json(passkeyView({ ...passkey, name }));
});

passkeyAdminRoutes.delete("/apps/:appId/users/:userId/passkeys/:id", async (c) => {
  const { app, user } = await owner(c.env, c.req.param("appId"), c.req.param("userId"));
  const passkey = await ownedPasskey(c.env, app.id, user.id, c.req.param("id"));
  await c.env.DB.batch([
    deletePasskeyStatement(c.env, app.id, user.id, passkey.id),
    eventStatement(c.env, app.id, "passkey.deleted", user.id, { passkey_id: passkey.id, via: "operator" }, Date.now(), "admin"),
  ]);
  return c.body(null, 204);
});
