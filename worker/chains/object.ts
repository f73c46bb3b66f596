/**
 * RefreshChains: the Durable Object that owns one user's refresh chains in one app
 * (named `{appId}:{userId}`), so every rotation of that user's tokens is serialised.
 * State lives in the object's SQLite storage, never only in memory, so eviction or a
 * restart loses nothing.
 *
 * Every RPC method here is synchronous from its first read to its last write: hashing is
 * done with @noble/hashes rather than crypto.subtle so no await opens a gap in which a
 * second request for the same token could interleave. That is what makes 50 simultaneous
 * refreshes of one token produce exactly one successor.
 *
 * Overlap window: a retry with the previous token must get the SAME successor, so the
 * successor's secret has to be recoverable for `refresh_overlap` seconds. We store it
 * XOR-ed with a 256-bit pad derived from the previous token's secret (HMAC-SHA256 keyed
 * with that secret). The previous secret itself is never stored (only its SHA-256, a
 * different function), so storage alone cannot yield a usable token: only the holder of
 * the previous token can unwrap its successor, and each pad is used exactly once because
 * each secret has exactly one successor. The wrapped value is erased as soon as the object
 * touches the chain after the window (and on every start/list sweep); until then it is
 * useless even to the previous token's holder, since the rules refuse the previous token
 * once the window has closed.
 */
import { DurableObject } from "cloudflare:workers";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Env } from "../env";
import { base64url, fromBase64url, hex, randomBytes } from "../util/crypto";
import { decideRotation, expiryOf, overlapOpen, type ChainState, type RotationSettings } from "./rules";

/** A chain's grant as it crosses RPC: the claims snapshot stays the JSON text it is stored as. */
export interface StoredGrant {
  clientId: string;
  sessionId: string | null;
  scope: string;
  authTime: number;
  authMethod: string;
  claims: string;
}

export type ObjectRotateResult =
  | { ok: true; secret: string; grant: StoredGrant; claimsStale: boolean }
  | { ok: false; reason: "unknown" | "expired" | "revoked" | "reused" | "client_mismatch" | "invalid_scope" };

/** What introspection may learn of a token (RFC 7662): only a usable token is active. */
export type Inspection = { active: false } | { active: true; clientId: string; scope: string; issuedAt: number | null; expiresAt: number };

export interface ObjectChainSummary {
  id: string;
  clientId: string;
  sessionId: string | null;
  createdAt: number;
  expiresAt: number;
}

/** What an end-many call did: the ids it ended; the ids still live and all ids it holds afterwards. */
export interface EndOutcome {
  ended: string[];
  live: string[];
  known: string[];
}

export type StartSettings = RotationSettings & { max_chains_per_user: number };

interface ChainRow extends Record<string, SqlStorageValue> {
  id: string;
  client_id: string;
  session_id: string | null;
  scope: string;
  auth_time: number;
  auth_method: string;
  claims: string;
  claims_epoch: number;
  claims_fresh: number;
  claims_seen: number;
  generation: number;
  current_hash: string;
  previous_hash: string | null;
  successor_wrap: string | null;
  created_at: number;
  last_used_at: number;
  rotated_at: number | null;
  expires_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

/** Ended chains (and their token history, which tells "revoked" from "unknown") are kept this long. */
const KEEP_ENDED_MS = 30 * 24 * 3600 * 1000;
const PAD_LABEL = new TextEncoder().encode("latch refresh overlap successor v1");

function hashSecret(secret: Uint8Array): string {
  return hex(sha256(secret));
}

function xor32(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

function pad(previousSecret: Uint8Array, chainId: string, generation: number): Uint8Array {
  const context = new TextEncoder().encode(`${chainId}:${generation}`);
  const message = new Uint8Array(PAD_LABEL.length + context.length);
  message.set(PAD_LABEL);
  message.set(context, PAD_LABEL.length);
  return hmac(sha256, previousSecret, message);
}

function grantOf(row: ChainRow): StoredGrant {
  return {
    clientId: row.client_id,
    sessionId: row.session_id,
    scope: row.scope,
    authTime: row.auth_time,
    authMethod: row.auth_method,
    claims: row.claims,
  };
}

function stateOf(row: ChainRow): ChainState {
  return {
    clientId: row.client_id,
    currentHash: row.current_hash,
    previousHash: row.previous_hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    rotatedAt: row.rotated_at,
    successorRecoverable: row.successor_wrap !== null,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    scope: row.scope,
  };
}

export class RefreshChains extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS chain (
         id TEXT PRIMARY KEY,
         client_id TEXT NOT NULL,
         session_id TEXT,
         scope TEXT NOT NULL,
         auth_time INTEGER NOT NULL,
         auth_method TEXT NOT NULL,
         claims TEXT NOT NULL,
         claims_epoch INTEGER NOT NULL DEFAULT 0,
         claims_fresh INTEGER NOT NULL DEFAULT 0,
         claims_seen INTEGER NOT NULL DEFAULT 0,
         generation INTEGER NOT NULL,
         current_hash TEXT NOT NULL,
         previous_hash TEXT,
         successor_wrap TEXT,
         created_at INTEGER NOT NULL,
         last_used_at INTEGER NOT NULL,
         rotated_at INTEGER,
         expires_at INTEGER NOT NULL,
         ended_at INTEGER,
         end_reason TEXT
       );
       CREATE INDEX IF NOT EXISTS chain_session ON chain (session_id);
       CREATE INDEX IF NOT EXISTS chain_created ON chain (created_at);
       CREATE TABLE IF NOT EXISTS older_token (
         hash TEXT PRIMARY KEY,
         chain_id TEXT NOT NULL
       );
       CREATE INDEX IF NOT EXISTS older_token_chain ON older_token (chain_id);`,
    );
  }

  private row(chainId: string): ChainRow | null {
    return this.sql.exec<ChainRow>("SELECT * FROM chain WHERE id = ?", chainId).toArray()[0] ?? null;
  }

  /**
   * Claims freshness is tracked with epochs rather than a flag so that an invalidation
   * landing while the caller rebuilds claims is not lost: invalidation bumps claims_epoch;
   * a refresh that reports staleness records the epoch it saw (claims_seen); a rebuilt
   * snapshot is fresh only up to that epoch. Anything invalidated after the report stays stale.
   */
  private reportStale(row: ChainRow): boolean {
    if (row.claims_fresh >= row.claims_epoch) return false;
    if (row.claims_seen !== row.claims_epoch) this.sql.exec("UPDATE chain SET claims_seen = claims_epoch WHERE id = ?", row.id);
    return true;
  }

  private end(chainId: string, reason: string, now: number): void {
    this.sql.exec("UPDATE chain SET ended_at = ?, end_reason = ?, successor_wrap = NULL WHERE id = ? AND ended_at IS NULL", now, reason, chainId);
  }

  /**
   * Marks chains past their lifetime as ended, erases successor wraps whose window has
   * closed and forgets chains ended long ago. Returns the ids it ended.
   */
  private sweep(now: number, settings: RotationSettings): string[] {
    const live = this.sql.exec<ChainRow>("SELECT * FROM chain WHERE ended_at IS NULL").toArray();
    const ended: string[] = [];
    for (const row of live) {
      const expiry = expiryOf(stateOf(row), settings);
      if (now >= Math.min(expiry.idle, expiry.absolute)) {
        this.end(row.id, "expired", now);
        ended.push(row.id);
      } else if (row.successor_wrap !== null && !overlapOpen(stateOf(row), now, settings)) {
        this.sql.exec("UPDATE chain SET successor_wrap = NULL WHERE id = ?", row.id);
      }
    }
    const cutoff = now - KEEP_ENDED_MS;
    this.sql.exec("DELETE FROM older_token WHERE chain_id IN (SELECT id FROM chain WHERE ended_at < ?)", cutoff);
    this.sql.exec("DELETE FROM chain WHERE ended_at < ?", cutoff);
    return ended;
  }

  /**
   * Starts a chain; returns its first secret and the chains it ended (expired ones, and the
   * oldest live ones when the user is at max_chains_per_user).
   */
  start(chainId: string, grant: StoredGrant, now: number, settings: StartSettings): { secret: string | null; ended: string[] } {
    return this.ctx.storage.transactionSync(() => {
      // An id this object already holds was ended before it could start (see revokeChain).
      if (this.row(chainId)) return { secret: null, ended: [] };
      const ended = this.sweep(now, settings);
      const live = this.sql.exec<{ id: string }>("SELECT id FROM chain WHERE ended_at IS NULL ORDER BY created_at ASC, rowid ASC").toArray();
      const excess = live.length - Math.max(settings.max_chains_per_user, 1) + 1;
      for (const { id } of live.slice(0, Math.max(excess, 0))) {
        this.end(id, "chain_limit", now);
        ended.push(id);
      }
      const secret = randomBytes(32);
      const expiry = expiryOf({ createdAt: now, lastUsedAt: now }, settings);
      this.sql.exec(
        `INSERT INTO chain (id, client_id, session_id, scope, auth_time, auth_method, claims, generation,
                            current_hash, previous_hash, successor_wrap, created_at, last_used_at, rotated_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, NULL, NULL, ?, ?, NULL, ?)`,
        chainId,
        grant.clientId,
        grant.sessionId,
        grant.scope,
        grant.authTime,
        grant.authMethod,
        grant.claims,
        hashSecret(secret),
        now,
        now,
        Math.min(expiry.idle, expiry.absolute),
      );
      return { secret: base64url(secret), ended };
    });
  }

  private isOlder(chainId: string): (hash: string) => boolean {
    return (h) => this.sql.exec("SELECT 1 FROM older_token WHERE hash = ? AND chain_id = ?", h, chainId).toArray().length > 0;
  }

  /**
   * One refresh: rotate, replay the successor inside the window, or detect reuse.
   * `scope` is what the request asks for; a widening is refused before anything is written.
   */
  rotate(chainId: string, secret: string, clientId: string, now: number, settings: RotationSettings, scope: string[] = []): ObjectRotateResult {
    return this.ctx.storage.transactionSync((): ObjectRotateResult => {
      const row = this.row(chainId);
      if (!row) return { ok: false, reason: "unknown" };
      const presented = fromBase64url(secret);
      const hash = hashSecret(presented);
      const outcome = decideRotation(stateOf(row), { hash, clientId, isOlder: this.isOlder(chainId), scope }, now, settings);
      switch (outcome.action) {
        case "refuse":
          return { ok: false, reason: outcome.reason };
        case "expired":
          this.end(chainId, "expired", now);
          return { ok: false, reason: "expired" };
        case "reuse":
          this.end(chainId, "reused", now);
          return { ok: false, reason: "reused" };
        case "overlap": {
          const successor = xor32(fromBase64url(row.successor_wrap as string), pad(presented, chainId, row.generation));
          // The wrap is only ever written beside its hash; a mismatch means corruption, not a retry.
          if (hashSecret(successor) !== row.current_hash) {
            this.end(chainId, "reused", now);
            return { ok: false, reason: "reused" };
          }
          return { ok: true, secret: base64url(successor), grant: grantOf(row), claimsStale: this.reportStale(row) };
        }
        case "rotate": {
          const next = randomBytes(32);
          const generation = row.generation + 1;
          const wrap = settings.refresh_overlap > 0 ? base64url(xor32(next, pad(presented, chainId, generation))) : null;
          if (row.previous_hash !== null) this.sql.exec("INSERT OR IGNORE INTO older_token (hash, chain_id) VALUES (?, ?)", row.previous_hash, chainId);
          const expiry = expiryOf({ createdAt: row.created_at, lastUsedAt: now }, settings);
          this.sql.exec(
            `UPDATE chain SET generation = ?, previous_hash = current_hash, current_hash = ?, successor_wrap = ?,
                              last_used_at = ?, rotated_at = ?, expires_at = ? WHERE id = ?`,
            generation,
            hashSecret(next),
            wrap,
            now,
            now,
            Math.min(expiry.idle, expiry.absolute),
            chainId,
          );
          return { ok: true, secret: base64url(next), grant: grantOf(row), claimsStale: this.reportStale(row) };
        }
      }
    });
  }

  /**
   * RFC 7662, read-only: whether a refresh by `clientId` with this token would succeed now,
   * decided by the same rules as rotate but writing nothing (no rotation, no reuse
   * detection: asking about an old token must not end the chain). The previous token
   * inside the overlap window is active until the window closes.
   */
  inspect(chainId: string, secret: string, clientId: string, now: number, settings: RotationSettings): Inspection {
    const row = this.row(chainId);
    if (!row) return { active: false };
    const outcome = decideRotation(stateOf(row), { hash: hashSecret(fromBase64url(secret)), clientId, isOlder: this.isOlder(chainId) }, now, settings);
    if (outcome.action !== "rotate" && outcome.action !== "overlap") return { active: false };
    const expiry = expiryOf(stateOf(row), settings);
    let expiresAt = Math.min(expiry.idle, expiry.absolute);
    let issuedAt: number | null = row.rotated_at ?? row.created_at;
    if (outcome.action === "overlap") {
      // The previous token stops working when the window closes; when it was issued is not kept.
      expiresAt = Math.min(expiresAt, (row.rotated_at as number) + settings.refresh_overlap * 1000);
      issuedAt = null;
    }
    return { active: true, clientId: row.client_id, scope: row.scope, issuedAt, expiresAt };
  }

  /** RFC 7009: ends the chain when the token is one it issued and the client owns it. */
  revokeToken(chainId: string, secret: string, clientId: string, reason: string, now: number): boolean {
    return this.ctx.storage.transactionSync(() => {
      const row = this.row(chainId);
      if (!row || row.ended_at !== null || row.client_id !== clientId) return false;
      const hash = hashSecret(fromBase64url(secret));
      const known =
        hash === row.current_hash ||
        hash === row.previous_hash ||
        this.sql.exec("SELECT 1 FROM older_token WHERE hash = ? AND chain_id = ?", hash, chainId).toArray().length > 0;
      if (!known) return false;
      this.end(chainId, reason, now);
      return true;
    });
  }

  /**
   * Ends one chain by id; true when it was live. An id the object does not hold yet is
   * recorded as ended (a tombstone), so a start still on its way with that id is refused:
   * a replayed code whose exchange recorded its chain id before the chain started (see the
   * authorization_code grant) must not leave that chain live.
   */
  revokeChain(chainId: string, reason: string, now: number): boolean {
    const before = this.row(chainId);
    if (!before) {
      this.sql.exec(
        `INSERT INTO chain (id, client_id, session_id, scope, auth_time, auth_method, claims, generation, current_hash,
                            created_at, last_used_at, expires_at, ended_at, end_reason)
         VALUES (?, '', NULL, '', 0, '', '{}', 0, '', ?, ?, ?, ?, ?)`,
        chainId,
        now,
        now,
        now,
        now,
        reason,
      );
      return false;
    }
    if (before.ended_at !== null) return false;
    this.end(chainId, reason, now);
    return true;
  }

  /** Which chains this object holds, and which of them are still live (for the index, see api.ts). */
  private holdings(): { live: string[]; known: string[] } {
    const rows = this.sql.exec<{ id: string; ended_at: number | null }>("SELECT id, ended_at FROM chain").toArray();
    return { live: rows.filter((r) => r.ended_at === null).map((r) => r.id), known: rows.map((r) => r.id) };
  }

  /** Ends every live chain of the user. */
  revokeAll(reason: string, now = Date.now()): EndOutcome {
    const ended = this.sql
      .exec<{ id: string }>("UPDATE chain SET ended_at = ?, end_reason = ?, successor_wrap = NULL WHERE ended_at IS NULL RETURNING id", now, reason)
      .toArray()
      .map((r) => r.id);
    return { ended, ...this.holdings() };
  }

  /** Ends the chains a session began (logout). */
  endBySession(sessionId: string, reason: string, now: number): EndOutcome {
    const ended = this.sql
      .exec<{ id: string }>(
        "UPDATE chain SET ended_at = ?, end_reason = ?, successor_wrap = NULL WHERE session_id = ? AND ended_at IS NULL RETURNING id",
        now,
        reason,
        sessionId,
      )
      .toArray()
      .map((r) => r.id);
    return { ended, ...this.holdings() };
  }

  /** Live chains, oldest first. `expiresAt` is the sooner of the idle and absolute ends as of the last write. */
  list(now: number): ObjectChainSummary[] {
    return this.sql
      .exec<Pick<ChainRow, "id" | "client_id" | "session_id" | "created_at" | "expires_at">>(
        "SELECT id, client_id, session_id, created_at, expires_at FROM chain WHERE ended_at IS NULL AND expires_at > ? ORDER BY created_at ASC, rowid ASC",
        now,
      )
      .toArray()
      .map((r) => ({ id: r.id, clientId: r.client_id, sessionId: r.session_id, createdAt: r.created_at, expiresAt: r.expires_at }));
  }

  /** Every live chain must rebuild its claims on its next refresh. Returns how many were marked. */
  invalidateClaims(): number {
    return this.sql.exec("UPDATE chain SET claims_epoch = claims_epoch + 1 WHERE ended_at IS NULL").rowsWritten;
  }

  /** Stores a rebuilt claims snapshot; the chain's refreshes are D1-free again. */
  updateClaims(chainId: string, claims: string): boolean {
    return this.sql.exec("UPDATE chain SET claims = ?, claims_fresh = claims_seen WHERE id = ? AND ended_at IS NULL", claims, chainId).rowsWritten > 0;
  }
}
