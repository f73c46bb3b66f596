/**
 * The user store: one pool per app shared by every surface (Kinvey, hosted pages, the
 * management API, the demo seed). It alone writes the `users` table; faces call its
 * functions, and those that batch a change with their own statements get statements back.
 *
 * Rules every surface gets from here:
 * - Identifiers: a username and an optional email, unique per app under their keys
 *   (identifiers.ts), across both (a username never equals another user's email). The unique
 *   indexes and the `users_identifiers_cross` trigger enforce it inside the write itself, so
 *   two racing sign-ups cannot both win; `IdentifierTakenError` is how it surfaces.
 * - Operator-owned attributes (`provided_id`, `org_code`, `password_reset_required`,
 *   `email_verified`, roles, permissions, flags) are columns or tables that only the
 *   management API and operator paths write. The self-writable `profile` never holds them:
 *   `splitUserDoc` drops those names (as Kinvey drops client-sent `_kmd`), and claims are
 *   built from the columns (claims.ts).
 * Rows map to wire documents here and nowhere else, so no surface leaks `password_hash`.
 */
import type { Env } from "../env";
import { eventStatement, type EventSource } from "../events/log";
import type { App } from "../tenancy/apps";
import { randomId } from "../util/crypto";
import { Where } from "../util/where";
import { displayEmail, identifierKey } from "./identifiers";
import { hashPassword, passwordParams } from "./password";

export interface UserRow {
  id: string;
  app_id: string;
  username: string;
  username_key: string;
  email: string | null;
  email_key: string | null;
  email_verified: number;
  password_hash: string;
  profile: string;
  status: "active" | "suspended" | "disabled";
  claims_version: number;
  provided_id: string | null;
  org_code: string | null;
  password_reset_required: number;
  password_changed_at: number | null;
  last_login_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A bad field of a user: the face answers it in its own format (400). */
export class UserInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** The username or email is another user's sign-in identifier (409). */
export class IdentifierTakenError extends Error {
  constructor() {
    super("That username or email is already taken.");
  }
}

/** A password hash no password matches: users made without a password cannot sign in with one. */
export const NO_PASSWORD = "!none";
export const MAX_PASSWORD_LENGTH = 1024;
export const MAX_USERNAME_LENGTH = 256;
export const MAX_EMAIL_LENGTH = 320;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * Document fields that are not profile: columns, server-owned metadata, and the names of
 * operator-owned attributes, which a user's own writes may not set.
 */
const NOT_PROFILE = new Set([
  "_id", "_kmd", "_acl", "username", "password", "currentPassword", "email", "_socialIdentity",
  "org_code", "provided_id", "is_password_reset_requested", "password_reset_required",
  "email_verified", "emailVerified", "roles", "permissions", "feature_flags", "status", "is_suspended",
]);

export function newUserId(): string {
  return randomId(24, "0123456789abcdef");
}

export function cleanUsername(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > MAX_USERNAME_LENGTH || CONTROL.test(value)) {
    throw new UserInputError("username", `username must be a non-empty string of at most ${MAX_USERNAME_LENGTH} characters without control characters.`);
  }
  return value.trim().normalize("NFC");
}

/** An email as stored (domain lower-cased), or null for none. */
export function cleanEmail(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string" || value.length > MAX_EMAIL_LENGTH || CONTROL.test(value) || !EMAIL.test(value.trim())) {
    throw new UserInputError("email", "email must be an email address.");
  }
  return displayEmail(value);
}

export function cleanPassword(value: unknown, minLength: number): string {
  if (typeof value !== "string" || value.length < minLength || value.length > MAX_PASSWORD_LENGTH) {
    throw new UserInputError("password", `password must be a string of ${minLength} to ${MAX_PASSWORD_LENGTH} characters.`);
  }
  return value;
}

/** Splits a client's user document into its email and its self-writable profile. */
export function splitUserDoc(doc: Record<string, unknown>): { email?: string | null; profile: Record<string, unknown> } {
  const profile: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) if (!NOT_PROFILE.has(key)) profile[key] = value;
  return "email" in doc ? { email: cleanEmail(doc.email), profile } : { profile };
}

function isConflict(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed: users\.|identifier taken/i.test(err.message);
}

/** Runs a batch that writes identifiers; a collision becomes IdentifierTakenError. */
async function writeIdentifiers(env: Env, statements: D1PreparedStatement[]): Promise<void> {
  try {
    await env.DB.batch(statements);
  } catch (err) {
    if (isConflict(err)) throw new IdentifierTakenError();
    throw err;
  }
}

export interface NewUser {
  id?: string;
  /** Absent: the email, else a generated name (Kinvey's implicit users, management API users). */
  username?: string | null;
  email?: string | null;
  emailVerified?: boolean;
  /** Absent or null: no password (sign-in by other means only). */
  password?: string | null;
  profile?: Record<string, unknown>;
  providedId?: string | null;
  /** Which surface made the user, recorded in the `user.created` event. */
  via: "kinvey" | "hosted" | "api" | "seed" | "upstream";
  source?: EventSource;
}

/**
 * Creates a user, with its `user.created` event and the caller's `also` statements (a
 * session, say) in one D1 batch: all of them land or none. Validates and normalises every
 * field; throws UserInputError or IdentifierTakenError.
 */
export async function createUser(env: Env, app: Pick<App, "id" | "settings">, input: NewUser, also: D1PreparedStatement[] = [], now = Date.now()): Promise<UserRow> {
  const email = cleanEmail(input.email);
  const id = input.id ?? newUserId();
  const username = input.username === undefined || input.username === null ? (email ?? `user_${id}`) : cleanUsername(input.username);
  const password = input.password === undefined || input.password === null ? null : cleanPassword(input.password, app.settings.password_min_length);
  const row: UserRow = {
    id,
    app_id: app.id,
    username,
    username_key: identifierKey(username),
    email,
    email_key: email === null ? null : identifierKey(email),
    email_verified: input.emailVerified ? 1 : 0,
    password_hash: password === null ? NO_PASSWORD : await hashPassword(password, passwordParams(env)),
    profile: JSON.stringify(input.profile ?? {}),
    status: "active",
    claims_version: 1,
    provided_id: input.providedId ?? null,
    org_code: null,
    password_reset_required: 0,
    password_changed_at: null,
    last_login_at: null,
    created_at: now,
    updated_at: now,
  };
  await writeIdentifiers(env, [
    env.DB.prepare(
      `INSERT INTO users (id, app_id, username, username_key, email, email_key, email_verified, password_hash, profile, status, claims_version,
                          provided_id, org_code, password_reset_required, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', 1, ?, NULL, 0, ?, ?)`,
    ).bind(row.id, row.app_id, row.username, row.username_key, row.email, row.email_key, row.email_verified, row.password_hash, row.profile, row.provided_id, now, now),
    eventStatement(env, app.id, "user.created", id, { ...userEventData(row), via: input.via }, now, input.source ?? (input.via === "api" ? "api" : "user")),
    ...also,
  ]);
  return row;
}

/** What an update may change; absent fields stay as they are. */
export interface UserChange {
  username?: string;
  /** null clears it. A changed email is unverified again unless `emailVerified` says otherwise. */
  email?: string | null;
  emailVerified?: boolean;
  profile?: Record<string, unknown>;
  /** A new password (hashed here). */
  password?: string;
  status?: UserRow["status"];
  providedId?: string | null;
  orgCode?: string | null;
  passwordResetRequired?: boolean;
}

/**
 * The statement of an update (for the caller's batch). Every change bumps the claims
 * version: what tokens say may have changed. `current` is the row the change was decided on.
 */
export async function updateUserStatement(env: Env, app: Pick<App, "id" | "settings">, current: UserRow, change: UserChange, now = Date.now()): Promise<{ statement: D1PreparedStatement; next: UserRow }> {
  const next: UserRow = { ...current, updated_at: now, claims_version: current.claims_version + 1 };
  if (change.username !== undefined) {
    next.username = cleanUsername(change.username);
    next.username_key = identifierKey(next.username);
  }
  if (change.email !== undefined) {
    next.email = cleanEmail(change.email);
    next.email_key = next.email === null ? null : identifierKey(next.email);
    // Compared by key, computed afresh: the stored key may predate migration 0002.
    if (next.email_key !== (current.email === null ? null : identifierKey(current.email))) next.email_verified = 0;
  }
  if (change.emailVerified !== undefined) next.email_verified = change.emailVerified ? 1 : 0;
  if (change.profile !== undefined) next.profile = JSON.stringify(change.profile);
  if (change.password !== undefined) {
    next.password_hash = await hashPassword(cleanPassword(change.password, app.settings.password_min_length), passwordParams(env));
    next.password_changed_at = now;
    next.password_reset_required = 0;
  }
  if (change.status !== undefined) next.status = change.status;
  if (change.providedId !== undefined) next.provided_id = change.providedId;
  if (change.orgCode !== undefined) next.org_code = change.orgCode;
  if (change.passwordResetRequired !== undefined) next.password_reset_required = change.passwordResetRequired ? 1 : 0;
  const statement = env.DB.prepare(
    `UPDATE users SET username = ?, username_key = ?, email = ?, email_key = ?, email_verified = ?, password_hash = ?, profile = ?, status = ?,
                      provided_id = ?, org_code = ?, password_reset_required = ?, password_changed_at = ?, updated_at = ?, claims_version = claims_version + 1
      WHERE app_id = ? AND id = ?`,
  ).bind(
    next.username, next.username_key, next.email, next.email_key, next.email_verified, next.password_hash, next.profile, next.status,
    next.provided_id, next.org_code, next.password_reset_required, next.password_changed_at, now, app.id, current.id,
  );
  return { statement, next };
}

/**
 * Applies an update with the caller's `also` statements (or statements made from the
 * updated row, such as its event) in one batch; IdentifierTakenError on a collision.
 */
export async function updateUser(
  env: Env,
  app: Pick<App, "id" | "settings">,
  current: UserRow,
  change: UserChange,
  also: D1PreparedStatement[] | ((next: UserRow) => D1PreparedStatement[]) = [],
  now = Date.now(),
): Promise<UserRow> {
  const { statement, next } = await updateUserStatement(env, app, current, change, now);
  await writeIdentifiers(env, [statement, ...(typeof also === "function" ? also(next) : also)]);
  return next;
}

export function userByIdStatement(env: Env, appId: string, id: string): D1PreparedStatement {
  return env.DB.prepare("SELECT * FROM users WHERE app_id = ? AND id = ?").bind(appId, id);
}

export async function userById(env: Env, appId: string, id: string): Promise<UserRow | null> {
  return userByIdStatement(env, appId, id).first<UserRow>();
}

/**
 * The active user whose id is the SQL expression `idSql` over ?1 (app id) and ?2 (`value`),
 * such as the user of an authorization code consumed in the same batch.
 */
export function activeUserWhereStatement(env: Env, appId: string, idSql: string, value: string): D1PreparedStatement {
  return env.DB.prepare(`SELECT * FROM users WHERE app_id = ?1 AND id = ${idSql} AND status = 'active'`).bind(appId, value);
}

/** The user a sign-in identifier (username or email, any case or normal form) names. */
export function userByIdentifierStatement(env: Env, appId: string, identifier: string): D1PreparedStatement {
  const key = identifierKey(identifier);
  return env.DB.prepare("SELECT * FROM users WHERE app_id = ?1 AND (username_key = ?2 OR email_key = ?2) LIMIT 1").bind(appId, key);
}

export async function usernameExists(env: Env, appId: string, username: string): Promise<boolean> {
  return (await env.DB.prepare("SELECT 1 AS x FROM users WHERE app_id = ? AND username_key = ?").bind(appId, identifierKey(username)).first()) !== null;
}

/** A successful sign-in: when, and (when its parameters changed) the password's fresh hash. */
export function recordSignInStatement(env: Env, appId: string, userId: string, now: number, rehashed?: string): D1PreparedStatement {
  return rehashed
    ? env.DB.prepare("UPDATE users SET last_login_at = ?, password_hash = ? WHERE app_id = ? AND id = ?").bind(now, rehashed, appId, userId)
    : env.DB.prepare("UPDATE users SET last_login_at = ? WHERE app_id = ? AND id = ?").bind(now, appId, userId);
}

/** Bumps the claims version of the users selected by `where` (a SQL condition on `users` over ?2 = app id, ?3 = id). */
export function bumpClaimsWhereStatement(env: Env, appId: string, where: string, id: string): D1PreparedStatement {
  return env.DB.prepare(`UPDATE users SET claims_version = claims_version + 1 WHERE app_id = ?1 AND (${where})`).bind(appId, appId, id);
}

export function bumpUserClaimsStatement(env: Env, appId: string, userId: string): D1PreparedStatement {
  return env.DB.prepare("UPDATE users SET claims_version = claims_version + 1 WHERE app_id = ? AND id = ?").bind(appId, userId);
}

/** Everything a hard-deleted user leaves behind, to run in one batch with the event. */
export function deleteUserStatements(env: Env, appId: string, userId: string): D1PreparedStatement[] {
  return ["users", "sessions", "group_users", "user_roles", "user_permissions", "user_feature_flags", "passkeys", "consents", "user_identities", "one_time_tokens"].map((table) =>
    env.DB.prepare(`DELETE FROM ${table} WHERE app_id = ? AND ${table === "users" ? "id" : "user_id"} = ?`).bind(appId, userId),
  );
}

export interface UserFilter {
  id?: string;
  username?: string;
  email?: string;
  /** Profile fields by exact value (Kinvey `_lookup`). */
  profile?: Record<string, string | number | boolean>;
  activeOnly?: boolean;
  /** Keyset paging by (created_at, id). */
  after?: { createdAt: number; id: string };
  limit: number;
}

/** Users matching every given filter, oldest first. Field names are checked by the caller. */
export async function findUsers(env: Env, appId: string, filter: UserFilter): Promise<UserRow[]> {
  const where = new Where("app_id = ?", appId);
  if (filter.activeOnly) where.and("status = 'active'");
  if (filter.id !== undefined) where.and("id = ?", filter.id);
  if (filter.username !== undefined) where.and("username_key = ?", identifierKey(filter.username));
  if (filter.email !== undefined) where.and("email_key = ?", identifierKey(filter.email));
  for (const [field, value] of Object.entries(filter.profile ?? {})) where.and("json_extract(profile, ?) = ?", `$.${field}`, typeof value === "boolean" ? Number(value) : value);
  if (filter.after) where.and("(created_at > ? OR (created_at = ? AND id > ?))", filter.after.createdAt, filter.after.createdAt, filter.after.id);
  const { results } = await env.DB.prepare(`SELECT * FROM users WHERE ${where} ORDER BY created_at, id LIMIT ?`)
    .bind(...where.params, filter.limit)
    .all<UserRow>();
  return results;
}

export function parseProfile(row: Pick<UserRow, "profile">): Record<string, unknown> {
  try {
    const value = JSON.parse(row.profile) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The Kinvey user document. Never includes the password hash or operator-owned attributes. */
export function kinveyUserDoc(row: UserRow, authtoken?: string): Record<string, unknown> {
  const kmd: Record<string, unknown> = {
    lmt: new Date(row.updated_at).toISOString(),
    ect: new Date(row.created_at).toISOString(),
  };
  if (row.email) kmd.emailVerification = { status: row.email_verified ? "confirmed" : "unconfirmed" };
  if (row.status === "disabled") kmd.status = { val: "disabled", lastChange: new Date(row.updated_at).toISOString() };
  if (authtoken) kmd.authtoken = authtoken;
  const doc: Record<string, unknown> = { ...parseProfile(row), _id: row.id, username: row.username };
  if (row.email) doc.email = row.email;
  doc._kmd = kmd;
  doc._acl = { creator: row.id };
  return doc;
}

/** The user object in webhook and event data (Kinde's user event shape). */
export function userEventData(row: UserRow) {
  const p = parseProfile(row);
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    user: {
      id: row.id,
      email: row.email,
      username: row.username,
      first_name: str(p.given_name),
      last_name: str(p.family_name),
      phone: null,
      is_suspended: row.status !== "active",
      is_password_reset_requested: row.password_reset_required === 1,
      organizations: row.org_code ? [{ code: row.org_code }] : [],
    },
  };
}
