/**
 * Refresh chains, as the rest of the worker sees them (SPEC §5). The user's RefreshChains
 * object is the truth; the D1 `chains` table is an index for listing and for finding whom
 * to end without waking objects.
 *
 * How the index stays consistent: it is kept a SUPERSET of the live chains.
 * - Starting writes the D1 row FIRST, then the object. A crash in between leaves an index
 *   row for a chain that never existed: listing-only noise that ends at its expires_at,
 *   and ending it is a no-op. The reverse order could leave a live chain that the index
 *   does not know, which a password change (that asks the index first) would miss.
 * - Ending writes the object FIRST, then sets ended_at in D1. A crash in between leaves
 *   the index showing a chain the object already refuses; the next end-all sweeps it.
 * - Idle/absolute expiry is decided by the object alone; the index's expires_at is the
 *   absolute end, so an idle-expired chain may look live there until then (or until an
 *   end sweeps it). Security never depends on the index, only on the object.
 * The refresh path (rotateChain) reads and writes no D1 at all; only its failure paths
 * that end a chain (reuse, expiry) write the event and ended_at afterwards.
 */
import type { Env } from "../env";
import { eventStatement } from "../events/log";
import type { App } from "../tenancy/apps";
import { randomId } from "../util/crypto";
import { formatRefreshToken, parseRefreshToken } from "./token";

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
  | { ok: false; reason: "malformed" | "unknown" | "expired" | "revoked" | "reused" | "client_mismatch" };
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

export async function startChain(env: Env, app: App, userId: string, grant: ChainGrant, now = Date.now()): Promise<StartedChain> {
  const chainId = randomId(24, "0123456789abcdef");
  // Index first (see the header): the index may list a chain that does not exist, never miss one that does.
  await env.DB.prepare("INSERT INTO chains (id, app_id, user_id, client_id, session_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(chainId, app.id, userId, grant.clientId, grant.sessionId, now, now + app.settings.refresh_absolute_ttl * 1000)
    .run();
  const started = await chainsStub(env, app.id, userId).start(chainId, { ...grant, claims: JSON.stringify(grant.claims) }, now, {
    ...rotationSettings(app),
    max_chains_per_user: app.settings.max_chains_per_user,
  });
  await indexEnded(env, app.id, userId, started.ended, now);
  return { chainId, refreshToken: formatRefreshToken(app.id, userId, chainId, started.secret) };
}

/** Routes to the object from the token alone (no D1 read). Overlap window + reuse detection inside. */
export async function rotateChain(env: Env, app: App, refreshToken: string, clientId: string, now = Date.now()): Promise<RotateResult> {
  const parsed = parseRefreshToken(refreshToken);
  if (!parsed) return { ok: false, reason: "malformed" };
  // A token of another app is not this app's business: it is unknown here, and its chain is untouched.
  if (parsed.appId !== app.id) return { ok: false, reason: "unknown" };
  const { userId, chainId } = parsed;
  const result = await chainsStub(env, app.id, userId).rotate(chainId, parsed.secret, clientId, now, rotationSettings(app));
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

/** After claimsStale: store the rebuilt snapshot so the next refresh is D1-free again. */
export async function updateChainClaims(env: Env, app: App, userId: string, chainId: string, claims: Record<string, unknown>): Promise<void> {
  await chainsStub(env, app.id, userId).updateClaims(chainId, JSON.stringify(claims));
}

/** RFC 7009: ends the token's chain if the token is current/known and belongs to clientId; otherwise no-op. */
export async function revokeRefreshToken(env: Env, app: App, refreshToken: string, clientId: string): Promise<void> {
  const parsed = parseRefreshToken(refreshToken);
  if (!parsed || parsed.appId !== app.id) return;
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
  // The index is a superset of live chains, so no live row means no live chain: skip the object.
  const live = await env.DB.prepare("SELECT 1 AS x FROM chains WHERE app_id = ? AND user_id = ? AND session_id = ? AND ended_at IS NULL LIMIT 1")
    .bind(appId, userId, sessionId)
    .first<number>("x");
  if (!live) return;
  const now = Date.now();
  await chainsStub(env, appId, userId).endBySession(sessionId, reason, now);
  await env.DB.prepare("UPDATE chains SET ended_at = ? WHERE app_id = ? AND user_id = ? AND session_id = ? AND ended_at IS NULL")
    .bind(now, appId, userId, sessionId)
    .run();
}

export async function endUserChains(env: Env, appId: string, userId: string, reason: string, now = Date.now()): Promise<number> {
  const live = await env.DB.prepare("SELECT count(*) AS n FROM chains WHERE app_id = ? AND user_id = ? AND ended_at IS NULL")
    .bind(appId, userId)
    .first<number>("n");
  if (!live) return 0;
  const ended = await chainsStub(env, appId, userId).revokeAll(reason, now);
  await env.DB.prepare("UPDATE chains SET ended_at = ? WHERE app_id = ? AND user_id = ? AND ended_at IS NULL").bind(now, appId, userId).run();
  return ended.length;
}

/** Claims-invalidation hook (management API): every chain of the user rebuilds claims on next refresh. */
export async function invalidateUserClaims(env: Env, appId: string, userId: string): Promise<void> {
  const live = await env.DB.prepare("SELECT 1 AS x FROM chains WHERE app_id = ? AND user_id = ? AND ended_at IS NULL LIMIT 1")
    .bind(appId, userId)
    .first<number>("x");
  if (!live) return;
  await chainsStub(env, appId, userId).invalidateClaims();
}

export async function listUserChains(env: Env, appId: string, userId: string): Promise<ChainSummary[]> {
  return chainsStub(env, appId, userId).list(Date.now());
}
