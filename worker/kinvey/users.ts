/**
 * Kinvey user endpoints (SPEC §2, §3): signup, login, logout, _me, user GET/PUT/DELETE,
 * tokens, _lookup. Users are made and changed through the user store (identity/users.ts);
 * every write is one D1 batch with its event.
 */
import { Hono } from "hono";
import { endSessionChains, endUserChains, invalidateUserClaims } from "../chains/api";
import { eventStatement } from "../events/log";
import { readJson, readJsonObject, isPlainObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { passwordSurfaceAllowed, PASSKEY_REQUIRED_MESSAGE } from "../identity/auth-policy";
import { allow, json, kinveyAuth, noContent, type KinveyContext, type KinveyEnv } from "../identity/kinvey-context";
import { checkPassword } from "../identity/login";
import { clientAddress } from "../identity/rate-limit";
import { deleteSessionStatement, deleteUserSessionsStatement, prepareSession } from "../identity/sessions";
import {
  createUser,
  deleteUserStatements,
  findUsers,
  IdentifierTakenError,
  kinveyUserDoc,
  newUserId,
  NO_PASSWORD,
  recordSignInStatement,
  splitUserDoc,
  updateUser,
  updateUserStatement,
  userById,
  UserInputError,
  type UserChange,
  type UserRow,
} from "../identity/users";
import { UNVERIFIED_MESSAGE, verificationBlocks } from "../recovery/rules";
import { sendVerification } from "../recovery/verification";
import { randomToken } from "../util/crypto";
import { isSocialLogin, socialLogin } from "./social";
import { linkIssuer, mailContext } from "./links";

export const userRoutes = new Hono<KinveyEnv>();
userRoutes.use("/:appKey/*", kinveyAuth);
userRoutes.use("/:appKey", kinveyAuth);

/** The user store's refusals in Kinvey's words. */
function asKinveyError(err: unknown): never {
  if (err instanceof IdentifierTakenError) throw new KinveyError("UserAlreadyExists");
  if (err instanceof UserInputError) throw new KinveyError("BadRequest", err.message);
  throw err;
}

function userFields(doc: Record<string, unknown>) {
  try {
    return splitUserDoc(doc);
  } catch (err) {
    asKinveyError(err);
  }
}

/**
 * passkey_required (SPEC §8): the Kinvey API signs in with passwords only, so it may not
 * sign anyone in or up. Checked before the password, which is never tried here.
 */
function refusePasswordsUnderPasskeyPolicy(c: KinveyContext): void {
  if (!passwordSurfaceAllowed(c.var.app.settings.auth_policy)) throw new KinveyError("InsufficientCredentials", "auth_policy=passkey_required", PASSKEY_REQUIRED_MESSAGE);
}

/**
 * Signup: app (or master) credentials; an empty body creates an implicit user. A user with
 * an email gets a verification link when the app verifies emails. Under
 * `email_verification: required` an email is needed, and the answer holds no auth token:
 * the user logs in once the email is verified (README "Password reset, email verification, sign-in codes").
 */
userRoutes.post("/:appKey", async (c) => {
  allow(c, "app", "master");
  const body = await readJson(c);
  if (body !== undefined && !isPlainObject(body)) throw new KinveyError("BadRequest", "The user must be a JSON object.");
  // The SDK signs up with its MIC token when the login answered 404; the user already exists.
  if (body && isSocialLogin(body)) return socialLogin(c, body, 201);
  refusePasswordsUnderPasskeyPolicy(c);
  const doc = body ?? {};
  const { email, profile } = userFields(doc);
  const app = c.var.app;
  const required = app.settings.email_verification === "required";
  if (required && !email) throw new KinveyError("BadRequest", "email_verification=required", "This app requires a verified email: sign up with an email.");
  const now = Date.now();
  const id = newUserId();
  const session = required ? null : await prepareSession(c.env, app.id, id, "kinvey", { now });
  const input = {
    id,
    username: doc.username === undefined ? crypto.randomUUID() : (doc.username as string),
    email,
    password: doc.password === undefined ? randomToken() : (doc.password as string),
    profile,
    via: "kinvey" as const,
  };
  const user = await createUser(c.env, app, input, session ? [session.statement] : [], now).catch(asKinveyError);
  await sendVerification(c.env, app, user, linkIssuer(c), { ...mailContext(c), via: "signup" });
  return json(c, kinveyUserDoc(user, session?.token), 201);
});

/** Login with username (or email) and password; app credentials. */
userRoutes.post("/:appKey/login", async (c) => {
  allow(c, "app", "master");
  const body = await readJsonObject(c);
  if (isSocialLogin(body)) return socialLogin(c, body, 200);
  refusePasswordsUnderPasskeyPolicy(c);
  const { username, password } = body;
  if (typeof username !== "string" || typeof password !== "string" || !username || !password) {
    throw new KinveyError("IncompleteRequestBody", "", "The request body must hold username and password strings.");
  }
  const app = c.var.app;
  const user = await checkPassword(c.env, { appId: app.id, identifier: username, password, clientAddress: clientAddress(c.req.raw.headers) });
  if (verificationBlocks(app.settings, user)) throw new KinveyError("InsufficientCredentials", "email_verification=required", UNVERIFIED_MESSAGE);
  const now = Date.now();
  const session = await prepareSession(c.env, app.id, user.id, "kinvey", { now });
  await c.env.DB.batch([
    session.statement,
    recordSignInStatement(c.env, app.id, user.id, now),
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
  const filter: Parameters<typeof findUsers>[2] = { activeOnly: true, limit: 100, profile: {} };
  for (const [field, value] of Object.entries(query)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(field)) throw new KinveyError("InvalidQuerySyntax", `Unsupported lookup field: ${field}`);
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new KinveyError("InvalidQuerySyntax", `Lookup values must be strings, numbers or booleans (${field}).`);
    }
    if (field === "_id" || field === "username" || field === "email") {
      filter[field === "_id" ? "id" : field] = String(value);
    } else if (field === "password" || field.startsWith("_")) {
      throw new KinveyError("InvalidQuerySyntax", `Cannot look users up by ${field}.`);
    } else filter.profile![field] = value;
  }
  return json(c, (await findUsers(c.env, c.var.app.id, filter)).map((row) => kinveyUserDoc(row)));
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

  const { email, profile } = userFields(body);
  const change: UserChange = { profile };
  if (body.username !== undefined) change.username = body.username as string;
  if (email !== undefined) change.email = email;
  const newPassword = body.password !== undefined;
  if (newPassword) {
    await requireCurrentPassword(c, principal, current, body.currentPassword);
    change.password = body.password as string;
  }
  const now = Date.now();
  const also: D1PreparedStatement[] = [
    eventStatement(c.env, app.id, "user.updated", id, { fields: Object.keys(body).filter((k) => k !== "password" && k !== "currentPassword") }, now),
  ];
  let token = principal.kind === "user" && principal.via === "session" ? principal.token : undefined;
  if (newPassword) {
    // Every session ends, the caller's too; a caller who is the user gets a fresh one.
    also.push(deleteUserSessionsStatement(c.env, app.id, id), eventStatement(c.env, app.id, "user.password_changed", id, {}, now));
    token = undefined;
    if (principal.kind === "user") {
      const session = await prepareSession(c.env, app.id, id, "kinvey", { now });
      also.push(session.statement);
      token = session.token;
    }
  }
  const updated = await updateUser(c.env, app, current, change, also, now).catch(asKinveyError);
  // A new password ends every chain; other field changes (email, name) only make the
  // chains' claims snapshots stale so their next refresh rebuilds them.
  if (newPassword) await endUserChains(c.env, app.id, id, "password_changed", now);
  else await invalidateUserClaims(c.env, app.id, id);
  return json(c, kinveyUserDoc(updated, token));
});

/**
 * A self-service password change with only an auth token must also prove the current
 * password (`currentPassword` in the body; ASVS 2.1.6): a stolen token alone cannot take the
 * account over. Basic credentials have just presented the password; master credentials and
 * the management API are operators; a user without a password (upstream or passkey sign-in)
 * has none to prove. The check is a sign-in attempt: rate-limited and logged like one.
 */
async function requireCurrentPassword(c: KinveyContext, principal: ReturnType<typeof selfOrMaster>, user: UserRow, currentPassword: unknown): Promise<void> {
  if (principal.kind !== "user" || principal.via !== "session" || user.password_hash === NO_PASSWORD) return;
  if (typeof currentPassword !== "string" || currentPassword === "") {
    throw new KinveyError("InvalidCredentials", "A password change with an auth token needs the current password in currentPassword.");
  }
  const checked = await checkPassword(c.env, { appId: c.var.app.id, identifier: user.username, password: currentPassword, clientAddress: clientAddress(c.req.raw.headers) });
  if (checked.id !== user.id) throw new KinveyError("InvalidCredentials");
}

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
          (await updateUserStatement(c.env, app, user, { status: "disabled" }, now)).statement,
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
