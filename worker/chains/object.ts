/**
 * RefreshChains: the Durable Object that owns one user's refresh chains in one app
 * (named `{appId}:{userId}`), so every rotation of that user's tokens is serialised.
 * State lives in the object's SQLite storage, never only in memory.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export class RefreshChains extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS chains (
         id TEXT PRIMARY KEY,
         ended_at INTEGER,
         end_reason TEXT
       )`,
    );
  }

  /** Ends every live chain of the user; returns the ids it ended. */
  async revokeAll(reason: string, now = Date.now()): Promise<string[]> {
    const ended = this.ctx.storage.sql
      .exec<{ id: string }>("UPDATE chains SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL RETURNING id", now, reason)
      .toArray();
    return ended.map((r) => r.id);
  }
}
