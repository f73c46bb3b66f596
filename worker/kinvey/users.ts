/**
 * Kinvey user endpoints (SPEC §2, §3): signup, login, logout, _me, user GET/PUT/DELETE,
 * tokens, _lookup. Every write is one D1 batch with its event.
 */
import { Hono } from "hono";
import { endSessionChains, endUserChains, invalidateUserClaims } from "../chains/api";
import { eventStatement } from "../events/log";
import { readJson, readJsonObject, isPlainObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { checkPassword } from "../identity/login";
import { hashPassword } from "../identity/password";
import { clientAddress } from "../identity/rate-limit";
import { deleteSessionStatement, deleteUserSessionsStatement, prepareSession } from "../identity/sessions";
import { deleteUserStatements, identifierTaken, kinveyUserDoc, newUserId, splitUserDoc, userById, type UserRow } from "../identity/users";
import { passwordSurfaceAllowed, PASSKEY_REQUIRED_MESSAGE } from "../passkeys/policy";
import { randomToken } from "../util/crypto";
import { allow, json, kinveyAuth, noContent, type KinveyContext, type KinveyEnv } from "./context";

export const userRoutes = new Hono<KinveyEnv>();
userRoutes.use("/:appKey/*", kinveyAuth);
userRoutes.use("/:appKey", kinveyAuth);

const MAX_PASSWORD_LENGTH = 1024;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function validUsername(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > 256 || CONTROL.test(value)) {
    throw new KinveyError("BadRequest", "username must be a non-empty string of at most 256 characters without control characters.");
  }
  return value;
}

function validPassword(c: KinveyContext, value: unknown): string {
  const min = c.var.app.settings.password_min_length;
  if (typeof value !== "string" || value.length < min || value.length > MAX_PASSWORD_LENGTH) {
    throw new KinveyError("BadRequest", `password must be a string of ${min} to ${MAX_PASSWORD_LENGTH} characters.`);
  }
  return value;
}

function userFields(doc: Record<string, unknown>) {
  try {
    const split = splitUserDoc(doc);
    if (split.email && (split.email.length > 320 || CONTROL.test(split.email) || !split.email.includes("@"))) throw new TypeError("email is not an email address");
    return split;
  } catch (err) {
    throw new KinveyError("BadRequest", (err as Error).message);
  }
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed/i.test(err.message);
}

/**
 * passkey_required (SPEC §8): the Kinvey API signs in with passwords only, so it may not
 * sign anyone in or up. Checked before the password, which is never tried here.
 */
function refusePasswordsUnderPasskeyPolicy(c: KinveyContext): void {
  if (!passwordSurfaceAllowed(c.var.app.settings.auth_policy)) throw new KinveyError("InsufficientCredentials", "auth_policy=passkey_required", PASSKEY_REQUIRED_MESSAGE);
}

/** Signup: app (or master) credentials; an empty body creates an implicit user. */
userRoutes.post("/:appKey", async (c) => {
  allow(c, "app", "master");
  refusePasswordsUnderPasskeyPolicy(c);
  const body = await readJson(c);
  if (body !== undefined && !isPlainObject(body)) throw new KinveyError("BadRequest", "The user must be a JSON object.");
  const doc = body ?? {};
  const username = doc.username === undefined ? crypto.randomUUID() : validUsername(doc.username);
  const password = doc.password === undefined ? randomToken() : validPassword(c, doc.password);
  const { email, profile } = userFields(doc);
  const app = c.var.app;
  const now = Date.now();
  const id = newUserId();
  if (await identifierTaken(c.env, app.id, id, username, email ?? null)) throw new KinveyError("UserAlreadyExists");
  const session = await prepareSession(c.env, app.id, id, "kinvey", { now });
  try {
    await c.env.DB.batch([
      c.env.DB.prepare(
        "INSERT INTO users (id, app_id, username, email, password_hash, profile, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ).bind(id, app.id, username, email ?? null, await hashPassword(password), JSON.stringify(profile), now, now),
      session.statement,
      eventStatement(c.env, app.id, "user.created", id, { username, via: "kinvey" }, now),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new KinveyError("UserAlreadyExists");
    throw err;
  }
  const user = (await userById(c.env, app.id, id)) as UserRow;
  return json(c, kinveyUserDoc(user, session.token), 201);
});

/** Login with username (or email) and password; app credentials. */
userRoutes.post("/:appKey/login", async (c) => {
  allow(c, "app", "master");
  refusePasswordsUnderPasskeyPolicy(c);
  const body = await readJsonObject(c);
  const { username, password } = body;
  if (typeof username !== "string" || typeof password !== "string" || !username || !password) {
    throw new KinveyError("IncompleteRequestBody", "", "The request body must hold username and password strings.");
  }
  const app = c.var.app;
  const user = await checkPassword(c.env, { appId: app.id, identifier: username, password, clientAddress: clientAddress(c.req.raw.headers) });
  const now = Date.now();
  const session = await prepareSession(c.env, app.id, user.id, "kinvey", { now });
  await c.env.DB.batch([
    session.statement,
    c.env.DB.prepare("UPDATE users SET last_login_at = ? WHERE app_id = ? AND id = ?").bind(now, app.id, user.id),
    eventStatement(c.env, app.id, "user.authenticated", user.id, { method: "password", via: "kinvey" }, now),
  ]);
  return json(c, kinveyUserDoc(user, session.token));
});

/** Destroys the presented auth token. */
userRoutes.post("/:appKey/_logout", async (c) => {
  const principal = allow(c, "user");
  if (principal.via !== "session") throw new KinveyError("InsufficientCredentials", "Logout needs a Kinvey session token.");
  const app = c.var.app;
  await c.env.DB.batch([
    deleteSessionStatement(c.env, app.id, principal.session.id),
    eventStatement(c.env, app.id, "session.ended", principal.user.id, { reason: "logout", via: "kinvey" }),
  ]);
  await endSessionChains(c.env, app.id, principal.user.id, principal.session.id, "logout");
  return noContent(c);
});

userRoutes.get("/:appKey/_me", (c) => {
  const principal = allow(c, "user");
  return json(c, kinveyUserDoc(principal.user, principal.via === "session" ? principal.token : undefined));
});

/** Finds users by exact field values; open to any signed-in user, never returns secrets. */
userRoutes.post("/:appKey/_lookup", async (c) => {
  allow(c, "user", "master");
  const query = await readJsonObject(c);
  if (Object.keys(query).length > 20) throw new KinveyError("InvalidQuerySyntax", "A lookup takes at most 20 fields.");
  const where = ["app_id = ?", "status = 'active'"];
  const params: unknown[] = [c.var.app.id];
  for (const [field, value] of Object.entries(query)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(field)) throw new KinveyError("InvalidQuerySyntax", `Unsupported lookup field: ${field}`);
    if (!["string", "number", "boolean"].includes(typeof value)) throw new KinveyError("InvalidQuerySyntax", `Lookup values must be strings, numbers or booleans (${field}).`);
    if (field === "_id") where.push("id = ?");
    else if (field === "username") where.push("username = ?");
    else if (field === "email") where.push("email = lower(?)");
    else if (field === "password" || field.startsWith("_")) throw new KinveyError("InvalidQuerySyntax", `Cannot look users up by ${field}.`);
    else {
      where.push("json_extract(profile, ?) = ?");
      params.push(`$.${field}`);
    }
    params.push(typeof value === "boolean" ? Number(value) : value);
  }
  const { results } = await c.env.DB.prepare(`SELECT * FROM users WHERE ${where.join(" AND ")} ORDER BY created_at LIMIT 100`)
    .bind(...params)
    .all<UserRow>();
  return json(c, results.map((row) => kinveyUserDoc(row)));
});

/** A user by id. Any signed-in user may read users (Kinvey's default); disabled ones only master. */
userRoutes.get("/:appKey/:id", async (c) => {
  const principal = allow(c, "user", "master");
  const user = await userById(c.env, c.var.app.id, c.req.param("id"));
  if (!user || (user.status === "disabled" && principal.kind !== "master")) throw new KinveyError("UserNotFound");
  return json(c, kinveyUserDoc(user));
});

function selfOrMaster(c: KinveyContext, id: string) {
  const principal = allow(c, "user", "master");
  if (principal.kind === "user" && principal.user.id !== id) {
    throw new KinveyError("InsufficientCredentials", "Users may only change themselves.");
  }
  return principal;
}

/** Full replace of the user's fields; a `password` changes it and revokes the other sessions. */
userRoutes.put("/:appKey/:id", async (c) => {
  const id = c.req.param("id");
  const principal = selfOrMaster(c, id);
  const app = c.var.app;
  const body = await readJson(c);
  if (!isPlainObject(body)) throw new KinveyError("IncompleteRequestBody", "", "The request body must be a user object.");
  const current = await userById(c.env, app.id, id);
  if (!current || (current.status === "disabled" && principal.kind !== "master")) throw new KinveyError("UserNotFound");

  const username = body.username === undefined ? current.username : validUsername(body.username);
  const newPassword = body.password === undefined ? undefined : validPassword(c, body.password);
  const { email, profile } = userFields(body);
  const nextEmail = email === undefined ? current.email : email;
  if (await identifierTaken(c.env, app.id, id, username, nextEmail)) throw new KinveyError("UserAlreadyExists");
  const now = Date.now();
  const statements: D1PreparedStatement[] = [
    c.env.DB.prepare(
      // A new address is not verified, whatever the old one was.
      `UPDATE users SET username = ?, email = ?, email_verified = CASE WHEN email IS ? THEN email_verified ELSE 0 END,
              profile = ?, updated_at = ?, claims_version = claims_version + 1
         ${newPassword ? ", password_hash = ?, password_changed_at = ?" : ""}
       WHERE app_id = ? AND id = ?`,
    ).bind(
      username,
      nextEmail,
      nextEmail,
      JSON.stringify(profile),
      now,
      ...(newPassword ? [await hashPassword(newPassword), now] : []),
      app.id,
      id,
    ),
    eventStatement(c.env, app.id, "user.updated", id, { fields: Object.keys(body).filter((k) => k !== "password") }, now),
  ];
  let token = principal.kind === "user" && principal.via === "session" ? principal.token : undefined;
  if (newPassword) {
    // Every session ends, the caller's too; a caller who is the user gets a fresh one.
    statements.push(deleteUserSessionsStatement(c.env, app.id, id), eventStatement(c.env, app.id, "user.password_changed", id, {}, now));
    token = undefined;
    if (principal.kind === "user") {
      const session = await prepareSession(c.env, app.id, id, "kinvey", { now });
      statements.push(session.statement);
      token = session.token;
    }
  }
  try {
    await c.env.DB.batch(statements);
  } catch (err) {
    if (isUniqueViolation(err)) throw new KinveyError("UserAlreadyExists");
    throw err;
  }
  // A new password ends every chain; other field changes (email, name) only make the
  // chains' claims snapshots stale so their next refresh rebuilds them.
  if (newPassword) await endUserChains(c.env, app.id, id, "password_changed", now);
  else await invalidateUserClaims(c.env, app.id, id);
  return json(c, kinveyUserDoc((await userById(c.env, app.id, id)) as UserRow, token));
});

/** Soft delete (disable) by default; `?hard=true` removes the user. Sessions and chains end either way. */
userRoutes.delete("/:appKey/:id", async (c) => {
  const id = c.req.param("id");
  const principal = selfOrMaster(c, id);
  const app = c.var.app;
  const hardParam = c.req.query("hard");
  if (hardParam !== undefined && hardParam !== "true" && hardParam !== "false") throw new KinveyError("BadRequest", "hard must be true or false.");
  const hard = hardParam === "true";
  const user = await userById(c.env, app.id, id);
  if (!user || (user.status === "disabled" && (principal.kind !== "master" || !hard))) throw new KinveyError("UserNotFound");
  const now = Date.now();
  await c.env.DB.batch([
    ...(hard
      ? deleteUserStatements(c.env, app.id, id)
      : [
          c.env.DB.prepare("UPDATE users SET status = 'disabled', updated_at = ? WHERE app_id = ? AND id = ?").bind(now, app.id, id),
          deleteUserSessionsStatement(c.env, app.id, id),
        ]),
    eventStatement(c.env, app.id, "user.deleted", id, { hard }, now),
  ]);
  await endUserChains(c.env, app.id, id, "user_deleted", now);
  return noContent(c);
});

/** Revokes every auth token and refresh chain of the user. */
userRoutes.delete("/:appKey/:id/tokens", async (c) => {
  const id = c.req.param("id");
  selfOrMaster(c, id);
  const app = c.var.app;
  if (!(await userById(c.env, app.id, id))) throw new KinveyError("UserNotFound");
  const now = Date.now();
  await c.env.DB.batch([
    deleteUserSessionsStatement(c.env, app.id, id),
    eventStatement(c.env, app.id, "session.ended", id, { reason: "tokens_revoked", via: "kinvey" }, now),
  ]);
  await endUserChains(c.env, app.id, id, "tokens_revoked", now);
  return noContent(c);
});
