/**
 * What the retention purge keeps, as plain numbers (docs/storage.md "Retention"). A row goes
 * once its time is before the cutoff; a row exactly at the cutoff stays. Pure: the SQL in
 * purge.ts applies the same rules, and test/unit/ops-rules.test.ts pins them.
 */
import { REQUEST_LIMITS } from "../recovery/rules";
import type { AppSettings } from "../tenancy/settings";

export const DAY_MS = 24 * 3600_000;

/** Rows one purge statement removes at most; one run is one statement per rule. */
export const PURGE_BATCH = 1000;

/** Codes (used or not) stay an hour past expiry, so a replay is still recognised and ends what the code began. */
export const AUTH_CODE_KEEP_MS = 3600_000;
/** WebAuthn challenges and upstream sign-in states are dead at expiry; an hour's grace keeps clock skew harmless. */
export const CHALLENGE_KEEP_MS = 3600_000;
/** One-time links and codes count against the request limits after they expire; they go once they count no more. */
export const ONE_TIME_KEEP_MS = Math.max(REQUEST_LIMITS.windowMs, DAY_MS);
/**
 * A rate-limit counter whose window has ended counts nothing. Rows do not record their
 * window, and windows differ (console sign-ins 15 minutes, registrations an hour,
 * oauth/register.ts; failed credentials are counted in AttemptCounters, not here), so
 * counters go a day after their window began: longer than any window.
 */
export const RATE_LIMIT_KEEP_MS = DAY_MS;
/** Delivered outbox rows stay a week (the management API and the console show recent deliveries). */
export const DELIVERED_KEEP_MS = 7 * DAY_MS;
/** Dead outbox rows (retries exhausted) stay 30 days, long enough to be looked into. */
export const DEAD_KEEP_MS = 30 * DAY_MS;

/** The deployment-wide cutoffs at `now` (ms): rows older than these go. */
export function purgeCutoffs(now: number) {
  return {
    /** `auth_codes.expires_at` */
    authCodes: now - AUTH_CODE_KEEP_MS,
    /** `sessions.expires_at` (null: a Kinvey token, until revoked) */
    sessions: now,
    /** `webauthn_challenges.expires_at`, `upstream_states.expires_at` */
    challenges: now - CHALLENGE_KEEP_MS,
    /** `one_time_tokens.expires_at` */
    oneTime: now - ONE_TIME_KEEP_MS,
    /** `rate_limits.window_start` */
    rateLimits: now - RATE_LIMIT_KEEP_MS,
    /** `webhook_deliveries.updated_at` of `delivered` rows */
    delivered: now - DELIVERED_KEEP_MS,
    /** `webhook_deliveries.updated_at` of `dead` rows */
    dead: now - DEAD_KEEP_MS,
    /** `signing_keys.expires_at` of `retired` keys: out of the JWKS already */
    retiredKeys: now,
  };
}

/** `events.created_at` before this goes: the app's `event_retention_days`. */
export function eventCutoff(settings: Pick<AppSettings, "event_retention_days">, now: number): number {
  return now - settings.event_retention_days * DAY_MS;
}

/**
 * A `chains` index row goes once its chain has been over (ended, or past the absolute
 * expiry it was started with) for a further `refresh_absolute_ttl`: `coalesce(ended_at,
 * expires_at)` before this. The margin keeps the index a superset of the live chains when an
 * app lengthens `refresh_absolute_ttl` (the object recomputes a chain's end from the current
 * setting), unless it more than doubles it.
 */
export function chainIndexCutoff(settings: Pick<AppSettings, "refresh_absolute_ttl">, now: number): number {
  return now - settings.refresh_absolute_ttl * 1000;
}
