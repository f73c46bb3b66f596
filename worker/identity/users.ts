/**
 * The user store: one pool per app shared by every surface. Rows map to the Kinvey user
 * document here and nowhere else, so no surface can leak `password_hash` by accident.
 */
import type { Env } from "../env";
import { randomId } from "../util/crypto";

export interface UserRow {
  id: string;
  app_id: string;
  username: string;
  email: string | null;
  email_verified: number;
  password_hash: string;
  profile: string;
  status: "active" | "suspended" | "disabled";
  claims_version: number;
  password_changed_at: number | null;
  last_login_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Fields of a Kinvey user document that are columns, not profile. */
const RESERVED = new Set(["_id", "_kmd", "_acl", "username", "password", "email", "_socialIdentity"]);

export function newUserId(): string {
  return randomId(24, "0123456789abcdef");
}

export async function userById(env: Env, appId: string, id: string): Promise<UserRow | null> {
  return env.DB.prepare("SELECT * FROM users WHERE app_id = ? AND id = ?").bind(appId, id).first<UserRow>();
}

export async function userByUsername(env: Env, appId: string, username: string): Promise<UserRow | null> {
  return env.DB.prepare("SELECT * FROM users WHERE app_id = ? AND username = ?").bind(appId, username).first<UserRow>();
}

/** The user a hosted-login identifier names: a username, else a (case-insensitive) email. */
export function userByIdentifierStatement(env: Env, appId: string, identifier: string): D1PreparedStatement {
  return env.DB.prepare(
    "SELECT * FROM users WHERE app_id = ?1 AND (username = ?2 OR (email = lower(?2) AND NOT EXISTS (SELECT 1 FROM users WHERE app_id = ?1 AND username = ?2))) LIMIT 1",
  ).bind(appId, identifier);
}

/** Splits a client's user document into columns and profile; refuses wrong types. */
export function splitUserDoc(doc: Record<string, unknown>): { email?: string | null; profile: Record<string, unknown> } {
  const profile: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) if (!RESERVED.has(key)) profile[key] = value;
  const out: { email?: string | null; profile: Record<string, unknown> } = { profile };
  if ("email" in doc) {
    if (doc.email !== null && typeof doc.email !== "string") throw new TypeError("email must be a string");
    out.email = typeof doc.email === "string" ? doc.email.trim().toLowerCase() : null;
  }
  return out;
}

/** The Kinvey user document. Never includes the password hash. */
export function kinveyUserDoc(row: UserRow, authtoken?: string): Record<string, unknown> {
  const profile = JSON.parse(row.profile) as Record<string, unknown>;
  const kmd: Record<string, unknown> = {
    lmt: new Date(row.updated_at).toISOString(),
    ect: new Date(row.created_at).toISOString(),
  };
  if (row.email) kmd.emailVerification = { status: row.email_verified ? "confirmed" : "unconfirmed" };
  if (row.status === "disabled") kmd.status = { val: "disabled", lastChange: new Date(row.updated_at).toISOString() };
  if (authtoken) kmd.authtoken = authtoken;
  const doc: Record<string, unknown> = { ...profile, _id: row.id, username: row.username };
  if (row.email) doc.email = row.email;
  doc._kmd = kmd;
  doc._acl = { creator: row.id };
  return doc;
}

/** Everything a hard-deleted user leaves behind, to run in one batch with the event. */
export function deleteUserStatements(env: Env, appId: string, userId: string): D1PreparedStatement[] {
  return ["users", "sessions", "group_users", "user_roles", "user_permissions", "user_feature_flags", "passkeys"].map((table) =>
    env.DB.prepare(`DELETE FROM ${table} WHERE app_id = ? AND ${table === "users" ? "id" : "user_id"} = ?`).bind(appId, userId),
  );
}

/**
 * True when another user already answers to `username` or `email` as a sign-in identifier
 * (hosted login accepts either), so no one can shadow someone else's email with a username.
 */
export async function identifierTaken(env: Env, appId: string, selfId: string, username: string, email: string | null): Promise<boolean> {
  const row = await env.DB.prepare(
    `SELECT 1 AS x FROM users WHERE app_id = ?1 AND id != ?2
        AND (username = ?3 OR email = lower(?3) OR (?4 IS NOT NULL AND (email = ?4 OR username = ?4))) LIMIT 1`,
  )
    .bind(appId, selfId, username, email)
    .first<number>("x");
  return row !== null;
}

export async function countUsers(env: Env, appId: string): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM users WHERE app_id = ?").bind(appId).first<number>("n")) ?? 0;
}
