/**
 * A per-isolate limit on failed refreshes per (app, client address). Refresh tokens carry
 * 256 random bits, so this is not what stops guessing; it keeps a misbehaving client (a
 * retry loop on a dead cookie) from costing a Durable Object round trip per attempt.
 * Successes are never counted and never slowed.
 */
export const REFRESH_FAILURES = { max: 30, windowMs: 60_000 } as const;

export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly rule: { max: number; windowMs: number } = REFRESH_FAILURES) {}

  /** Seconds until `key` may try again; 0 when it may try now. */
  retryAfter(key: string, now = Date.now()): number {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.rule.windowMs || w.count < this.rule.max) return 0;
    return Math.ceil((w.start + this.rule.windowMs - now) / 1000);
  }

  fail(key: string, now = Date.now()): void {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.rule.windowMs) {
      // Bound memory: an isolate that sees many addresses forgets the oldest windows.
      if (this.windows.size >= 10_000) this.windows.delete(this.windows.keys().next().value as string);
      this.windows.set(key, { start: now, count: 1 });
    } else w.count += 1;
  }

  reset(): void {
    this.windows.clear();
  }
}

export const failureLimiter = new FailureLimiter();
