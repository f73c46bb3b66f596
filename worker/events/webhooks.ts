/**
 * Webhook subscriptions and their deliveries, read side: shared by the management API
 * (manage/webhooks.ts) and the operator console.
 */
import type { Env } from "../env";

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
  const where = ["d.app_id = ?", "d.webhook_id = ?"];
  const params: unknown[] = [appId, webhookId];
  if (options.status) {
    where.push("d.status = ?");
    params.push(options.status);
  }
  if (options.after) {
    where.push("(d.created_at < ? OR (d.created_at = ? AND d.id < ?))");
    params.push(options.after.createdAt, options.after.createdAt, options.after.id);
  }
  const { results } = await env.DB.prepare(
    `SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE ${where.join(" AND ")} ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
  )
    .bind(...params, options.limit)
    .all<DeliveryRow>();
  return results;
}
