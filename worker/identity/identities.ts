/**
 * The `user_identities` table: who an upstream connection says a user is (schema/tables.ts).
 * One row per (connection, subject); a row without a subject is a pre-link by email made
 * through the management API, claimed by the first verified sign-in with that email.
 */
import type { Env } from "../env";
import { randomId } from "../util/crypto";

export interface IdentityRow {
  id: string;
  app_id: string;
  user_id: string;
  connection_id: string;
  subject: string | null;
  email: string | null;
  total_logins: number;
  created_at: number;
  last_login_at: number | null;
}

export function newIdentityId(): string {
  return `identity_${randomId(24)}`;
}

export function identityBySubject(env: Env, appId: string, connectionId: string, subject: string): Promise<IdentityRow | null> {
  return env.DB.prepare("SELECT * FROM user_identities WHERE app_id = ? AND connection_id = ? AND subject = ?").bind(appId, connectionId, subject).first<IdentityRow>();
}

/** A pre-link waiting for this connection's sign-in with this email (stored lower-cased). */
export function pendingLinkByEmail(env: Env, appId: string, connectionId: string, email: string): Promise<IdentityRow | null> {
  return env.DB.prepare("SELECT * FROM user_identities WHERE app_id = ? AND connection_id = ? AND subject IS NULL AND email = ? LIMIT 1")
    .bind(appId, connectionId, email.toLowerCase())
    .first<IdentityRow>();
}

export function identityById(env: Env, appId: string, id: string): Promise<IdentityRow | null> {
  return env.DB.prepare("SELECT * FROM user_identities WHERE app_id = ? AND id = ?").bind(appId, id).first<IdentityRow>();
}

/** A user's identities, oldest first, keyset-paged by (created_at, id). */
export async function identitiesOfUser(env: Env, appId: string, userId: string, page: { size: number; after: { createdAt: number; id: string } | null }): Promise<IdentityRow[]> {
  const after = page.after;
  const { results } = await env.DB.prepare(
    `SELECT * FROM user_identities WHERE app_id = ? AND user_id = ?${after ? " AND (created_at > ? OR (created_at = ? AND id > ?))" : ""} ORDER BY created_at, id LIMIT ?`,
  )
    .bind(appId, userId, ...(after ? [after.createdAt, after.createdAt, after.id] : []), page.size + 1)
    .all<IdentityRow>();
  return results;
}

export function insertIdentityStatement(env: Env, row: IdentityRow): D1PreparedStatement {
  return env.DB.prepare(
    "INSERT INTO user_identities (id, app_id, user_id, connection_id, subject, email, total_logins, created_at, last_login_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).bind(row.id, row.app_id, row.user_id, row.connection_id, row.subject, row.email === null ? null : row.email.toLowerCase(), row.total_logins, row.created_at, row.last_login_at);
}

/** Claims a pre-link for `subject`; only a row still unclaimed changes. */
export function claimPendingStatement(env: Env, appId: string, id: string, subject: string, now: number): D1PreparedStatement {
  return env.DB.prepare("UPDATE user_identities SET subject = ?, total_logins = total_logins + 1, last_login_at = ? WHERE app_id = ? AND id = ? AND subject IS NULL").bind(
    subject,
    now,
    appId,
    id,
  );
}

export function recordIdentityLoginStatement(env: Env, appId: string, id: string, email: string | null, now: number): D1PreparedStatement {
  return env.DB.prepare("UPDATE user_identities SET total_logins = total_logins + 1, last_login_at = ?, email = COALESCE(?, email) WHERE app_id = ? AND id = ?").bind(
    now,
    email === null ? null : email.toLowerCase(),
    appId,
    id,
  );
}

export function deleteIdentityStatement(env: Env, appId: string, id: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM user_identities WHERE app_id = ? AND id = ?").bind(appId, id);
}

/** A deleted connection's identities. */
export function deleteConnectionIdentitiesStatement(env: Env, appId: string, connectionId: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM user_identities WHERE app_id = ? AND connection_id = ?").bind(appId, connectionId);
}

export function isIdentityTaken(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed: user_identities\./.test(err.message);
}
