/**
 * The store of one-time credentials sent by mail (`one_time_tokens`, schema/tables.ts):
 * password-reset links, email-verification links and sign-in codes. The secret is handed
 * out once (in the message); the table keeps an HMAC of it under a key derived from the
 * deployment secret, so a leaked table yields neither links nor (6-digit, so otherwise
 * guessable offline) codes. Single use is one conditional UPDATE: two racing uses cannot
 * both win. The rules (lifetimes, limits) are in worker/recovery/rules.ts.
 */
import type { Env } from "../env";
import { derivedHmacKey, hex, hmacSha256, randomId } from "../util/crypto";

export type OneTimeKind = "password_reset" | "email_verification" | "email_code";

export interface OneTimeRow {
  id: string;
  app_id: string;
  kind: OneTimeKind;
  /** Null: the request named no (usable) account; the row only keeps the answer the same. */
  user_id: string | null;
  secret_hash: string;
  binding: string;
  subject: string;
  address: string;
  continue: string | null;
  attempts: number;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

/** HMAC-SHA-256 (hex) of `parts` under the deployment's one-time key: secrets, bindings, subjects. */
export async function oneTimeDigest(env: Pick<Env, "KEY_ENCRYPTION_SECRET">, ...parts: string[]): Promise<string> {
  return hex(await hmacSha256(await derivedHmacKey(env.KEY_ENCRYPTION_SECRET, "latch/one-time/v1"), parts.join("\u0000")));
}

export function newOneTimeId(): string {
  return `ott_${randomId(24)}`;
}

export function insertOneTimeStatement(env: Env, row: OneTimeRow): D1PreparedStatement {
  return env.DB.prepare(
    `INSERT INTO one_time_tokens (id, app_id, kind, user_id, secret_hash, binding, subject, address, continue, attempts, created_at, expires_at, consumed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL)`,
  ).bind(row.id, row.app_id, row.kind, row.user_id, row.secret_hash, row.binding, row.subject, row.address, row.continue, row.created_at, row.expires_at);
}

/** How many credentials of `kind` were asked for since `since` by this subject and by this address: two statements, in that order. */
export function recentCountStatements(env: Env, appId: string, kind: OneTimeKind, subject: string, address: string, since: number): D1PreparedStatement[] {
  return [
    env.DB.prepare("SELECT count(*) AS n FROM one_time_tokens WHERE app_id = ? AND kind = ? AND subject = ? AND created_at > ?").bind(appId, kind, subject, since),
    env.DB.prepare("SELECT count(*) AS n FROM one_time_tokens WHERE app_id = ? AND kind = ? AND address = ? AND created_at > ?").bind(appId, kind, address, since),
  ];
}

/** The credential of this app and kind whose secret is `secret` (a link's token), used or not. */
export async function oneTimeBySecret(env: Env, appId: string, kind: OneTimeKind, secret: string): Promise<OneTimeRow | null> {
  const hash = await oneTimeDigest(env, "secret", secret);
  return env.DB.prepare("SELECT * FROM one_time_tokens WHERE secret_hash = ? AND app_id = ? AND kind = ?").bind(hash, appId, kind).first<OneTimeRow>();
}

export function oneTimeById(env: Env, appId: string, kind: OneTimeKind, id: string): Promise<OneTimeRow | null> {
  return env.DB.prepare("SELECT * FROM one_time_tokens WHERE id = ? AND app_id = ? AND kind = ?").bind(id, appId, kind).first<OneTimeRow>();
}

/** Uses the credential: true for the one caller that did, false when it was used, expired or gone. */
export async function consumeOneTime(env: Env, id: string, now: number): Promise<boolean> {
  const res = await env.DB.prepare("UPDATE one_time_tokens SET consumed_at = ?1 WHERE id = ?2 AND consumed_at IS NULL AND expires_at > ?1").bind(now, id).run();
  return res.meta.changes === 1;
}

/**
 * Counts one attempt at a code BEFORE it is compared, so parallel guesses cannot exceed the
 * limit: the row after the count, or null when it was used, expired or out of attempts.
 */
export function countAttempt(env: Env, appId: string, id: string, now: number, maxAttempts: number): Promise<OneTimeRow | null> {
  return env.DB.prepare(
    `UPDATE one_time_tokens SET attempts = attempts + 1
      WHERE id = ?1 AND app_id = ?2 AND kind = 'email_code' AND consumed_at IS NULL AND expires_at > ?3 AND attempts < ?4
      RETURNING *`,
  )
    .bind(id, appId, now, maxAttempts)
    .first<OneTimeRow>();
}

/** Retires every unused credential of the user of this kind (a reset makes the other reset links void). */
export function retireUserOneTimeStatement(env: Env, appId: string, userId: string, kind: OneTimeKind, now: number): D1PreparedStatement {
  return env.DB.prepare("UPDATE one_time_tokens SET consumed_at = ? WHERE app_id = ? AND user_id = ? AND kind = ? AND consumed_at IS NULL").bind(now, appId, userId, kind);
}
