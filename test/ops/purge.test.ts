/**
 * The retention purge (worker/ops/purge.ts) through the exported `scheduled` handler at an
 * injected time: it removes exactly what is past its rule, keeps everything live (including
 * rows exactly at a cutoff), and removes at most PURGE_BATCH rows per rule per run.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { SIGN_IN_LIMIT } from "../../worker/console/auth";
import { REGISTRATION_LIMIT } from "../../worker/oauth/register";
import { purge } from "../../worker/ops/purge";
import { AUTH_CODE_KEEP_MS, CHALLENGE_KEEP_MS, ONE_TIME_KEEP_MS, PURGE_BATCH, RATE_LIMIT_KEEP_MS } from "../../worker/ops/rules";
import { createApp, type TestApp } from "../helpers";
import { DAY, runCron } from "./helpers";

const T = Date.now();
const H = 3600_000;

function insert(table: string, row: Record<string, unknown>): D1PreparedStatement {
  const cols = Object.keys(row);
  return env.DB.prepare(`INSERT INTO ${table} (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`).bind(...Object.values(row));
}

/** The marked rows left in `table` (ids starting `keep-` or `gone-`), sorted. */
async function marked(table: string, column: string): Promise<string[]> {
  const { results } = await env.DB.prepare(`SELECT ${column} AS id FROM ${table} WHERE ${column} LIKE 'keep-%' OR ${column} LIKE 'gone-%' ORDER BY 1`).all<{ id: string }>();
  return results.map((r) => r.id);
}

let a: TestApp; // every default: chains 90 days, events 90 days
let b: TestApp; // refresh_absolute_ttl 1 day, events 7 days
let c: TestApp; // settings stored before these settings existed: the defaults apply

beforeAll(async () => {
  a = await createApp();
  b = await createApp({ settings: { event_retention_days: 7, refresh_token_ttl: 3600, refresh_absolute_ttl: 86400 } });
  c = await createApp();
  await env.DB.prepare("UPDATE apps SET settings = '{}' WHERE id = ?").bind(c.id).run();
});

describe("retention purge", () => {
  it("removes exactly what is past its rule and keeps everything live", async () => {
    const code = (id: string, expires: number, consumed: number | null = null) =>
      insert("auth_codes", {
        code_hash: id, app_id: a.id, client_id: "c", user_id: "u", session_id: "s", redirect_uri: "https://x/cb", scope: "openid",
        auth_time: 1, auth_method: "password", expires_at: expires, consumed_at: consumed,
      });
    const session = (id: string, kind: string, expires: number | null, lastSeen = T - DAY) =>
      insert("sessions", { id, app_id: a.id, user_id: "u", kind, token_hash: id, created_at: lastSeen - DAY, last_seen_at: lastSeen, expires_at: expires });
    const challenge = (id: string, expires: number) => insert("webauthn_challenges", { id, app_id: a.id, binding_hash: "b", kind: "register", challenge: "x", expires_at: expires });
    const upstream = (id: string, expires: number) => insert("upstream_states", { state_hash: id, app_id: a.id, connection_id: "conn", binding_hash: "b", expires_at: expires });
    const oneTime = (id: string, expires: number) =>
      insert("one_time_tokens", { id, app_id: a.id, kind: "password_reset", secret_hash: id, binding: "b", subject: "s", address: "a", created_at: expires - 30 * 60_000, expires_at: expires });
    const counter = (key: string, start: number) => insert("rate_limits", { key, window_start: start, count: 3 });
    const key = (kid: string, status: string, expires: number | null) =>
      insert("signing_keys", { kid, app_id: a.id, alg: "ES256", public_jwk: "{}", private_jwk: "v1.x.y", status, created_at: T - 100 * DAY, expires_at: expires });
    const delivery = (id: string, status: string, updated: number) =>
      insert("webhook_deliveries", { id, app_id: a.id, webhook_id: "wh", event_id: "ev", status, next_attempt_at: updated, created_at: updated - H, updated_at: updated });
    const chain = (id: string, app: TestApp, expires: number, ended: number | null) =>
      insert("chains", { id, app_id: app.id, user_id: "u", client_id: "c", created_at: expires - 90 * DAY, expires_at: expires, ended_at: ended });
    const event = (id: string, app: TestApp, created: number) => insert("events", { id, app_id: app.id, type: "user.created", created_at: created });
    const client = (id: string, app: TestApp, registration: string, created: number, lastUsed: number | null) =>
      insert("clients", { id, app_id: app.id, name: id, type: "public", registration, created_at: created, last_used_at: lastUsed });
    const consent = (userId: string, app: TestApp, clientId: string) => insert("consents", { app_id: app.id, user_id: userId, client_id: clientId, created_at: T, updated_at: T });
    const ttl = 90 * DAY; // registration_client_ttl's default

    await env.DB.batch([
      code("gone-code-expired", T - AUTH_CODE_KEEP_MS - 1),
      code("gone-code-used", T - AUTH_CODE_KEEP_MS - 1, T - AUTH_CODE_KEEP_MS - 30_000),
      code("keep-code-at-cutoff", T - AUTH_CODE_KEEP_MS),
      code("keep-code-used-replay-window", T - 1000, T - 30_000),
      code("keep-code-live", T + 60_000),
      session("gone-session-browser", "browser", T - 1),
      session("gone-session-kinvey", "kinvey", T - 1),
      session("keep-session-browser", "browser", T + 1),
      session("keep-session-kinvey-until-revoked", "kinvey", null),
      // Kinvey tokens die idle after kinvey_session_idle_seconds (14 days by default).
      session("gone-session-kinvey-idle", "kinvey", null, T - 14 * DAY - 1),
      session("keep-session-kinvey-idle-at-cutoff", "kinvey", null, T - 14 * DAY),
      challenge("gone-challenge", T - CHALLENGE_KEEP_MS - 1),
      challenge("keep-challenge-at-cutoff", T - CHALLENGE_KEEP_MS),
      challenge("keep-challenge-live", T + 5 * 60_000),
      upstream("gone-state", T - CHALLENGE_KEEP_MS - 1),
      upstream("keep-state-live", T + 5 * 60_000),
      oneTime("gone-one-time", T - ONE_TIME_KEEP_MS - 1),
      oneTime("keep-one-time-still-counted", T - 1),
      oneTime("keep-one-time-live", T + 30 * 60_000),
      counter("gone-counter", T - RATE_LIMIT_KEEP_MS - 1),
      counter("keep-counter-at-cutoff", T - RATE_LIMIT_KEEP_MS),
      counter("keep-counter-live", T - 1),
      key("gone-key-retired", "retired", T - 1),
      key("keep-key-retired-still-published", "retired", T + 1),
      key("keep-key-next", "next", null),
      delivery("gone-delivered", "delivered", T - 7 * DAY - 1),
      delivery("keep-delivered", "delivered", T - 7 * DAY),
      delivery("gone-dead", "dead", T - 30 * DAY - 1),
      delivery("keep-dead", "dead", T - 30 * DAY),
      delivery("keep-pending", "pending", T - 60 * DAY),
      chain("gone-chain-a-ended", a, T, T - 90 * DAY - 1),
      chain("keep-chain-a-ended", a, T, T - 90 * DAY),
      chain("gone-chain-a-expired", a, T - 90 * DAY - 1, null),
      chain("keep-chain-a-expired-recently", a, T - 1, null),
      chain("keep-chain-a-live", a, T + DAY, null),
      chain("gone-chain-b-ended", b, T, T - DAY - 1),
      chain("keep-chain-b-ended", b, T, T - DAY),
      chain("gone-chain-c-ended", c, T, T - 90 * DAY - 1),
      chain("keep-chain-c-ended", c, T, T - 2 * DAY),
      event("gone-event-a", a, T - 90 * DAY - 1),
      event("keep-event-a-at-cutoff", a, T - 90 * DAY),
      event("keep-event-a-new", a, T),
      event("gone-event-b", b, T - 7 * DAY - 1),
      event("keep-event-b", b, T - 7 * DAY),
      event("gone-event-c", c, T - 90 * DAY - 1),
      event("keep-event-c", c, T - 8 * DAY),
      // Dynamic clients unused for registration_client_ttl go with their consents (the lookup refuses them from then on).
      client("gone-client-unused", a, "dynamic", T - 100 * DAY, T - ttl),
      consent("gone-consent-1", a, "gone-client-unused"),
      consent("gone-consent-2", a, "gone-client-unused"),
      client("gone-client-never-used", c, "dynamic", T - ttl - 1, null),
      client("keep-client-used", a, "dynamic", T - 100 * DAY, T - ttl + 1),
      consent("keep-consent", a, "keep-client-used"),
      client("keep-client-new", a, "dynamic", T - DAY, null),
      client("keep-client-operator", a, "operator", T - 400 * DAY, null),
    ]);

    await runCron(T);

    expect(await marked("auth_codes", "code_hash")).toEqual(["keep-code-at-cutoff", "keep-code-live", "keep-code-used-replay-window"]);
    expect(await marked("sessions", "id")).toEqual(["keep-session-browser", "keep-session-kinvey-idle-at-cutoff", "keep-session-kinvey-until-revoked"]);
    expect(await marked("webauthn_challenges", "id")).toEqual(["keep-challenge-at-cutoff", "keep-challenge-live"]);
    expect(await marked("upstream_states", "state_hash")).toEqual(["keep-state-live"]);
    expect(await marked("one_time_tokens", "id")).toEqual(["keep-one-time-live", "keep-one-time-still-counted"]);
    expect(await marked("rate_limits", "key")).toEqual(["keep-counter-at-cutoff", "keep-counter-live"]);
    expect(await marked("signing_keys", "kid")).toEqual(["keep-key-next", "keep-key-retired-still-published"]);
    expect(await marked("webhook_deliveries", "id")).toEqual(["keep-dead", "keep-delivered", "keep-pending"]);
    expect(await marked("chains", "id")).toEqual(["keep-chain-a-ended", "keep-chain-a-expired-recently", "keep-chain-a-live", "keep-chain-b-ended", "keep-chain-c-ended"]);
    expect(await marked("events", "id")).toEqual(["keep-event-a-at-cutoff", "keep-event-a-new", "keep-event-b", "keep-event-c"]);
    expect(await marked("clients", "id")).toEqual(["keep-client-new", "keep-client-operator", "keep-client-used"]);
    expect(await marked("consents", "user_id")).toEqual(["keep-consent"]);

    // A second run at the same time finds nothing more.
    const again = await purge(env, T);
    expect(again.failed).toEqual([]);
    expect(Object.values(again.deleted).every((n) => n === 0)).toBe(true);
  });

  it("keeps every rate-limit counter while its window runs, whichever limit it counts for", () => {
    for (const rule of [SIGN_IN_LIMIT, REGISTRATION_LIMIT]) expect(RATE_LIMIT_KEEP_MS).toBeGreaterThanOrEqual(rule.windowMs);
  });

  it(`removes at most ${PURGE_BATCH} rows per rule per run, and reads no table whole`, async () => {
    const bulk = PURGE_BATCH + 5;
    const live = 2000;
    await env.DB.batch([
      env.DB.prepare(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) INSERT INTO rate_limits (key, window_start, count) SELECT 'bulk-old-' || i, ?2, 1 FROM n",
      ).bind(bulk, T - RATE_LIMIT_KEEP_MS - 1),
      env.DB.prepare(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) INSERT INTO events (id, app_id, type, created_at) SELECT 'bulk-old-' || i, ?2, 'user.created', ?3 FROM n",
      ).bind(bulk, a.id, T - 90 * DAY - 1),
      env.DB.prepare(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) INSERT INTO events (id, app_id, type, created_at) SELECT 'bulk-live-' || i, ?2, 'user.created', ?3 FROM n",
      ).bind(live, a.id, T - DAY),
      env.DB.prepare(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1) INSERT INTO sessions (id, app_id, user_id, kind, token_hash, created_at, last_seen_at, expires_at) SELECT 'bulk-live-' || i, ?2, 'u', 'browser', 'bulk-live-' || i, ?3, ?3, ?4 FROM n",
      ).bind(live, a.id, T, T + DAY),
    ]);
    const count = async (table: string, column: string, prefix: string) =>
      (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} LIKE ?`).bind(`${prefix}%`).first<{ n: number }>())!.n;

    await runCron(T);
    expect(await count("rate_limits", "key", "bulk-old-")).toBe(5);
    expect(await count("events", "id", "bulk-old-")).toBe(5);

    const second = await purge(env, T);
    expect(second.deleted.rate_limits).toBe(5);
    expect(second.deleted.events).toBe(5);
    expect(await count("rate_limits", "key", "bulk-old-")).toBe(0);
    expect(await count("events", "id", "bulk-old-")).toBe(0);
    expect(await count("events", "id", "bulk-live-")).toBe(live);
    expect(await count("sessions", "id", "bulk-live-")).toBe(live);

    // Nothing left to remove: each rule reads a few index entries, not the live rows.
    const idle = await purge(env, T);
    expect(idle.read.events).toBeGreaterThan(0); // D1 reports what it read (the apps, at least)
    for (const [rule, read] of Object.entries(idle.read)) expect(read, rule).toBeLessThan(50);
  });
});
