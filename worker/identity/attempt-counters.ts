/**
 * AttemptCounters: the credential-guessing counters (rules in ./attempt-rules.ts), one
 * Durable Object per shard of keys, so a flood of failed sign-ins costs no D1 write. The
 * object serialises its keys' attempts: read, decide and write happen without an await
 * between them, so parallel guesses are counted one by one. Counters live in the object's
 * own SQLite storage (they survive eviction, unlike memory), and an alarm sweeps the
 * windows that have ended.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { ATTEMPT_LIMITS, decide, giveBack, type Counter } from "./attempt-rules";

export type CounterKind = keyof typeof ATTEMPT_LIMITS;

export interface CounterKey {
  key: string;
  kind: CounterKind;
}

export class AttemptCounters extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** An alarm is known to be pending: attempts need not ask storage again. */
  private sweepSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, start INTEGER NOT NULL, count INTEGER NOT NULL, window_ms INTEGER NOT NULL)");
  }

  /** Counts one attempt against every key, or refuses it (counting nothing). */
  async attempt(keys: CounterKey[], now: number): Promise<{ wait: number; counts: number[] }> {
    const decision = decide(keys.map(({ key, kind }) => ({ counter: this.read(key), rule: ATTEMPT_LIMITS[kind] })), now);
    if (decision.wait === 0) keys.forEach(({ key, kind }, i) => this.write(key, kind, decision.next[i]!));
    await this.sweepLater();
    return { wait: decision.wait, counts: decision.next.map((c) => c.count) };
  }

  /** A success: the `clear` keys start afresh, the `giveBack` keys get the attempt back. */
  async forgive(clear: string[], back: CounterKey[], now: number): Promise<void> {
    for (const key of clear) this.sql.exec("DELETE FROM counters WHERE key = ?", key);
    for (const { key, kind } of back) {
      const counter = this.read(key);
      if (counter) this.write(key, kind, giveBack(counter, ATTEMPT_LIMITS[kind], now));
    }
  }

  /** Clears every counter whose key starts with `prefix` (an account's lockout). */
  async clear(prefix: string): Promise<void> {
    this.sql.exec("DELETE FROM counters WHERE substr(key, 1, ?) = ?", prefix.length, prefix);
  }

  override async alarm(): Promise<void> {
    this.sweepSet = false;
    this.sql.exec("DELETE FROM counters WHERE start + window_ms <= ?", Date.now());
    await this.sweepLater();
  }

  private read(key: string): Counter | null {
    const row = this.sql.exec<{ start: number; count: number }>("SELECT start, count FROM counters WHERE key = ?", key).toArray()[0];
    return row ? { start: row.start, count: row.count } : null;
  }

  private write(key: string, kind: CounterKind, counter: Counter): void {
    this.sql.exec(
      "INSERT INTO counters (key, start, count, window_ms) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET start = ?2, count = ?3",
      key,
      counter.start,
      counter.count,
      ATTEMPT_LIMITS[kind].windowMs,
    );
  }

  /** One pending sweep a window from now, while any counter is left. */
  private async sweepLater(): Promise<void> {
    if (this.sweepSet) return;
    if ((await this.ctx.storage.getAlarm()) === null) {
      const left = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM counters").one().n;
      if (left === 0) return;
      await this.ctx.storage.setAlarm(Date.now() + ATTEMPT_LIMITS.pair.windowMs);
    }
    this.sweepSet = true;
  }
}
