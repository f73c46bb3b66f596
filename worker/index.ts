/** The Worker's exports: the fetch handler and the Durable Object classes. */
import { buildApp } from "./app";

export { RefreshChains } from "./chains/object";
export { WebhookOutbox } from "./events/object";
export { AttemptCounters } from "./identity/attempt-counters";

const app = buildApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<import("./env").Env>;
