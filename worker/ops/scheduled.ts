/**
 * The cron's work (wrangler.toml `triggers`, every 10 minutes; README "Scheduled work"):
 * key rotation first, so a key retired now is kept by this run's purge, then the retention
 * purge. `now` is the event's scheduledTime, so tests drive both with their own clock.
 */
import type { Env } from "../env";
import { rotateDueKeys, type RotationRun } from "../keys/rotation";
import { purge, type PurgeRun } from "./purge";

export interface ScheduledRun {
  rotation: RotationRun;
  purge: PurgeRun;
}

export async function runScheduled(env: Env, now: number): Promise<ScheduledRun> {
  const rotation = await rotateDueKeys(env, now).catch((err: unknown): RotationRun => ({ rotated: [], failed: [{ appId: "*", error: String(err) }] }));
  const purged = await purge(env, now);
  const run = { rotation, purge: purged };
  // One line per run for the Workers logs: counts and failures, never row contents.
  console.log(JSON.stringify({ scheduled: new Date(now).toISOString(), rotated: rotation.rotated.length, deleted: purged.deleted }));
  const failures = [...rotation.failed.map((f) => `rotation ${f.appId}: ${f.error}`), ...purged.failed.map((f) => `purge ${f.rule}: ${f.error}`)];
  // Failing the invocation makes it visible in the dashboard's cron history; the next run retries.
  if (failures.length) throw new Error(`scheduled work: ${failures.join("; ")}`);
  return run;
}
