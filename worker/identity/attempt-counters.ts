/**
 * AttemptCounters: the credential-guessing counters (rules in ./attempt-rules.ts), one
 * Durable Object per shard of keys, so a flood of failed sign-ins costs no D1 write. The
 * object serialises its keys' attempts: the decision is made on its memory without an await
 * between read and write, so parallel guesses are counted one by one.
 *
 * Memory first, storage behind: an attempt changes the counters in memory and answers; an
 * alarm writes the changed ones to storage within a second, in one commit per object, and
 * then sweeps a page of windows that have ended. A durable commit per attempt would cost
 * every attempt its latency (the bench shows it locally); what an eviction or crash can lose
 * is the last second's counts, a bounded gift to a guesser, never a lock of its own.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { ATTEMPT_LIMITS, current, decide, giveBack, KNOWN_ADDRESS_MS, stillKnown, type Counter } from "./attempt-rules";

export type CounterKind = keyof typeof ATTEMPT_LIMITS;

export interface CounterKey {
  key: string;
  kind: CounterKind;
  /** A known-address record that, while it stands, waives this counter (neither checked nor counted). */
  waivedBy?: string;
}

interface Stored extends Counter {
  /** The window's length, so the sweep needs no rule. */
  windowMs: number;
}

/** How soon changed counters reach storage. */
const FLUSH_MS = 1000;
/** Counters the sweep reads per alarm; more wait for the next one. */
const SWEEP_PAGE = 1000;
/** Where the sweep goes on when a page was full (a storage key no counter key can equal). */
const SWEEP_CURSOR = "\u0000sweep-cursor";
/** Beyond this many counters in memory, those already in storage are dropped from memory. */
const MEMORY_CAP = 50_000;

export class AttemptCounters extends DurableObject<Env> {
  /** Counters read or changed since the object started; null: known to be absent. */
  private readonly memory = new Map<string, Stored | null>();
  /** Keys whose memory differs from storage. */
  private readonly dirty = new Set<string>();
  private alarmSoon = false;

  /** Counts one attempt against every key not waived, or refuses it (counting nothing). */
  async attempt(keys: CounterKey[], now: number): Promise<{ wait: number; counts: number[] }> {
    await this.load(keys.flatMap((k) => (k.waivedBy ? [k.key, k.waivedBy] : [k.key])));
    const applied = keys.filter((k) => !k.waivedBy || !stillKnown(this.memory.get(k.waivedBy), now));
    const decision = decide(applied.map(({ key, kind }) => ({ counter: this.memory.get(key), rule: ATTEMPT_LIMITS[kind] })), now);
    if (decision.wait === 0) applied.forEach(({ key, kind }, i) => this.set(key, { ...decision.next[i]!, windowMs: ATTEMPT_LIMITS[kind].windowMs }));
    await this.flushSoon();
    const counts = keys.map((k) => {
      const i = applied.indexOf(k);
      return i >= 0 ? decision.next[i]!.count : current(this.memory.get(k.key), ATTEMPT_LIMITS[k.kind], now).count;
    });
    // Refused attempts load keys without dirtying any, so no flush would ever trim them.
    this.trim();
    return { wait: decision.wait, counts };
  }

  /**
   * A success: the `clear` keys start afresh, the `giveBack` keys get the attempt back, and
   * the `remember` keys record a known address for KNOWN_ADDRESS_MS.
   */
  async forgive(clear: string[], back: CounterKey[], now: number, remember: string[] = []): Promise<void> {
    await this.load(back.map((k) => k.key));
    for (const key of clear) this.set(key, null);
    for (const key of remember) this.set(key, { start: now, count: 1, windowMs: KNOWN_ADDRESS_MS });
    for (const { key, kind } of back) {
      const counter = this.memory.get(key);
      if (counter) this.set(key, { ...giveBack(counter, ATTEMPT_LIMITS[kind], now), windowMs: counter.windowMs });
    }
    await this.flushSoon();
  }

  /** Clears every counter whose key starts with `prefix` (an account's lockout), at once. */
  async clear(prefix: string): Promise<void> {
    const keys = new Set([...(await this.ctx.storage.list({ prefix })).keys()]);
    for (const key of this.memory.keys()) if (key.startsWith(prefix)) keys.add(key);
    for (const key of keys) this.set(key, null);
    await this.flush();
  }

  override async alarm(): Promise<void> {
    this.alarmSoon = false;
    await this.flush();
    const now = Date.now();
    const cursor = await this.ctx.storage.get<string>(SWEEP_CURSOR);
    const page = await this.ctx.storage.list<Stored>({ limit: SWEEP_PAGE, ...(cursor ? { startAfter: cursor } : {}) });
    const ended = [...page].filter(([key, c]) => key !== SWEEP_CURSOR && c.start + c.windowMs <= now && !this.dirty.has(key)).map(([key]) => key);
    for (let i = 0; i < ended.length; i += 128) await this.ctx.storage.delete(ended.slice(i, i + 128));
    for (const key of ended) this.memory.delete(key);
    if (page.size === SWEEP_PAGE) await this.ctx.storage.put(SWEEP_CURSOR, [...page.keys()].pop()!);
    else await this.ctx.storage.delete(SWEEP_CURSOR);
    if (this.dirty.size || page.size === SWEEP_PAGE) await this.schedule(now + FLUSH_MS);
    else if ((await this.ctx.storage.list({ limit: 1 })).size > 0) await this.ctx.storage.setAlarm(now + ATTEMPT_LIMITS.pair.windowMs);
  }

  private async load(keys: string[]): Promise<void> {
    const missing = keys.filter((k) => !this.memory.has(k));
    if (!missing.length) return;
    const stored = await this.ctx.storage.get<Stored>(missing);
    // Another call may have loaded (and changed) a key while this one waited: memory wins.
    for (const key of missing) if (!this.memory.has(key)) this.memory.set(key, stored.get(key) ?? null);
  }

  private set(key: string, value: Stored | null): void {
    this.memory.set(key, value);
    this.dirty.add(key);
  }

  /** Writes every changed counter in one commit. */
  private async flush(): Promise<void> {
    if (!this.dirty.size) return;
    const puts: Record<string, Stored> = {};
    const deletes: string[] = [];
    for (const key of this.dirty) {
      const value = this.memory.get(key);
      if (value) puts[key] = value;
      else deletes.push(key);
    }
    const keys = Object.keys(puts);
    // A key leaves `dirty` only once written (a failed write is retried by the next alarm),
    // and only if no attempt changed it again while the write was awaited.
    const written = (batch: string[], values: Record<string, Stored | null>) => {
      for (const key of batch) if (this.memory.get(key) === values[key]) this.dirty.delete(key);
    };
    for (let i = 0; i < keys.length; i += 128) {
      const batch = keys.slice(i, i + 128);
      await this.ctx.storage.put(Object.fromEntries(batch.map((k) => [k, puts[k]!])));
      written(batch, puts);
    }
    for (let i = 0; i < deletes.length; i += 128) {
      const batch = deletes.slice(i, i + 128);
      await this.ctx.storage.delete(batch);
      written(batch, Object.fromEntries(batch.map((k) => [k, null])));
    }
    this.trim();
  }

  /** Past MEMORY_CAP, forgets the oldest counters that storage already holds (or knows absent). */
  private trim(): void {
    if (this.memory.size <= MEMORY_CAP) return;
    for (const key of this.memory.keys()) if (!this.dirty.has(key) && this.memory.size > MEMORY_CAP / 2) this.memory.delete(key);
  }

  private async flushSoon(): Promise<void> {
    if (this.dirty.size && !this.alarmSoon) await this.schedule(Date.now() + FLUSH_MS);
  }

  private async schedule(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
    this.alarmSoon = true;
  }
}
