/**
 * Webhooks (Kinde paths) and, as a Latch addition, their deliveries: a delivery that ran
 * out of retries shows `status: "dead"` here. What an endpoint may be: worker/events/endpoint.ts.
 */
import { Hono } from "hono";
import { isDevelopment, type Env } from "../env";
import { endpointProblem } from "../events/endpoint";
import { clearWebhookCache } from "../events/outbox";
import { isEventType } from "../events/log";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { randomId } from "../util/crypto";
import { bad, iso, need, ok, onlyKeys, text, type ManageContext, type ManageEnv } from "./context";
import { pageOf, parsePage } from "./paging";

export const webhookRoutes = new Hono<ManageEnv>();

interface WebhookRow {
  id: string;
  app_id: string;
  name: string;
  endpoint: string;
  event_types: string;
  description: string | null;
  created_at: number;
  updated_at: number;
}

export { endpointProblem };

function endpointOf(env: Env, body: Record<string, unknown>): string {
  const endpoint = text(body, "endpoint", 2048, true)!;
  const problem = endpointProblem(endpoint, isDevelopment(env));
  if (problem) bad(`${problem}.`, "INVALID_ENDPOINT");
  return endpoint;
}

function eventTypesOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 50) bad("event_types must be a non-empty array of event type codes.");
  for (const t of value) if (!isEventType(t)) bad(`Unknown event type: ${String(t)}. See GET /api/v1/event_types.`, "INVALID_EVENT_TYPE");
  return [...new Set(value as string[])];
}

function webhookView(row: WebhookRow) {
  return {
    id: row.id,
    name: row.name,
    endpoint: row.endpoint,
    description: row.description,
    event_types: JSON.parse(row.event_types) as string[],
    created_on: iso(row.created_at),
  };
}

async function loadWebhook(c: ManageContext): Promise<WebhookRow> {
  const id = c.req.param("webhookId")!;
  const row = await c.env.DB.prepare("SELECT * FROM webhooks WHERE app_id = ? AND id = ?").bind(c.var.app.id, id).first<WebhookRow>();
  if (!row) throw new ApiError("WEBHOOK_NOT_FOUND", `No webhook with id ${id}.`);
  return row;
}

webhookRoutes.get("/webhooks", need("read:webhooks"), async (c) => {
  const { results } = await c.env.DB.prepare("SELECT * FROM webhooks WHERE app_id = ? ORDER BY created_at, id").bind(c.var.app.id).all<WebhookRow>();
  return ok(c, { webhooks: results.map(webhookView) });
});

webhookRoutes.post("/webhooks", need("create:webhooks"), async (c) => {
  const body = await readJsonObject(c);
  onlyKeys(body, ["endpoint", "event_types", "name", "description"]);
  const endpoint = endpointOf(c.env, body);
  const eventTypes = eventTypesOf(body.event_types);
  const name = text(body, "name", 256, true)!;
  const description = body.description === null ? null : (text(body, "description", 1024) ?? null);
  const id = `webhook_${randomId(20)}`;
  const now = Date.now();
  await c.env.DB.prepare("INSERT INTO webhooks (id, app_id, name, endpoint, event_types, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(id, c.var.app.id, name, endpoint, JSON.stringify(eventTypes), description, now, now)
    .run();
  clearWebhookCache(c.var.app.id);
  return ok(c, { webhook: { id, endpoint } }, 200, "WEBHOOK_CREATED", "Webhook created");
});

/** Latch addition. */
webhookRoutes.get("/webhooks/:webhookId", need("read:webhooks"), async (c) => ok(c, { webhook: webhookView(await loadWebhook(c)) }));

webhookRoutes.patch("/webhooks/:webhookId", need("update:webhooks"), async (c) => {
  const row = await loadWebhook(c);
  const body = await readJsonObject(c);
  onlyKeys(body, ["endpoint", "event_types", "name", "description"]);
  const endpoint = body.endpoint !== undefined ? endpointOf(c.env, body) : row.endpoint;
  const eventTypes = body.event_types !== undefined ? eventTypesOf(body.event_types) : (JSON.parse(row.event_types) as string[]);
  const name = text(body, "name", 256) ?? row.name;
  const description = body.description === null ? null : (text(body, "description", 1024) ?? row.description);
  await c.env.DB.prepare("UPDATE webhooks SET endpoint = ?, event_types = ?, name = ?, description = ?, updated_at = ? WHERE app_id = ? AND id = ?")
    .bind(endpoint, JSON.stringify(eventTypes), name, description, Date.now(), row.app_id, row.id)
    .run();
  return ok(c, { webhook: { id: row.id } }, 200, "WEBHOOK_UPDATED", "Webhook updated");
});

webhookRoutes.delete("/webhooks/:webhookId", need("delete:webhooks"), async (c) => {
  const row = await loadWebhook(c);
  await c.env.DB.batch([
    c.env.DB.prepare("DELETE FROM webhook_deliveries WHERE app_id = ? AND webhook_id = ?").bind(row.app_id, row.id),
    c.env.DB.prepare("DELETE FROM webhooks WHERE app_id = ? AND id = ?").bind(row.app_id, row.id),
  ]);
  clearWebhookCache(row.app_id);
  return ok(c, {}, 200, "WEBHOOK_DELETED", "Webhook successfully deleted");
});

/** Latch addition: the webhook's deliveries, newest first; `status` filters (pending, delivered, dead). */
webhookRoutes.get("/webhooks/:webhookId/deliveries", need("read:webhooks"), async (c) => {
  const row = await loadWebhook(c);
  const page = parsePage(c.req.query("page_size"), c.req.query("next_token"));
  const status = c.req.query("status");
  if (status !== undefined && !["pending", "delivered", "dead"].includes(status)) bad("status must be pending, delivered or dead.");
  const where = ["d.app_id = ?", "d.webhook_id = ?"];
  const params: unknown[] = [row.app_id, row.id];
  if (status) {
    where.push("d.status = ?");
    params.push(status);
  }
  if (page.after) {
    where.push("(d.created_at < ? OR (d.created_at = ? AND d.id < ?))");
    params.push(page.after.createdAt, page.after.createdAt, page.after.id);
  }
  const { results } = await c.env.DB.prepare(
    `SELECT d.*, e.type AS event_type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE ${where.join(" AND ")} ORDER BY d.created_at DESC, d.id DESC LIMIT ?`,
  )
    .bind(...params, page.size + 1)
    .all<{ id: string; event_id: string; event_type: string; status: string; attempts: number; next_attempt_at: number; last_error: string | null; created_at: number; updated_at: number }>();
  const { items, nextToken } = pageOf(results, page.size);
  return ok(c, {
    deliveries: items.map((d) => ({
      webhook_id: d.id,
      event_id: d.event_id,
      event_type: d.event_type,
      status: d.status,
      attempts: d.attempts,
      next_attempt_on: d.status === "pending" ? iso(d.next_attempt_at) : null,
      last_error: d.last_error,
      created_on: iso(d.created_at),
      updated_on: iso(d.updated_at),
    })),
    ...(nextToken ? { next_token: nextToken } : {}),
  });
});
