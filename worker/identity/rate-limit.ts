/**
 * Credential-guessing limits (SPEC §10): failed attempts are counted per account and per
 * client address in fixed windows. Only failures write; a success reads the counters it
 * was going to read anyway (batched with the user lookup) and clears a non-zero account
 * counter.
 */
import type { Env } from "../env";

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

export function limitKeys(appId: string, clientAddress: string, account?: string): LimitKeys {
  return {
    address: `addr:${appId}:${clientAddress}`,
    ...(account !== undefined ? { account: `acct:${appId}:${account.toLowerCase()}` } : {}),
  };
}

export function countersStatement(env: Env, keys: LimitKeys): D1PreparedStatement {
  return env.DB.prepare("SELECT key, window_start, count FROM rate_limits WHERE key IN (?, ?)").bind(keys.address, keys.account ?? keys.address);
}

/** Seconds until the caller may try again, or 0 when it may try now. Pure. */
export function retryAfter(rows: CounterRow[], keys: LimitKeys, now: number): number {
  let wait = 0;
  for (const row of rows) {
    const rule = row.key === keys.account ? RATE_LIMITS.account : RATE_LIMITS.address;
    const windowEnd = row.window_start + rule.windowMs;
    if (windowEnd > now && row.count >= rule.max) wait = Math.max(wait, Math.ceil((windowEnd - now) / 1000));
  }
  return wait;
}

/** Counts a failure; `also` joins the same batch (the failure's event). */
export async function recordFailure(env: Env, keys: LimitKeys, now = Date.now(), also: D1PreparedStatement[] = []): Promise<void> {
  const upsert = (key: string, windowMs: number) =>
    env.DB.prepare(
      `INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE count + 1 END,
         window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END`,
    ).bind(key, now, windowMs);
  const statements = [upsert(keys.address, RATE_LIMITS.address.windowMs)];
  if (keys.account) statements.push(upsert(keys.account, RATE_LIMITS.account.windowMs));
  await env.DB.batch([...statements, ...also]);
}

export async function clearAccountCounter(env: Env, keys: LimitKeys, rows: CounterRow[]): Promise<void> {
  if (keys.account && rows.some((r) => r.key === keys.account && r.count > 0)) {
    await env.DB.prepare("DELETE FROM rate_limits WHERE key = ?").bind(keys.account).run();
  }
}

export function clientAddress(headers: Headers): string {
  return headers.get("cf-connecting-ip") ?? "local";
}
