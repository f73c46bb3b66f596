/**
 * Credential-guessing limits (SPEC §10): attempts are counted per account and per client
 * address in fixed windows. The attempt is counted BEFORE the password is checked, in the
 * same D1 batch as the user lookup, so parallel guesses cannot all slip under the limit;
 * a success then forgives its own attempt.
 */
import type { Env } from "../env";
import { sha256Hex } from "../util/crypto";

export const RATE_LIMITS = {
  /** Failed passwords for one account, per window. */
  account: { max: 10, windowMs: 15 * 60_000 },
  /** Failed credentials from one client address, per window. */
  address: { max: 100, windowMs: 15 * 60_000 },
} as const;

export interface LimitKeys {
  account?: string;
  address: string;
}

export interface CounterRow {
  key: string;
  window_start: number;
  count: number;
}

/** Counter keys; the account part is hashed so a long identifier cannot bloat the table. */
export async function limitKeys(appId: string, clientAddress: string, account?: string): Promise<LimitKeys> {
  return {
    address: `addr:${appId}:${clientAddress}`,
    ...(account !== undefined ? { account: `acct:${appId}:${await sha256Hex(account.toLowerCase())}` } : {}),
  };
}

/** Statements that count one attempt against each key and return the counters after it. */
export function countAttemptStatements(env: Env, keys: LimitKeys, now: number): D1PreparedStatement[] {
  const upsert = (key: string, windowMs: number) => upsertCounterStatement(env, key, windowMs, now);
  const statements = [upsert(keys.address, RATE_LIMITS.address.windowMs)];
  if (keys.account) statements.push(upsert(keys.account, RATE_LIMITS.account.windowMs));
  return statements;
}

function upsertCounterStatement(env: Env, key: string, windowMs: number, now: number): D1PreparedStatement {
  return env.DB.prepare(
    `INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE count + 1 END,
       window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END
     RETURNING key, window_start, count`,
  ).bind(key, now, windowMs);
}

/** Seconds until the caller may try again (0: this attempt is within the limits). Pure. */
export function retryAfter(rows: CounterRow[], keys: LimitKeys, now: number): number {
  let wait = 0;
  for (const row of rows) {
    const rule = row.key === keys.account ? RATE_LIMITS.account : RATE_LIMITS.address;
    const windowEnd = row.window_start + rule.windowMs;
    if (windowEnd > now && row.count > rule.max) wait = Math.max(wait, Math.ceil((windowEnd - now) / 1000));
  }
  return wait;
}

/** A successful sign-in: the account starts afresh and the address gets its attempt back. */
export async function forgiveAttempt(env: Env, keys: LimitKeys): Promise<void> {
  const statements = [env.DB.prepare("UPDATE rate_limits SET count = max(count - 1, 0) WHERE key = ?").bind(keys.address)];
  if (keys.account) statements.push(env.DB.prepare("DELETE FROM rate_limits WHERE key = ?").bind(keys.account));
  await env.DB.batch(statements);
}

/**
 * Counts one event (not a failure: e.g. a client registration) against `key` in a fixed
 * window; answers the seconds to wait when this one is over `rule.max`, else 0.
 */
export async function countInWindow(env: Env, key: string, rule: { max: number; windowMs: number }, now = Date.now()): Promise<number> {
  const counter = await upsertCounterStatement(env, key, rule.windowMs, now).first<CounterRow>();
  if (!counter || counter.count <= rule.max) return 0;
  return Math.max(1, Math.ceil((counter.window_start + rule.windowMs - now) / 1000));
}

/**
 * Clears the account's failed-attempt counter (its lockout), whichever of its identifiers
 * the failures were typed with. A password reset calls it: whoever proved the mailbox starts
 * afresh. The address counters are left alone.
 */
export async function clearAccountFailures(env: Env, appId: string, account: { id: string; username: string; email: string | null }): Promise<void> {
  const identifiers = [account.username, ...(account.email ? [account.email] : [])];
  const keys = await Promise.all(identifiers.map(async (identifier) => (await limitKeys(appId, "-", identifier)).account!));
  await env.DB.batch(keys.map((key) => env.DB.prepare("DELETE FROM rate_limits WHERE key = ?").bind(key)));
}

export function clientAddress(headers: Headers): string {
  return headers.get("cf-connecting-ip") ?? "local";
}
