/**
 * Opaque session tokens: Kinvey auth tokens and hosted-login browser sessions.
 * The token is 256 random bits handed out once; the table keeps its SHA-256.
 */
import type { Env } from "../env";
import { randomId, randomToken, sha256Hex } from "../util/crypto";
import type { UserRow } from "./users";

export type SessionKind = "kinvey" | "browser";

export interface SessionRow {
  id: string;
  app_id: string;
  user_id: string;
  kind: SessionKind;
  token_hash: string;
  auth_method: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number | null;
}

export interface NewSession {
  id: string;
  token: string;
  statement: D1PreparedStatement;
}

/** Prepares a session insert so callers can batch it with the rest of their write. */
export async function prepareSession(
  env: Env,
  appId: string,
  userId: string,
  kind: SessionKind,
  options: { authMethod?: string; expiresAt?: number | null; now?: number } = {},
): Promise<NewSession> {
  const id = randomId(24);
  const token = randomToken();
  const now = options.now ?? Date.now();
  const statement = env.DB.prepare(
    "INSERT INTO sessions (id, app_id, user_id, kind, token_hash, auth_method, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).bind(id, appId, userId, kind, await sha256Hex(token), options.authMethod ?? "password", now, now, options.expiresAt ?? null);
  return { id, token, statement };
}

const SESSION_LIVE = "s.token_hash = ? AND s.app_id = ? AND s.kind = ? AND u.status = 'active' AND (s.expires_at IS NULL OR s.expires_at > ?)";

/**
 * Lifetimes judged at lookup from the row's own times, for sessions without an `expires_at`
 * (Kinvey auth tokens): dead `idleSeconds` after `last_seen_at`, and `absoluteSeconds` after
 * `created_at` however often used. At lookup rather than stored, so a changed app setting
 * applies to every existing token at once.
 */
export interface SessionLifetime {
  idleSeconds: number;
  absoluteSeconds: number;
}

function liveWhere(appId: string, kind: SessionKind, tokenHash: string, now: number, lifetime?: SessionLifetime): { text: string; params: unknown[] } {
  const params: unknown[] = [tokenHash, appId, kind, now];
  if (!lifetime) return { text: SESSION_LIVE, params };
  params.push(now - lifetime.idleSeconds * 1000, now - lifetime.absoluteSeconds * 1000);
  return { text: `${SESSION_LIVE} AND s.last_seen_at > ? AND s.created_at > ?`, params };
}

/** The live session and its active user for a token hash: one statement, for batching. */
export function sessionByTokenStatement(env: Env, appId: string, kind: SessionKind, tokenHash: string, now: number, lifetime?: SessionLifetime): D1PreparedStatement {
  const where = liveWhere(appId, kind, tokenHash, now, lifetime);
  return env.DB.prepare(
    `SELECT s.id AS s_id, s.kind AS s_kind, s.token_hash AS s_token_hash, s.auth_method AS s_auth_method,
            s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at, u.*
       FROM sessions s JOIN users u ON u.app_id = s.app_id AND u.id = s.user_id
      WHERE ${where.text}`,
  ).bind(...where.params);
}

/**
 * The same lookup as a scalar subquery yielding the user id (NULL when the token is not live),
 * so a caller can use the signed-in user inside its own statement and batch it with
 * sessionByTokenStatement: one round trip, and its rows count only if the session does.
 */
export function sessionUserSql(appId: string, kind: SessionKind, tokenHash: string, now: number, lifetime?: SessionLifetime): { text: string; params: unknown[] } {
  const where = liveWhere(appId, kind, tokenHash, now, lifetime);
  return { text: `SELECT s.user_id FROM sessions s JOIN users u ON u.app_id = s.app_id AND u.id = s.user_id WHERE ${where.text}`, params: where.params };
}

/**
 * Whether a request at `now` should move the session's `last_seen_at` (the idle timer). Not
 * on every request, which would make every read a D1 write: at most once per 15 minutes, or
 * per quarter of the idle lifetime when that is shorter, so the timer is never more than that
 * behind (a session may end up to that much before its full idle lifetime, never after).
 */
export function touchDue(lastSeenAt: number, idleSeconds: number, now: number): boolean {
  return now - lastSeenAt >= Math.min(15 * 60_000, (idleSeconds * 1000) / 4);
}

export function touchSessionStatement(env: Env, appId: string, sessionId: string, now: number): D1PreparedStatement {
  return env.DB.prepare("UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE app_id = ? AND id = ?").bind(now, appId, sessionId);
}

/** The session and user of a sessionByTokenStatement row; null for no row. */
export function sessionFromRow(appId: string, row: (UserRow & Record<`s_${string}`, unknown>) | undefined | null): { session: SessionRow; user: UserRow } | null {
  if (!row) return null;
  const session: SessionRow = {
    id: row.s_id as string,
    app_id: appId,
    user_id: row.id,
    kind: row.s_kind as SessionKind,
    token_hash: row.s_token_hash as string,
    auth_method: row.s_auth_method as string,
    created_at: row.s_created_at as number,
    last_seen_at: row.s_last_seen_at as number,
    expires_at: row.s_expires_at as number | null,
  };
  const user = Object.fromEntries(Object.entries(row).filter(([k]) => !k.startsWith("s_"))) as unknown as UserRow;
  return { session, user };
}

/** The live session and its active user for a presented token, in one read. */
export async function sessionByToken(
  env: Env,
  appId: string,
  kind: SessionKind,
  token: string,
  options: { now?: number; lifetime?: SessionLifetime } = {},
): Promise<{ session: SessionRow; user: UserRow } | null> {
  const row = await sessionByTokenStatement(env, appId, kind, await sha256Hex(token), options.now ?? Date.now(), options.lifetime).first<UserRow & Record<`s_${string}`, unknown>>();
  return sessionFromRow(appId, row);
}

/** The scheduled purge's selection (worker/ops/purge.ts): sessions past `expires_at` (?1); Kinvey tokens without one stay. */
export const EXPIRED_SESSION_ROWS = "SELECT rowid FROM sessions WHERE expires_at < ?1";

/**
 * The purge's selection of Kinvey tokens idle past the app's `kinvey_session_idle_seconds`
 * (`idleSeconds`: SQL over the app row `a`) at ?1. Their lookup already refuses them; an
 * absolutely expired token is refused too, so it is no longer touched and goes idle as well.
 */
export function idleKinveySessionRows(idleSeconds: string): string {
  return `SELECT s.rowid FROM apps a CROSS JOIN sessions s WHERE s.app_id = a.id AND s.kind = 'kinvey' AND s.last_seen_at < ?1 - ${idleSeconds} * 1000 AND s.expires_at IS NULL`;
}

export function deleteSessionStatement(env: Env, appId: string, sessionId: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM sessions WHERE app_id = ? AND id = ?").bind(appId, sessionId);
}

/** Every session of the user except `keepSessionId` (password change keeps the caller's). */
export function deleteUserSessionsStatement(env: Env, appId: string, userId: string, keepSessionId?: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM sessions WHERE app_id = ? AND user_id = ? AND id != ?").bind(appId, userId, keepSessionId ?? "");
}

/** A browser session signed in again by the same user: a fresh token and auth time, same id. */
export async function renewSessionStatement(
  env: Env,
  appId: string,
  sessionId: string,
  token: string,
  options: { authMethod: string; now: number; expiresAt: number },
): Promise<D1PreparedStatement> {
  return env.DB.prepare("UPDATE sessions SET token_hash = ?, created_at = ?, last_seen_at = ?, auth_method = ?, expires_at = ? WHERE app_id = ? AND id = ?").bind(
    await sha256Hex(token),
    options.now,
    options.now,
    options.authMethod,
    options.expiresAt,
    appId,
    sessionId,
  );
}

/** Sliding expiry: the session was used at `now` and now lives until `expiresAt`. */
export function slideSessionStatement(env: Env, appId: string, sessionId: string, now: number, expiresAt: number): D1PreparedStatement {
  return env.DB.prepare("UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE app_id = ? AND id = ?").bind(now, expiresAt, appId, sessionId);
}

/** The user's live sessions, oldest first; `kinvey` (the app's Kinvey lifetimes) leaves out dead Kinvey tokens. */
export async function liveSessionsOfUser(env: Env, appId: string, userId: string, now = Date.now(), kinvey?: SessionLifetime): Promise<SessionRow[]> {
  const { results } = await env.DB.prepare(
    `SELECT * FROM sessions WHERE app_id = ? AND user_id = ? AND (expires_at IS NULL OR expires_at > ?)
        AND (kind != 'kinvey' OR (last_seen_at > ? AND created_at > ?)) ORDER BY created_at`,
  )
    .bind(appId, userId, now, kinvey ? now - kinvey.idleSeconds * 1000 : -1, kinvey ? now - kinvey.absoluteSeconds * 1000 : -1)
    .all<SessionRow>();
  return results;
}

export async function sessionOfUser(env: Env, appId: string, userId: string, sessionId: string): Promise<SessionRow | null> {
  return env.DB.prepare("SELECT * FROM sessions WHERE app_id = ? AND user_id = ? AND id = ?").bind(appId, userId, sessionId).first<SessionRow>();
}

/** Every session of the user, the caller's included. */
export function deleteAllUserSessionsStatement(env: Env, appId: string, userId: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM sessions WHERE app_id = ? AND user_id = ?").bind(appId, userId);
}

/** SQL: whether the session named by `idSql` (over ?1, the app id) is live at ?3 (now), for a caller's column. */
export function liveSessionSql(idSql: string): string {
  return `EXISTS (SELECT 1 FROM sessions WHERE app_id = ?1 AND id = ${idSql} AND (expires_at IS NULL OR expires_at > ?3))`;
}
