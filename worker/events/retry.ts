/**
 * Webhook retry schedule (pure). Attempt n (1-based) that fails waits `schedule[n-1]`
 * seconds before attempt n+1; when the schedule is used up the delivery is dead.
 * The default spans about a day, so a receiver that is down overnight still gets its events.
 */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [10, 60, 300, 1800, 7200, 21600, 43200];

/** Parses `WEBHOOK_RETRY_SCHEDULE` ("10,60,300" seconds); falls back to the default. */
export function retrySchedule(value: string | undefined): readonly number[] {
  if (!value) return DEFAULT_RETRY_SCHEDULE;
  const parts = value.split(",").map((p) => Number(p.trim()));
  if (parts.length === 0 || parts.length > 20 || parts.some((n) => !Number.isFinite(n) || n < 0 || n > 7 * 86400)) return DEFAULT_RETRY_SCHEDULE;
  return parts;
}

/** After `attempts` failed attempts: when to try next (ms), or null when the delivery is dead. */
export function nextAttemptAt(attempts: number, now: number, schedule: readonly number[]): number | null {
  if (attempts < 1 || attempts > schedule.length) return null;
  return now + Math.round(schedule[attempts - 1]! * 1000);
}
