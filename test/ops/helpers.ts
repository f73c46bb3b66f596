/** Runs the Worker's exported cron handler at a chosen time (the injected clock of scheduled work). */
import { createScheduledController, env } from "cloudflare:test";
import worker from "../../worker/index";

export const DAY = 24 * 3600_000;

export async function runCron(scheduledTime: number): Promise<void> {
  await worker.scheduled(createScheduledController({ scheduledTime, cron: "*/10 * * * *" }), env);
}
