/**
 * The credential-guessing policy (README "Credential-guessing limits", ASVS 2.2.1), as pure
 * decisions over fixed-window counters. The AttemptCounters Durable Object holds the counters
 * and applies these rules; nothing here does I/O.
 *
 * Three counters decide one password attempt, each over 15 minutes:
 * - pair: the account from this address, 10 failures. What a guesser at one address meets,
 *   and the only one the owner's own address shares with them.
 * - account: the account from every address, 100 failures. Bounds a guesser spread over
 *   many addresses; since each address adds at most its pair's 10, filling it takes at
 *   least ten addresses. It is waived for a KNOWN address, one the account signed in from
 *   within KNOWN_ADDRESS_MS, so a distributed guesser cannot lock the owner out of the
 *   addresses they use (their pair counter still applies).
 * - address: this address against every account, 100 failures (credential stuffing).
 * An attempt is counted before the password is checked, so parallel guesses cannot all slip
 * under a limit; a refused attempt is not counted, so hammering a refusal renews nothing and
 * cannot push the account's counter up.
 */

export interface Rule {
  max: number;
  windowMs: number;
}

const WINDOW_MS = 15 * 60_000;

export const ATTEMPT_LIMITS = {
  pair: { max: 10, windowMs: WINDOW_MS },
  account: { max: 100, windowMs: WINDOW_MS },
  address: { max: 100, windowMs: WINDOW_MS },
} as const satisfies Record<string, Rule>;

/** How long a successful sign-in makes its address known to the account. */
export const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;

/** Whether a known-address record (written by a success) still stands at `now`. */
export function stillKnown(record: { start: number; windowMs: number } | null | undefined, now: number): boolean {
  return !!record && record.start + record.windowMs > now;
}

/** A fixed window: when it began, and how many attempts it has counted. */
export interface Counter {
  start: number;
  count: number;
}

/** The counter as of `now`: a window that has ended reads as empty. */
export function current(counter: Counter | null | undefined, rule: Rule, now: number): Counter {
  if (!counter || counter.start + rule.windowMs <= now) return { start: now, count: 0 };
  return counter;
}

/** Seconds until the counter's window ends if it is full (0: it has room). */
export function waitFor(counter: Counter, rule: Rule, now: number): number {
  if (counter.count < rule.max) return 0;
  return Math.max(1, Math.ceil((counter.start + rule.windowMs - now) / 1000));
}

export interface Decision {
  /** Seconds to wait; 0 means the attempt is allowed and counted. */
  wait: number;
  /** The counters after the decision (unchanged when refused). */
  next: Counter[];
}

/**
 * One attempt against `counters` (each with its rule): refused with the longest wait if any
 * is full, else counted in all of them.
 */
export function decide(counters: { counter: Counter | null | undefined; rule: Rule }[], now: number): Decision {
  const live = counters.map(({ counter, rule }) => current(counter, rule, now));
  const wait = Math.max(0, ...live.map((c, i) => waitFor(c, counters[i]!.rule, now)));
  if (wait > 0) return { wait, next: live };
  return { wait: 0, next: live.map((c) => ({ start: c.start, count: c.count + 1 })) };
}

/** A success gives its own attempt back (never below zero). */
export function giveBack(counter: Counter | null | undefined, rule: Rule, now: number): Counter {
  const c = current(counter, rule, now);
  return { start: c.start, count: Math.max(0, c.count - 1) };
}

/**
 * Whether a failed password for an existing account is written to the event log: only the
 * failure that fills a lock (its address's pair counter, or the account-wide one), so at most
 * one D1 write per ten failures whatever the pattern, and none for credential stuffing (a few
 * tries at each of many accounts). Every other failure is only counted; unknown identifiers
 * are never logged (there is no user to log them against).
 */
export function failureEventReason(counts: { account: number; pair: number }): "too_many_failures" | null {
  return counts.pair === ATTEMPT_LIMITS.pair.max || counts.account === ATTEMPT_LIMITS.account.max ? "too_many_failures" : null;
}

/** Shards per kind of counter: each Durable Object serialises the attempts of its keys. */
export const ATTEMPT_SHARDS = 64;

/** The shard of a key from the first 32 bits of its hex digest. */
export function shardOf(digestHex: string, shards = ATTEMPT_SHARDS): number {
  return Number.parseInt(digestHex.slice(0, 8), 16) % shards;
}
