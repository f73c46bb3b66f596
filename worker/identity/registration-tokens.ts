/**
 * RFC 7591 §3 initial access tokens: what an app whose `registration` is `token` requires
 * at `/oauth2/register`. The operator API issues them (256 random bits, shown once, kept
 * as SHA-256) with a number of uses and a lifetime; each registration spends one use in a
 * single conditional UPDATE, so parallel registrations cannot overspend a token.
 */
import type { Env } from "../env";
import { randomToken, sha256Hex } from "../util/crypto";

export const MAX_TOKEN_USES = 1000;
export const MAX_TOKEN_TTL_S = 365 * 24 * 3600;

export async function issueRegistrationToken(env: Env, appId: string, uses: number, ttlSeconds: number, now = Date.now()) {
  const token = randomToken();
  const expiresAt = now + ttlSeconds * 1000;
  await env.DB.batch([
    env.DB.prepare("INSERT INTO registration_tokens (token_hash, app_id, uses_left, expires_at, created_at) VALUES (?, ?, ?, ?, ?)").bind(await sha256Hex(token), appId, uses, expiresAt, now),
    // Spent and expired tokens are dropped as new ones are issued.
    env.DB.prepare("DELETE FROM registration_tokens WHERE app_id = ? AND (uses_left <= 0 OR expires_at <= ?)").bind(appId, now),
  ]);
  return { token, uses, expiresAt };
}

/** Spends one use of the token; false when it is unknown, spent, expired or another app's. */
export async function spendRegistrationToken(env: Env, appId: string, token: string, now = Date.now()): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
  const row = await env.DB.prepare("UPDATE registration_tokens SET uses_left = uses_left - 1 WHERE token_hash = ? AND app_id = ? AND uses_left > 0 AND expires_at > ? RETURNING uses_left")
    .bind(await sha256Hex(token), appId, now)
    .first();
  return row !== null;
}
