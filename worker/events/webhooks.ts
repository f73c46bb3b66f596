/**
 * Webhook subscriptions and their deliveries: the rules for an endpoint, creation and
 * deletion, and the read side; shared by the management API (manage/webhooks.ts) and the
 * operator console. What an endpoint may be: endpoint.ts.
 */
import { isDevelopment, type Env } from "../env";
import { endpointProblem } from "./endpoint";
import { randomId } from "../util/crypto";
import { Where } from "../util/where";
import { isEventType } from "./log";
import { clearWebhookCache } from "./outbox";

export interface WebhookRow {
  id: string;
  app_id: string;
  name: string;
  endpoint: string;
  event_types: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

export interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export const DELIVERY_STATUSES = ["pending", "delivered", "dead"] as const;

export async function webhooksOfApp(env: Env, appId: string): Promise<WebhookRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM webhooks WHERE app_id = ? ORDER BY created_at, id").bind(appId).all<WebhookRow>();
  return results;
}

export async function webhookById(env: Env, appId: string, id: string): Promise<WebhookRow | null> {
  return env.DB.prepare("SELECT * FROM webhooks WHERE app_id = ? AND id = ?").bind(appId, id).first<WebhookRow>();
}

/** A webhook's deliveries, newest first; keyset paging by (created_at, id) descending. */
export async function deliveriesOf(
  env: Env,
  appId: string,
  webhookId: string,
  options: { status?: string; after?: { createdAt: number; id: string } | null; limit: number },
): Promise<DeliveryRow[]> {
  const where = new Where("d.app_id = ? AND d.webhook_id = ?", appId, webhookId);
  if (options.status) where.and("d.status = ?", options.status);
  if (options.after) where.and("(d.created_at < ? OR (d.created_at = ? AND d.id < ?))", options.after.createdAt, options.after.createdAt, options.after.id);
  const { results } = await env.DB.prepare(
    `SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE ${where} ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
  )
    .bind(...where.params, options.limit)
    .all<DeliveryRow>();
  return results;
}

/** A refused webhook; `code` is the management API's error code for it. */
export class WebhookInputError extends Error {
  constructor(
    readonly code: "INVALID_ENDPOINT" | "INVALID_EVENT_TYPE" | "INVALID_REQUEST",
    message: string,
  ) {
    super(message);
  }
}

export interface NewWebhook {
  name: string;
  endpoint: string;
  eventTypes: string[];
  description: string | null;
}

/** Checks a new webhook; the event types come back de-duplicated. */
export function checkedWebhook(env: Pick<Env, "DEV_MODE">, input: NewWebhook): NewWebhook {
  const name = input.name.trim();
  if (!name || name.length > 256) throw new WebhookInputError("INVALID_REQUEST", "name must be a non-empty string of at most 256 characters.");
  const problem = endpointProblem(input.endpoint, isDevelopment(env));
  if (problem) throw new WebhookInputError("INVALID_ENDPOINT", `${problem}.`);
  if (input.eventTypes.length === 0 || input.eventTypes.length > 50) throw new WebhookInputError("INVALID_REQUEST", "event_types must be a non-empty array of event type codes.");
  for (const t of input.eventTypes) if (!isEventType(t)) throw new WebhookInputError("INVALID_EVENT_TYPE", `Unknown event type: ${String(t)}. See GET /api/v1/event_types.`);
  return { name, endpoint: input.endpoint, eventTypes: [...new Set(input.eventTypes)], description: input.description };
}

export async function createWebhook(env: Env, appId: string, input: NewWebhook): Promise<string> {
  const hook = checkedWebhook(env, input);
  const id = `webhook_${randomId(20)}`;
  const now = Date.now();
  await env.DB.prepare("INSERT INTO webhooks (id, app_id, name, endpoint, event_types, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(id, appId, hook.name, hook.endpoint, JSON.stringify(hook.eventTypes), hook.description, now, now)
    .run();
  clearWebhookCache(appId);
  return id;
}

/** Deletes the webhook with its deliveries (pending ones are never sent). */
export async function deleteWebhook(env: Env, appId: string, id: string): Promise<void> {
  await env.DB.batch([
    env.DB.prepare("DELETE FROM webhook_deliveries WHERE app_id = ? AND webhook_id = ?").bind(appId, id),
    env.DB.prepare("DELETE FROM webhooks WHERE app_id = ? AND id = ?").bind(appId, id),
  ]);
  clearWebhookCache(appId);
}
