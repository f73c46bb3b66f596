/**
 * Users (Kinde paths): list `GET /users`, get/create/update/delete on `/user`, set the
 * password, refresh claims. Every write is one D1 batch with its event; a change to what
 * tokens say also bumps the claims version and invalidates the user's chain snapshots.
 */
import { deleteUserPasskeysStatement } from "../passkeys/store";
import { Hono } from "hono";
import { eventStatement } from "../events/log";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { hashPassword } from "../identity/password";
import { deleteUserSessionsStatement } from "../identity/sessions";
import { newUserId, userById, type UserRow } from "../identity/users";
import { bumpUserClaimsStatement, invalidateClaims } from "./claims";
import { bad, iso, isUniqueViolation, need, notFound, ok, onlyKeys, text, type ManageContext, type ManageEnv } from "./context";
import { endUserChains } from "../chains/api";
import { pageOf, parsePage } from "./paging";

export const userRoutes = new Hono<ManageEnv>();

/** A password hash no password matches: users created without one cannot sign in with one. */
const NO_PASSWORD = "!none";
const MAX_PASSWORD_LENGTH = 1024;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

interface Profile {
  given_name?: string;
  family_name?: string;
  picture?: string;
  provided_id?: string;
  is_password_reset_requested?: boolean;
  [key: string]: unknown;
}

function profileOf(row: UserRow): Profile {
  return JSON.parse(row.profile) as Profile;
}

/** A user as `GET /users` lists it. */
export function userListView(row: UserRow) {
  const p = profileOf(row);
  return {
    id: row.id,
    provided_id: p.provided_id ?? null,
    email: row.email,
    username: row.username,
    first_name: p.given_name ?? null,
    last_name: p.family_name ?? null,
    is_suspended: row.status !== "active",
    picture: p.picture ?? null,
    total_sign_ins: null,
    failed_sign_ins: null,
    last_signed_in: iso(row.last_login_at),
    created_on: iso(row.created_at),
    identities: identitiesOf(row).map((i) => ({ type: i.type, identity: i.identity })),
  };
}

/** A user as `GET /user?id=` returns it. */
export function userView(row: UserRow) {
  const { email, ...rest } = userListView(row);
  return { ...rest, preferred_email: email };
}

/** The user object in webhook and event data (Kinde's user event shape). */
export function userEventData(row: UserRow) {
  const p = profileOf(row);
  return {
    user: {
      id: row.id,
      email: row.email,
      username: row.username,
      first_name: p.given_name ?? null,
      last_name: p.family_name ?? null,
      phone: null,
      is_suspended: row.status !== "active",
      is_password_reset_requested: p.is_password_reset_requested === true,
      organizations: [],
    },
  };
}

function identitiesOf(row: UserRow): { type: "email" | "username"; identity: string }[] {
  const out: { type: "email" | "username"; identity: string }[] = [];
  if (row.email) out.push({ type: "email", identity: row.email });
  if (row.username !== row.email) out.push({ type: "username", identity: row.username });
  return out;
}

async function loadUser(c: ManageContext, id: string | undefined): Promise<UserRow> {
  if (!id) bad("The id query parameter is required.");
  const row = await userById(c.env, c.var.app.id, id);
  if (!row) notFound("user", id);
  return row;
}

userRoutes.get("/users", need("read:users"), async (c) => {
  const page = parsePage(c.req.query("page_size"), c.req.query("next_token"));
  const where = ["app_id = ?"];
  const params: unknown[] = [c.var.app.id];
  const filters: [string, string][] = [
    ["user_id", "id = ?"],
    ["username", "username = ?"],
    ["email", "email = lower(?)"],
  ];
  for (const [name, sql] of filters) {
    const value = c.req.query(name);
    if (value !== undefined && value !== "") {
      where.push(sql);
      params.push(value);
    }
  }
  if (page.after) {
    where.push("(created_at > ? OR (created_at = ? AND id > ?))");
    params.push(page.after.createdAt, page.after.createdAt, page.after.id);
  }
  const { results } = await c.env.DB.prepare(`SELECT * FROM users WHERE ${where.join(" AND ")} ORDER BY created_at, id LIMIT ?`)
    .bind(...params, page.size + 1)
    .all<UserRow>();
  const { items, nextToken } = pageOf(results, page.size);
  return ok(c, { users: items.map(userListView), ...(nextToken ? { next_token: nextToken } : {}) });
});

userRoutes.get("/user", need("read:users"), async (c) => c.json(userView(await loadUser(c, c.req.query("id")))));

userRoutes.post("/user", need("create:users"), async (c) => {
  const body = await readJsonObject(c);
  onlyKeys(body, ["profile", "identities", "provided_id", "organization_code"]);
  if (body.organization_code !== undefined) bad("Organizations are not supported.", "ORGANIZATIONS_UNSUPPORTED");
  const profile: Profile = {};
  if (body.profile !== undefined) {
    if (typeof body.profile !== "object" || body.profile === null || Array.isArray(body.profile)) bad("profile must be an object.");
    const p = body.profile as Record<string, unknown>;
    onlyKeys(p, ["given_name", "family_name", "picture"]);
    for (const key of ["given_name", "family_name"] as const) {
      const v = text(p, key, 256);
      if (v !== undefined) profile[key] = v;
    }
    const picture = text(p, "picture", 2048);
    if (picture !== undefined) profile.picture = picture;
  }
  const providedId = text(body, "provided_id", 256);
  if (providedId !== undefined) profile.provided_id = providedId;

  let email: string | null = null;
  let emailVerified = false;
  let username: string | null = null;
  const created: { type: string; result: { created: boolean } }[] = [];
  if (body.identities !== undefined) {
    if (!Array.isArray(body.identities) || body.identities.length > 10) bad("identities must be an array of at most 10 items.");
    for (const raw of body.identities as unknown[]) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) bad("Each identity must be an object.");
      const identity = raw as Record<string, unknown>;
      onlyKeys(identity, ["type", "is_verified", "details"]);
      const details = identity.details;
      if (typeof details !== "object" || details === null || Array.isArray(details)) bad("identity.details must be an object.");
      const d = details as Record<string, unknown>;
      if (identity.type === "email") {
        const value = text(d, "email", 320, true)!.toLowerCase();
        if (!EMAIL.test(value)) bad(`Not an email address: ${value}.`);
        if (email) bad("Only one email identity is supported.");
        email = value;
        emailVerified = identity.is_verified === true;
      } else if (identity.type === "username") {
        if (username) bad("Only one username identity is supported.");
        username = text(d, "username", 256, true)!;
      } else {
        bad(`Unsupported identity type: ${String(identity.type)}.`, "IDENTITY_TYPE_UNSUPPORTED");
      }
      created.push({ type: identity.type, result: { created: true } });
    }
  }
  const app = c.var.app;
  if (email) {
    const taken = await c.env.DB.prepare("SELECT 1 FROM users WHERE app_id = ?1 AND (email = ?2 OR username = ?2) LIMIT 1")
      .bind(app.id, email)
      .first();
    if (taken) throw new ApiError(409, "USER_ALREADY_EXISTS", "A user with this email exists.");
  }
  const id = newUserId();
  const now = Date.now();
  const row: UserRow = {
    id,
    app_id: app.id,
    username: username ?? email ?? `user_${id}`,
    email,
    email_verified: emailVerified ? 1 : 0,
    password_hash: NO_PASSWORD,
    profile: JSON.stringify(profile),
    status: "active",
    claims_version: 1,
    password_changed_at: null,
    last_login_at: null,
    created_at: now,
    updated_at: now,
  };
  try {
    await c.env.DB.batch([
      c.env.DB.prepare(
        "INSERT INTO users (id, app_id, username, email, email_verified, password_hash, profile, status, claims_version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 1, ?, ?)",
      ).bind(id, app.id, row.username, email, row.email_verified, NO_PASSWORD, row.profile, now, now),
      eventStatement(c.env, app.id, "user.created", id, userEventData(row), now, "api"),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new ApiError(409, "USER_ALREADY_EXISTS", "A user with this username exists.");
    throw err;
  }
  return c.json({ id, created: true, identities: created });
});

userRoutes.patch("/user", need("update:users"), async (c) => {
  const row = await loadUser(c, c.req.query("id"));
  const body = await readJsonObject(c);
  onlyKeys(body, ["given_name", "family_name", "picture", "is_suspended", "is_password_reset_requested", "provided_id"]);
  const profile = profileOf(row);
  for (const key of ["given_name", "family_name", "provided_id"] as const) {
    const v = text(body, key, 256);
    if (v !== undefined) profile[key] = v;
  }
  const picture = text(body, "picture", 2048);
  if (picture !== undefined) profile.picture = picture;
  for (const key of ["is_suspended", "is_password_reset_requested"] as const) {
    if (body[key] !== undefined && typeof body[key] !== "boolean") bad(`${key} must be a boolean.`);
  }
  if (typeof body.is_password_reset_requested === "boolean") profile.is_password_reset_requested = body.is_password_reset_requested;
  const status: UserRow["status"] = body.is_suspended === true ? "suspended" : body.is_suspended === false ? "active" : row.status;
  const suspending = status !== "active" && row.status === "active";
  const now = Date.now();
  const next: UserRow = { ...row, profile: JSON.stringify(profile), status, updated_at: now };
  const app = c.var.app;
  const statements = [
    c.env.DB.prepare("UPDATE users SET profile = ?, status = ?, updated_at = ?, claims_version = claims_version + 1 WHERE app_id = ? AND id = ?").bind(
      next.profile,
      status,
      now,
      app.id,
      row.id,
    ),
    eventStatement(c.env, app.id, "user.updated", row.id, userEventData(next), now, "api"),
  ];
  // A suspended user keeps no way in: sessions go now, refresh chains just after.
  if (suspending) statements.push(deleteUserSessionsStatement(c.env, app.id, row.id));
  await c.env.DB.batch(statements);
  if (suspending) await endUserChains(c.env, app.id, row.id, "user_suspended", now);
  else await invalidateClaims(c.env, app.id, [row.id]);
  return c.json({
    id: row.id,
    given_name: profile.given_name ?? null,
    family_name: profile.family_name ?? null,
    email: row.email,
    is_suspended: status !== "active",
    is_password_reset_requested: profile.is_password_reset_requested === true,
    picture: profile.picture ?? null,
  });
});

userRoutes.delete("/user", need("delete:users"), async (c) => {
  const row = await loadUser(c, c.req.query("id"));
  const app = c.var.app;
  const now = Date.now();
  const db = c.env.DB;
  await db.batch([
    db.prepare("DELETE FROM users WHERE app_id = ? AND id = ?").bind(app.id, row.id),
    db.prepare("DELETE FROM sessions WHERE app_id = ? AND user_id = ?").bind(app.id, row.id),
    db.prepare("DELETE FROM user_roles WHERE app_id = ? AND user_id = ?").bind(app.id, row.id),
    db.prepare("DELETE FROM user_permissions WHERE app_id = ? AND user_id = ?").bind(app.id, row.id),
    db.prepare("DELETE FROM user_feature_flags WHERE app_id = ? AND user_id = ?").bind(app.id, row.id),
    deleteUserPasskeysStatement(c.env, app.id, row.id),
    eventStatement(c.env, app.id, "user.deleted", row.id, { user: { id: row.id } }, now, "api"),
  ]);
  await endUserChains(c.env, app.id, row.id, "user_deleted", now);
  return ok(c, {}, 200, "USER_DELETED", "User successfully deleted");
});

/**
 * Sets a password. Kinde imports pre-hashed passwords (`hashed_password`); Latch takes the
 * plain `password` and hashes it itself, and says so rather than store a foreign hash.
 * Every session and refresh chain of the user ends: an operator reset is a lock-out.
 */
userRoutes.put("/users/:userId/password", need("update:users"), async (c) => {
  const row = await loadUser(c, c.req.param("userId"));
  const body = await readJsonObject(c);
  if (body.hashed_password !== undefined) bad("Importing hashed passwords is not supported; send the new password as `password`.", "HASHED_PASSWORD_UNSUPPORTED");
  onlyKeys(body, ["password", "is_temporary_password"]);
  const min = c.var.app.settings.password_min_length;
  const password = body.password;
  if (typeof password !== "string" || password.length < min || password.length > MAX_PASSWORD_LENGTH) {
    bad(`password must be a string of ${min} to ${MAX_PASSWORD_LENGTH} characters.`);
  }
  const app = c.var.app;
  const now = Date.now();
  await c.env.DB.batch([
    c.env.DB.prepare("UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE app_id = ? AND id = ?").bind(
      await hashPassword(password),
      now,
      now,
      app.id,
      row.id,
    ),
    deleteUserSessionsStatement(c.env, app.id, row.id),
    eventStatement(c.env, app.id, "user.password_changed", row.id, { user: { id: row.id } }, now, "api"),
  ]);
  await endUserChains(c.env, app.id, row.id, "password_set", now);
  return ok(c, {}, 200, "PASSWORD_SET", "User successfully updated");
});

/** Kinde's "refresh user claims": the next refresh of any of the user's chains rebuilds its claims. */
userRoutes.post("/users/:userId/refresh_claims", need("update:users"), async (c) => {
  const row = await loadUser(c, c.req.param("userId"));
  await bumpUserClaimsStatement(c.env, c.var.app.id, row.id).run();
  await invalidateClaims(c.env, c.var.app.id, [row.id]);
  return ok(c, {}, 200, "CLAIMS_REFRESHED", "Claims successfully refreshed.");
});
