/**
 * Refresh chains, as the rest of the worker sees them (SPEC §5). The user's RefreshChains
 * object is the truth; the D1 `chains` table is an index for listing and for finding whom
 * to end without waking objects.
 *
 * How the index stays consistent: it is kept a SUPERSET of the live chains, because the
 * callers that end chains (password change, logout, deletion) ask the index first and skip
 * the object when it lists nothing live.
 * - Starting writes the D1 row FIRST, then the object. A crash in between leaves a row for
 *   a chain that never existed: it costs an object call, and the next end-many closes it.
 *   The reverse order could leave a live chain the index does not know, which a later
 *   password change would then miss.
 * - Ending writes the object FIRST, then sets ended_at in D1. A crash in between leaves a
 *   row for a chain the object already refuses; the next end-many closes it.
 * - End-many closes only rows the object does not hold live, and never a young row the
 *   object did not end (a start in flight, see indexAfterEndMany), so a login racing a
 *   password change cannot leave a live chain the index calls ended.
 * - Idle/absolute expiry is decided by the object alone; a chain that expires in the object
 *   is closed in the index when a refresh finds it expired, or by the next end-many.
 * The refresh path (rotateChain) reads and writes no D1 at all; only its failure paths
 * that end a chain (reuse, expiry) write the event and ended_at afterwards.
 */
import type { Env } from "../env";
import { RequestError } from "../http/errors";
import { eventStatement } from "../events/log";
import type { App } from "../tenancy/apps";
import type { EndOutcome, Inspection, ObjectRotateResult } from "./object";
import { chainIdAuthentic, formatRefreshToken, newChainId, parseRefreshToken, routingKey } from "./token";

/** What a chain is bound to; stored in the user's RefreshChains object. */
export interface ChainGrant {
  clientId: string;
  sessionId: string | null; // browser/kinvey session that began it (null for none)
  scope: string; // granted scopes, space separated
  authTime: number; // seconds since epoch
  authMethod: string; // "password" | "passkey" | ...
  claims: Record<string, unknown>; // claims snapshot for access tokens (opaque to chains)
}
export interface StartedChain {
  chainId: string;
  refreshToken: string;
}
export type RotateResult =
  | { ok: true; chainId: string; userId: string; refreshToken: string; grant: ChainGrant; claimsStale: boolean }
  | { ok: false; reason: "malformed" | "unknown" | "expired" | "revoked" | "reused" | "client_mismatch" | "invalid_scope" };
export interface ChainSummary {
  id: string;
  clientId: string;
  sessionId: string | null;
  createdAt: number;
  expiresAt: number;
}

export function chainsStub(env: Env, appId: string, userId: string) {
  return env.CHAINS.get(env.CHAINS.idFromName(`${appId}:${userId}`));
}

function rotationSettings(app: App) {
  const s = app.settings;
  return { refresh_token_ttl: s.refresh_token_ttl, refresh_absolute_ttl: s.refresh_absolute_ttl, refresh_overlap: s.refresh_overlap };
}

/** Marks ended chains in the index (after the object ended them). */
async function indexEnded(env: Env, appId: string, userId: string, ids: string[], now: number, extra: D1PreparedStatement[] = []): Promise<void> {
  const statements = [
    ...ids.map((id) => env.DB.prepare("UPDATE chains SET ended_at = ? WHERE id = ? AND app_id = ? AND user_id = ? AND ended_at IS NULL").bind(now, id, appId, userId)),
    ...extra,
  ];
  if (statements.length) await env.DB.batch(statements);
}

/**
 * The index is a superset of live chains, so no live row means no live chain: callers skip
 * the object, which spares waking (and creating) an object for every user without chains.
 */
async function hasLiveIndexRow(env: Env, appId: string, userId: string, sessionId?: string): Promise<boolean> {
  const row = await env.DB.prepare(
    `SELECT 1 AS x FROM chains WHERE app_id = ? AND user_id = ? AND ended_at IS NULL${sessionId === undefined ? "" : " AND session_id = ?"} LIMIT 1`,
  )
    .bind(appId, userId, ...(sessionId === undefined ? [] : [sessionId]))
    .first<number>("x");
  return row !== null;
}

/** A start writes its index row before its chain exists; this long covers one in flight. */
const START_GRACE_MS = 60_000;

/**
 * After the object ended several chains, close in the index every row the object does not
 * hold live: the ones it just ended, ones it ended earlier (an end that crashed before
 * reaching D1), and old rows it never heard of (a start that crashed before reaching it).
 * Never a row the object has not heard of that is younger than START_GRACE_MS: that may be
 * a start in flight, whose row exists before its chain does, and closing it would hide a
 * chain about to be live from every later end.
 */
async function indexAfterEndMany(env: Env, appId: string, userId: string, outcome: EndOutcome, now: number, sessionId?: string): Promise<void> {
  await env.DB.prepare(
    `UPDATE chains SET ended_at = ? WHERE app_id = ? AND user_id = ? AND ended_at IS NULL${sessionId === undefined ? "" : " AND session_id = ?"}
       AND id NOT IN (SELECT value FROM json_each(?))
       AND (created_at < ? OR id IN (SELECT value FROM json_each(?)))`,
  )
    .bind(now, appId, userId, ...(sessionId === undefined ? [] : [sessionId]), JSON.stringify(outcome.live), now - START_GRACE_MS, JSON.stringify(outcome.known))
    .run();
}

/** A new chain id for the user (tagged, see token.ts), for a caller that records it before the start. */
export function newUserChainId(env: Env, appId: string, userId: string): string {
  return newChainId(routingKey(env.KEY_ENCRYPTION_SECRET), appId, userId);
}

/** The chain id given to startChain had been ended before the chain started (endChain on it). */
export class ChainStartRefused extends Error {}

/**
 * Starts a chain. `options.chainId` (from newUserChainId) lets the caller record the id
 * elsewhere first, and `options.alongside` are statements written in the same D1 batch as
 * the index row (one round trip for both). Throws ChainStartRefused when that id was ended
 * before the start reached the object.
 */
export async function startChain(
  env: Env,
  app: App,
  userId: string,
  grant: ChainGrant,
  now = Date.now(),
  options: { chainId?: string; alongside?: D1PreparedStatement[] } = {},
): Promise<StartedChain> {
  const chainId = options.chainId ?? newUserChainId(env, app.id, userId);
  // Index first (see the header): the index may list a chain that does not exist, never miss one that does.
  await env.DB.batch([
    env.DB.prepare("INSERT INTO chains (id, app_id, user_id, client_id, session_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)").bind(
      chainId,
      app.id,
      userId,
      grant.clientId,
      grant.sessionId,
      now,
      now + app.settings.refresh_absolute_ttl * 1000,
    ),
    ...(options.alongside ?? []),
  ]);
  const started = await chainsStub(env, app.id, userId).start(chainId, { ...grant, claims: JSON.stringify(grant.claims) }, now, {
    ...rotationSettings(app),
    max_chains_per_user: app.settings.max_chains_per_user,
  });
  if (started.secret === null) throw new ChainStartRefused(`chain ${chainId} was ended before it started`);
  await indexEnded(env, app.id, userId, started.ended, now);
  return { chainId, refreshToken: formatRefreshToken(app.id, userId, chainId, started.secret) };
}

/** Seconds a client is asked to wait when the runtime refused the object call twice. */
export const CHAINS_RETRY_AFTER = 1;

/**
 * A call to a chains object, tried again once when the runtime says the failure was
 * transient (`retryable`, e.g. the object was reset or moved mid-call) and not an overload
 * (`overloaded`: more calls would make it worse). `repeatable` says whether running the call
 * twice is harmless: a rotation is only when the overlap window would hand a second attempt
 * the same successor; otherwise a rotation that did land would make the retry look like reuse.
 * A refusal that remains is a 503 with Retry-After in the face's format, never a 500.
 */
export async function callChains<T>(call: () => Promise<T>, repeatable: boolean): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const refusal = runtimeRefusal(err);
      if (!refusal) throw err;
      if (attempt > 1 || !repeatable || refusal.overloaded) throw new RequestError("unavailable", "The token service is busy; retry shortly.", CHAINS_RETRY_AFTER);
    }
  }
}

/** The runtime's flags when `err` is its refusal of a Durable Object call, else null. */
function runtimeRefusal(err: unknown): { retryable?: boolean; overloaded?: boolean } | null {
  const e = err as { retryable?: boolean; overloaded?: boolean } | null;
  return typeof e === "object" && e !== null && (e.retryable === true || e.overloaded === true) ? e : null;
}

/** The token's parts when it is a well-formed token of this app whose chain id is authentic; else null. */
function ownToken(env: Env, app: App, refreshToken: string) {
  const parsed = parseRefreshToken(refreshToken);
  // A token of another app is not this app's business, and a forged routing part never reaches (or creates) an object.
  if (!parsed || parsed.appId !== app.id) return null;
  return chainIdAuthentic(routingKey(env.KEY_ENCRYPTION_SECRET), app.id, parsed.userId, parsed.chainId) ? parsed : null;
}

/**
 * Routes to the object from the token alone (no D1 read). Overlap window + reuse detection
 * inside; `scope` (the scopes asked for, none = as granted) is checked there before anything is written.
 */
export async function rotateChain(env: Env, app: App, refreshToken: string, clientId: string, now = Date.now(), scope: string[] = []): Promise<RotateResult> {
  if (!parseRefreshToken(refreshToken)) return { ok: false, reason: "malformed" };
  const parsed = ownToken(env, app, refreshToken);
  if (!parsed) return { ok: false, reason: "unknown" };
  const { userId, chainId } = parsed;
  const settings = rotationSettings(app);
  // Each attempt gets a fresh stub: one that saw a reset object may stay broken.
  const result = await callChains<ObjectRotateResult>(async () => chainsStub(env, app.id, userId).rotate(chainId, parsed.secret, clientId, now, settings, scope), settings.refresh_overlap > 0);
  if (!result.ok) {
    if (result.reason === "reused") {
      await indexEnded(env, app.id, userId, [chainId], now, [
        eventStatement(env, app.id, "refresh_token.reuse_detected", userId, { chain_id: chainId, client_id: clientId }, now),
      ]);
    } else if (result.reason === "expired") {
      await indexEnded(env, app.id, userId, [chainId], now);
    }
    return { ok: false, reason: result.reason };
  }
  return {
    ok: true,
    chainId,
    userId,
    refreshToken: formatRefreshToken(app.id, userId, chainId, result.secret),
    grant: { ...result.grant, claims: JSON.parse(result.grant.claims) as Record<string, unknown> },
    claimsStale: result.claimsStale,
  };
}

/** RFC 7662: what a refresh token is, for the client it was issued to, without rotating it. */
export async function inspectRefreshToken(env: Env, app: App, refreshToken: string, clientId: string, now = Date.now()): Promise<(Inspection & { active: true; userId: string }) | { active: false }> {
  const parsed = ownToken(env, app, refreshToken);
  if (!parsed) return { active: false };
  const found = await chainsStub(env, app.id, parsed.userId).inspect(parsed.chainId, parsed.secret, clientId, now, rotationSettings(app));
  return found.active ? { ...found, userId: parsed.userId } : found;
}

/** After claimsStale: store the rebuilt snapshot so the next refresh is D1-free again. */
export async function updateChainClaims(env: Env, app: App, userId: string, chainId: string, claims: Record<string, unknown>): Promise<void> {
  await chainsStub(env, app.id, userId).updateClaims(chainId, JSON.stringify(claims));
}

/** RFC 7009: ends the token's chain if the token is current/known and belongs to clientId; otherwise no-op. */
export async function revokeRefreshToken(env: Env, app: App, refreshToken: string, clientId: string): Promise<void> {
  const parsed = ownToken(env, app, refreshToken);
  if (!parsed) return;
  const now = Date.now();
  const ended = await chainsStub(env, app.id, parsed.userId).revokeToken(parsed.chainId, parsed.secret, clientId, "revoked", now);
  if (ended) await indexEnded(env, app.id, parsed.userId, [parsed.chainId], now);
}

export async function endChain(env: Env, appId: string, userId: string, chainId: string, reason: string): Promise<void> {
  const now = Date.now();
  await chainsStub(env, appId, userId).revokeChain(chainId, reason, now);
  // Always sweep the index row: it may be left over from a crash after an earlier end.
  await indexEnded(env, appId, userId, [chainId], now);
}

export async function endSessionChains(env: Env, appId: string, userId: string, sessionId: string, reason: string): Promise<void> {
  if (!(await hasLiveIndexRow(env, appId, userId, sessionId))) return;
  const now = Date.now();
  const outcome = await chainsStub(env, appId, userId).endBySession(sessionId, reason, now);
  await indexAfterEndMany(env, appId, userId, outcome, now, sessionId);
}

export async function endUserChains(env: Env, appId: string, userId: string, reason: string, now = Date.now()): Promise<number> {
  if (!(await hasLiveIndexRow(env, appId, userId))) return 0;
  const outcome = await chainsStub(env, appId, userId).revokeAll(reason, now);
  await indexAfterEndMany(env, appId, userId, outcome, now);
  return outcome.ended.length;
}

/** Claims-invalidation hook (management API): every chain of the user rebuilds claims on next refresh. */
export async function invalidateUserClaims(env: Env, appId: string, userId: string): Promise<void> {
  if (!(await hasLiveIndexRow(env, appId, userId))) return;
  await chainsStub(env, appId, userId).invalidateClaims();
}

/** Live chains, oldest first, as the object knows them (the index only says whether to ask). */
export async function listUserChains(env: Env, appId: string, userId: string): Promise<ChainSummary[]> {
  if (!(await hasLiveIndexRow(env, appId, userId))) return [];
  return chainsStub(env, appId, userId).list(Date.now());
}
