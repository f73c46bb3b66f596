/**
 * Waking the outbox. Webhook deliveries are enqueued by a D1 trigger in the same
 * statement as their event (migration 0001), and mail rows in the same batch as theirs
 * (mailDeliveryStatement), so they are durable the moment the change commits. What remains is to wake the app's WebhookOutbox object after the commit:
 * `eventStatement` notes the app in a request-scoped set (AsyncLocalStorage), and this
 * middleware, once the handler has answered (its batches committed), wakes each noted app
 * that has webhooks or queued mail, in `waitUntil` so the response does not wait.
 *
 * A wake that is lost (isolate killed before waitUntil ran, an event written from inside
 * a Durable Object) delays nothing for good: every wake delivers everything due for the
 * app, and the object's alarm keeps itself scheduled while anything is pending.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";

interface Noted {
  events: Set<string>;
  mail: Set<string>;
}
const scope = new AsyncLocalStorage<Noted>();

/** Records that an event for `appId` is being written in the current request. */
export function noteEvent(appId: string): void {
  scope.getStore()?.events.add(appId);
}

/**
 * A mail row for the app's outbox, to write in the same batch as its event (`eventId`).
 * The wake after the response is unconditional: mail does not depend on webhooks.
 */
export function mailDeliveryStatement(env: Env, appId: string, eventId: string, now: number): D1PreparedStatement {
  scope.getStore()?.mail.add(appId);
  return env.DB.prepare(
    `INSERT INTO webhook_deliveries (id, app_id, webhook_id, event_id, channel, status, attempts, next_attempt_at, created_at, updated_at)
     VALUES ('whd_' || lower(hex(randomblob(12))), ?1, 'mail', ?2, 'mail', 'pending', 0, ?3, ?3, ?3)`,
  ).bind(appId, eventId, now);
}

export const outboxWaker: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const noted: Noted = { events: new Set(), mail: new Set() };
  await scope.run(noted, next);
  const apps = new Set([...noted.events, ...noted.mail]);
  if (apps.size === 0) return;
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  const work = Promise.all([...apps].map((appId) => (noted.mail.has(appId) ? wakeOutbox(c.env, appId) : wakeIfSubscribed(c.env, appId)))).catch((err: unknown) => {
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

export interface MailRow {
  id: string;
  app_id: string;
  event_id: string;
  type: string;
  user_id: string | null;
  sealed: string | null;
  status: "pending" | "delivered" | "dead";
  attempts: number;
  created_at: number;
  updated_at: number;
}

/** The newest mail rows of the outbox with their events, across apps (the dev mailbox). */
export async function recentMail(env: Env, options: { status?: MailRow["status"]; limit: number }): Promise<MailRow[]> {
  const { results } = await env.DB.prepare(
    `SELECT d.id, d.app_id, d.event_id, e.type, e.user_id, e.sealed, d.status, d.attempts, d.created_at, d.updated_at
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE d.channel = 'mail' AND (?1 IS NULL OR d.status = ?1)
      ORDER BY d.created_at DESC, d.id DESC LIMIT ?2`,
  )
    .bind(options.status ?? null, options.limit)
    .all<MailRow>();
  return results;
}
