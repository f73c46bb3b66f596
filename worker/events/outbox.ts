/**
 * Waking the webhook outbox. Deliveries are enqueued by a D1 trigger in the same
 * statement as their event (migration 0001), so they are durable the moment the change
 * commits. What remains is to wake the app's WebhookOutbox object after the commit:
 * `eventStatement` notes the app in a request-scoped set (AsyncLocalStorage), and this
 * middleware, once the handler has answered (its batches committed), wakes each noted app
 * that has webhooks, in `waitUntil` so the response does not wait.
 *
 * A wake that is lost (isolate killed before waitUntil ran, an event written from inside
 * a Durable Object) delays nothing for good: every wake delivers everything due for the
 * app, and the object's alarm keeps itself scheduled while anything is pending.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";

const scope = new AsyncLocalStorage<Set<string>>();

/** Records that an event for `appId` is being written in the current request. */
export function noteEvent(appId: string): void {
  scope.getStore()?.add(appId);
}

export const outboxWaker: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const apps = new Set<string>();
  await scope.run(apps, next);
  if (apps.size === 0) return;
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  const work = Promise.all([...apps].map((appId) => wakeIfSubscribed(c.env, appId))).catch((err: unknown) => {
    console.error("webhook outbox wake failed", err instanceof Error ? err.message : String(err));
  });
  if (ctx) ctx.waitUntil(work);
  else await work;
};

const HOOK_CACHE_MS = 10_000;
const hasHooks = new Map<string, { value: boolean; until: number }>();

/** Forget this isolate's "app has webhooks" answers (after a webhook is created/deleted). */
export function clearWebhookCache(appId?: string): void {
  if (appId) hasHooks.delete(appId);
  else hasHooks.clear();
}

async function wakeIfSubscribed(env: Env, appId: string): Promise<void> {
  const now = Date.now();
  let hit = hasHooks.get(appId);
  if (!hit || hit.until <= now) {
    const row = await env.DB.prepare("SELECT 1 FROM webhooks WHERE app_id = ? LIMIT 1").bind(appId).first();
    hit = { value: row !== null, until: now + HOOK_CACHE_MS };
    hasHooks.set(appId, hit);
  }
  if (hit.value) await wakeOutbox(env, appId);
}

export function outboxStub(env: Env, appId: string) {
  return env.WEBHOOK_OUTBOX.get(env.WEBHOOK_OUTBOX.idFromName(appId));
}

/** Asks the app's outbox to deliver what is due now. */
export async function wakeOutbox(env: Env, appId: string): Promise<void> {
  await outboxStub(env, appId).wake(appId);
}
