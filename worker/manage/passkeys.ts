/**
 * Passkeys on the management API (/api/v1, Kinde envelopes; scopes read:passkeys,
 * update:passkeys, delete:passkeys, or master credentials):
 *   GET    /users/{user}/passkeys              {code, message, passkeys: [...]}
 *   PATCH  /users/{user}/passkeys/{id}         {name}
 *   DELETE /users/{user}/passkeys/{id}
 * Account recovery (reset to "must enrol") stays an operator action: worker/passkeys/admin.ts.
 */
import { Hono } from "hono";
import { eventStatement } from "../events/log";
import { readJsonObject } from "../http/body";
import { userById } from "../identity/users";
import { bad, need, notFound, ok, onlyKeys, type ManageContext, type ManageEnv } from "./context";
import { cleanName, deletePasskeyStatement, passkeyById, passkeysOfUser, passkeyView, renamePasskeyStatement } from "../identity/passkeys";

export const passkeyManageRoutes = new Hono<ManageEnv>();

async function userOf(c: ManageContext): Promise<string> {
  const id = c.req.param("userId")!;
  if (!(await userById(c.env, c.var.app.id, id))) notFound("user", id);
  return id;
}

async function passkeyOf(c: ManageContext, userId: string) {
  const id = c.req.param("passkeyId")!;
  const passkey = id.length <= 1400 ? await passkeyById(c.env, c.var.app.id, id) : null;
  if (!passkey || passkey.user_id !== userId) notFound("passkey", id);
  return passkey;
}

passkeyManageRoutes.get("/users/:userId/passkeys", need("read:passkeys"), async (c) => {
  const userId = await userOf(c);
  return ok(c, { passkeys: (await passkeysOfUser(c.env, c.var.app.id, userId)).map(passkeyView) });
});

passkeyManageRoutes.patch("/users/:userId/passkeys/:passkeyId", need("update:passkeys"), async (c) => {
  const userId = await userOf(c);
  const passkey = await passkeyOf(c, userId);
  const body = await readJsonObject(c);
  onlyKeys(body, ["name"]);
  const name = cleanName(body.name);
  if (!name) bad("name must be 1 to 64 characters without control characters.");
  await c.env.DB.batch([
    renamePasskeyStatement(c.env, c.var.app.id, userId, passkey.id, name),
    eventStatement(c.env, c.var.app.id, "passkey.renamed", userId, { passkey_id: passkey.id, via: "management_api" }, Date.now(), "api"),
  ]);
  return ok(c, { passkey: passkeyView({ ...passkey, name }) });
});

passkeyManageRoutes.delete("/users/:userId/passkeys/:passkeyId", need("delete:passkeys"), async (c) => {
  const userId = await userOf(c);
  const passkey = await passkeyOf(c, userId);
  await c.env.DB.batch([
    deletePasskeyStatement(c.env, c.var.app.id, userId, passkey.id),
    eventStatement(c.env, c.var.app.id, "passkey.deleted", userId, { passkey_id: passkey.id, via: "management_api" }, Date.now(), "api"),
  ]);
  return ok(c, {}, 200, "OK", "Passkey deleted");
});
