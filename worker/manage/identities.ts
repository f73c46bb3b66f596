/**
 * A user's upstream identities on the management API (Kinde's paths, envelopes and scopes):
 *   GET    /users/{user}/identities     read:user_identities   {code, message, identities, has_more}
 *   POST   /users/{user}/identities     create:user_identities {type: "social"|"enterprise", connection_id, value: email}
 *   GET    /identities/{id}             read:identities        the identity
 *   DELETE /identities/{id}             delete:identities
 * A created identity is a pre-link: the first sign-in through that connection whose
 * verified email is `value` becomes this user (identity/linking.ts). Email, username and
 * phone identities live on the user itself (`POST /user`), so those types are refused here.
 */
import { Hono } from "hono";
import { eventStatement } from "../events/log";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { connectionById, connectionsOfApp } from "../connections/store";
import { deleteIdentityStatement, identitiesOfUser, identityById, insertIdentityStatement, newIdentityId, pendingLinkByEmail, type IdentityRow } from "../identity/identities";
import { cleanEmail, userById, UserInputError } from "../identity/users";
import { bad, iso, need, notFound, ok, onlyKeys, type ManageContext, type ManageEnv } from "./context";

export const identityManageRoutes = new Hono<ManageEnv>();

async function view(c: ManageContext, rows: IdentityRow[]) {
  const strategies = new Map((await connectionsOfApp(c.env, c.var.app.id)).map((x) => [x.id, x.strategy]));
  return rows.map((row) => ({
    id: row.id,
    type: strategies.get(row.connection_id) ?? "social",
    is_confirmed: row.subject !== null,
    created_on: iso(row.created_at),
    last_login_on: iso(row.last_login_at),
    total_logins: row.total_logins,
    name: row.email ?? row.subject,
    email: row.email,
    connection_id: row.connection_id,
    is_primary: false,
  }));
}

async function userOf(c: ManageContext): Promise<string> {
  const id = c.req.param("userId")!;
  if (!(await userById(c.env, c.var.app.id, id))) notFound("user", id);
  return id;
}

async function identityOf(c: ManageContext): Promise<IdentityRow> {
  const id = c.req.param("identityId")!;
  const row = id.length <= 64 ? await identityById(c.env, c.var.app.id, id) : null;
  if (!row) throw new ApiError("IDENTITY_NOT_FOUND", `No identity with id ${id}.`);
  return row;
}

identityManageRoutes.get("/users/:userId/identities", need("read:user_identities"), async (c) => {
  const userId = await userOf(c);
  const sizeParam = c.req.query("page_size");
  const size = sizeParam === undefined ? 10 : Number(sizeParam);
  if (!Number.isInteger(size) || size < 1 || size > 500) bad("page_size must be an integer from 1 to 500.");
  const startingAfter = c.req.query("starting_after");
  let after: { createdAt: number; id: string } | null = null;
  if (startingAfter) {
    const from = await identityById(c.env, c.var.app.id, startingAfter);
    if (!from || from.user_id !== userId) bad("starting_after is not an identity of this user.");
    after = { createdAt: from.created_at, id: from.id };
  }
  const rows = await identitiesOfUser(c.env, c.var.app.id, userId, { size, after });
  return ok(c, { identities: await view(c, rows.slice(0, size)), has_more: rows.length > size });
});

identityManageRoutes.post("/users/:userId/identities", need("create:user_identities"), async (c) => {
  const userId = await userOf(c);
  const body = await readJsonObject(c);
  onlyKeys(body, ["value", "type", "phone_country_id", "connection_id"]);
  if (body.type !== "social" && body.type !== "enterprise") {
    bad(`Identity type ${String(body.type)} is not created here: email and username identities are the user's own fields.`, "IDENTITY_TYPE_UNSUPPORTED");
  }
  if (typeof body.connection_id !== "string") bad("connection_id is required for social and enterprise identities.");
  const connection = await connectionById(c.env, c.var.app.id, body.connection_id);
  if (!connection) bad(`No connection with id ${body.connection_id}.`);
  let email: string | null;
  try {
    email = cleanEmail(body.value);
  } catch (err) {
    if (err instanceof UserInputError) bad("value must be the email address the user signs in with at the connection.");
    throw err;
  }
  if (!email) bad("value must be the email address the user signs in with at the connection.");
  if (await pendingLinkByEmail(c.env, c.var.app.id, connection.id, email)) throw new ApiError("IDENTITY_ALREADY_EXISTS", "This connection already has a pending identity with this email.");
  const now = Date.now();
  const id = newIdentityId();
  await c.env.DB.batch([
    insertIdentityStatement(c.env, { id, app_id: c.var.app.id, user_id: userId, connection_id: connection.id, subject: null, email, total_logins: 0, created_at: now, last_login_at: null }),
    eventStatement(c.env, c.var.app.id, "user.identity_linked", userId, { identity_id: id, connection_id: connection.id, pending: true }, now, "api"),
  ]);
  return ok(c, { identity: { id } }, 201, "IDENTITY_CREATED", "Identity successfully created");
});

identityManageRoutes.get("/identities/:identityId", need("read:identities"), async (c) => {
  const [identity] = await view(c, [await identityOf(c)]);
  return c.json(identity);
});

identityManageRoutes.delete("/identities/:identityId", need("delete:identities"), async (c) => {
  const row = await identityOf(c);
  await c.env.DB.batch([
    deleteIdentityStatement(c.env, c.var.app.id, row.id),
    eventStatement(c.env, c.var.app.id, "user.identity_removed", row.user_id, { identity_id: row.id, connection_id: row.connection_id }, Date.now(), "api"),
  ]);
  return ok(c, {}, 200, "IDENTITY_DELETED", "Identity successfully deleted");
});
