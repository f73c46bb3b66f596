/**
 * Credential-guessing limits (SPEC §10, README "Credential-guessing limits"): the I/O side
 * of ./attempt-rules.ts. Password attempts are counted in AttemptCounters Durable Objects,
 * never in D1, so a flood of failed sign-ins costs D1 only its user lookups (reads).
 * Counters are keyed by the ACCOUNT (its user id), so username and email share one budget;
 * an identifier that names no user is keyed by its normalised form, so guesses at it are
 * counted (and refused) the same way.
 */
import type { Env } from "../env";
import { sha256Hex } from "../util/crypto";
import type { CounterKey } from "./attempt-counters";
import { shardOf } from "./attempt-rules";
import { identifierKey } from "./identifiers";

/** The keys one password attempt is counted under. */
export interface AttemptKeys {
  /** `acct:{appId}:{user id or #digest}/`; every counter of the account starts with it. */
  account: string;
  address: string;
}

/** An account's counters' prefix; the trailing `/` keeps `user1` from matching `user10`. */
function accountPrefix(appId: string, userId: string): string {
  return `acct:${appId}:${userId}/`;
}

export function addressKey(appId: string, address: string): string {
  return `addr:${appId}:${address}`;
}

/** Keys of an attempt at `identifier`, which resolved to `user` (or to no one). */
export async function attemptKeys(appId: string, address: string, identifier: string, user: { id: string } | null): Promise<AttemptKeys> {
  return {
    account: user ? accountPrefix(appId, user.id) : `acct:${appId}:#${await sha256Hex(identifierKey(identifier))}/`,
    address: addressKey(appId, address),
  };
}

/** The object holding `key`: `acct:{shard}` or `addr:{shard}`, so the two kinds never share one. */
async function counters(env: Env, key: string) {
  return env.ATTEMPTS.get(env.ATTEMPTS.idFromName(`${key.slice(0, 4)}:${shardOf(await sha256Hex(key))}`));
}

/** Where a success records `address` as known to the account (attempt-rules KNOWN_ADDRESS_MS). */
function knownAddressKey(keys: AttemptKeys, address: string): string {
  return `${keys.account}known:${address}`;
}

/**
 * The account-side counters: this account from everywhere (waived for an address the
 * account signed in from lately), and from this address.
 */
function accountCounters(keys: AttemptKeys, address: string): CounterKey[] {
  return [
    { key: `${keys.account}*`, kind: "account", waivedBy: knownAddressKey(keys, address) },
    { key: `${keys.account}${address}`, kind: "pair" },
  ];
}

/** Counts the address's attempt (before the user lookup is known). Seconds to wait, or 0. */
export async function countAddressAttempt(env: Env, addressKey: string, now: number): Promise<number> {
  return (await (await counters(env, addressKey)).attempt([{ key: addressKey, kind: "address" }], now)).wait;
}

/** Counts the account's attempt; `counts` are the account-wide and pair counts after it. */
export async function countAccountAttempt(env: Env, keys: AttemptKeys, address: string, now: number): Promise<{ wait: number; counts: { account: number; pair: number } }> {
  const { wait, counts } = await (await counters(env, keys.account)).attempt(accountCounters(keys, address), now);
  return { wait, counts: { account: counts[0] ?? 0, pair: counts[1] ?? 0 } };
}

/**
 * A successful sign-in: this address's lock on the account is lifted, the address becomes
 * known to the account, and the account-wide and address counters get this attempt back.
 * The account-wide count is not cleared, so the owner signing in does not hand a distributed
 * guesser a fresh budget.
 */
export async function forgiveAttempt(env: Env, keys: AttemptKeys, address: string, now: number): Promise<void> {
  const [account, pair] = accountCounters(keys, address);
  await Promise.all([
    (await counters(env, keys.account)).forgive([pair!.key], [account!], now, [knownAddressKey(keys, address)]),
    (await counters(env, keys.address)).forgive([], [{ key: keys.address, kind: "address" }], now),
  ]);
}

/**
 * Clears the account's failed-attempt counters (its lockout, from every address). A
 * password reset calls it: whoever proved the mailbox starts afresh. Address counters are
 * left alone.
 */
export async function clearAccountFailures(env: Env, appId: string, account: { id: string }): Promise<void> {
  const prefix = accountPrefix(appId, account.id);
  await (await counters(env, prefix)).clear(prefix);
}

export interface CounterRow {
  key: string;
  window_start: number;
  count: number;
}

/**
 * Counts one event (not a failed credential: e.g. a client registration) against `key` in a
 * fixed D1 window; answers the seconds to wait when this one is over `rule.max`, else 0.
 * These events are rare and succeed, so they stay in D1 (`rate_limits`).
 */
export async function countInWindow(env: Env, key: string, rule: { max: number; windowMs: number }, now = Date.now()): Promise<number> {
  const counter = await env.DB.prepare(
    `INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN window_start <= ?2 - ?3 THEN 1 ELSE count + 1 END,
       window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2 ELSE window_start END
     RETURNING key, window_start, count`,
  )
    .bind(key, now, rule.windowMs)
    .first<CounterRow>();
  if (!counter || counter.count <= rule.max) return 0;
  return Math.max(1, Math.ceil((counter.window_start + rule.windowMs - now) / 1000));
}

/** Gives back one event counted by countInWindow (e.g. a console sign-in that succeeded). */
export async function forgiveInWindow(env: Env, key: string): Promise<void> {
  await env.DB.prepare("UPDATE rate_limits SET count = max(count - 1, 0) WHERE key = ?").bind(key).run();
}
