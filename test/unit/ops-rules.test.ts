/** Scheduled work's pure rules: when a key rotates (keys/rotation.ts) and what the purge keeps (ops/rules.ts). */
import { describe, expect, it } from "vitest";
import wrangler from "../../wrangler.toml?raw";
import { rotationDue } from "../../worker/keys/rotation";
import {
  AUTH_CODE_KEEP_MS,
  chainIndexCutoff,
  DAY_MS,
  DEAD_KEEP_MS,
  DELIVERED_KEEP_MS,
  eventCutoff,
  ONE_TIME_KEEP_MS,
  PURGE_BATCH,
  purgeCutoffs,
  RATE_LIMIT_KEEP_MS,
} from "../../worker/ops/rules";
import { REQUEST_LIMITS } from "../../worker/recovery/rules";
import { DEFAULT_SETTINGS, mergeSettings, SettingsError } from "../../worker/tenancy/settings";

const T = Date.UTC(2026, 0, 1);

describe("rotationDue", () => {
  const key = (activatedAt: number | null, status = "active") => ({ status, activatedAt });

  it("is due once the key has signed for signing_key_rotation_days (default 90), not a millisecond before", () => {
    expect(DEFAULT_SETTINGS.signing_key_rotation_days).toBe(90);
    const activated = T - 90 * DAY_MS;
    expect(rotationDue(key(activated), DEFAULT_SETTINGS, T)).toBe(true);
    expect(rotationDue(key(activated + 1), DEFAULT_SETTINGS, T)).toBe(false);
    expect(rotationDue(key(T - 7 * DAY_MS), { signing_key_rotation_days: 7 }, T)).toBe(true);
    expect(rotationDue(key(T - 7 * DAY_MS + 1), { signing_key_rotation_days: 7 }, T)).toBe(false);
  });

  it("never rotates on schedule with 0 days, nor a key that is not the active one", () => {
    expect(rotationDue(key(0), { signing_key_rotation_days: 0 }, T)).toBe(false);
    expect(rotationDue(key(0, "next"), DEFAULT_SETTINGS, T)).toBe(false);
    expect(rotationDue(key(0, "retired"), DEFAULT_SETTINGS, T)).toBe(false);
    expect(rotationDue(key(null), DEFAULT_SETTINGS, T)).toBe(false);
  });

  it("the setting takes 0 to 3650 whole days", () => {
    expect(mergeSettings(DEFAULT_SETTINGS, { signing_key_rotation_days: 0 }).signing_key_rotation_days).toBe(0);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { signing_key_rotation_days: -1 })).toThrow(SettingsError);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { signing_key_rotation_days: 3651 })).toThrow(/signing_key_rotation_days/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { signing_key_rotation_days: 1.5 })).toThrow(SettingsError);
  });
});

describe("retention cutoffs", () => {
  it("keeps codes an hour past expiry (replays recognised), sessions until they expire", () => {
    const cut = purgeCutoffs(T);
    expect(AUTH_CODE_KEEP_MS).toBe(3600_000);
    expect(cut.authCodes).toBe(T - 3600_000);
    expect(cut.sessions).toBe(T);
    expect(cut.retiredKeys).toBe(T);
  });

  it("keeps one-time rows while they still count against the request limits, counters while their window runs", () => {
    expect(ONE_TIME_KEEP_MS).toBeGreaterThanOrEqual(REQUEST_LIMITS.windowMs);
    expect(ONE_TIME_KEEP_MS).toBeGreaterThanOrEqual(DAY_MS);
    expect(RATE_LIMIT_KEEP_MS).toBe(DAY_MS); // registrations count per hour (oauth/register.ts): any window up to a day
    const cut = purgeCutoffs(T);
    expect(cut.oneTime).toBe(T - ONE_TIME_KEEP_MS);
    expect(cut.rateLimits).toBe(T - RATE_LIMIT_KEEP_MS);
  });

  it("keeps delivered outbox rows a week and dead ones 30 days", () => {
    expect(DELIVERED_KEEP_MS).toBe(7 * DAY_MS);
    expect(DEAD_KEEP_MS).toBe(30 * DAY_MS);
    expect(purgeCutoffs(T).delivered).toBe(T - 7 * DAY_MS);
    expect(purgeCutoffs(T).dead).toBe(T - 30 * DAY_MS);
  });

  it("keeps events event_retention_days (default 90, at least 7), chain index rows a further refresh_absolute_ttl", () => {
    expect(DEFAULT_SETTINGS.event_retention_days).toBe(90);
    expect(eventCutoff(DEFAULT_SETTINGS, T)).toBe(T - 90 * DAY_MS);
    expect(eventCutoff({ event_retention_days: 7 }, T)).toBe(T - 7 * DAY_MS);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { event_retention_days: 6 })).toThrow(/event_retention_days/);
    expect(chainIndexCutoff(DEFAULT_SETTINGS, T)).toBe(T - DEFAULT_SETTINGS.refresh_absolute_ttl * 1000);
  });

  it("bounds every purge statement", () => {
    expect(PURGE_BATCH).toBe(1000);
  });
});

describe("the cron trigger", () => {
  it("runs every 10 minutes at the top level and in the dev environment (environments do not inherit triggers)", () => {
    const crons = [...wrangler.matchAll(/^\[(triggers|env\.dev\.triggers)\]\s*\ncrons = \["\*\/10 \* \* \* \*"\]$/gm)].map((m) => m[1]);
    expect(crons).toEqual(["triggers", "env.dev.triggers"]);
  });
});
