/** The Worker's exports: the fetch handler, the cron handler and the Durable Object classes. */
import { buildApp } from "./app";
import type { Env } from "./env";
import { runScheduled } from "./ops/scheduled";

export { RefreshChains } from "./chains/object";
export { WebhookOutbox } from "./events/object";
export { AttemptCounters } from "./identity/attempt-counters";

const app = buildApp();

export default {
  fetch: app.fetch,
  /** Key rotation and the retention purge (worker/ops/scheduled.ts), on wrangler.toml's cron. */
  async scheduled(controller, env) {
    await runScheduled(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
