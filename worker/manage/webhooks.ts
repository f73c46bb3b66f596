/**
 * Webhooks (Kinde paths) and, as a Latch addition, their deliveries: a delivery that ran
 * out of retries shows `status: "dead"` here. Endpoints must be https; plain http is
 * accepted only for loopback hosts while Latch itself runs on a local host (development).
 */
import { Hono } from "hono";
import type { Env } from "../env";
import { clearWebhookCache } from "../events/outbox";
import { isEventType } from "../events/log";
import { deliveriesOf, DELIVERY_STATUSES, webhookById, webhooksOfApp, type WebhookRow } from "../events/webhooks";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { isLocalHost } from "../tenancy/apps";
import { randomId } from "../util/crypto";
import { bad, iso, need, ok, onlyKeys, text, type ManageContext, type ManageEnv } from "./context";
import { pageOf, parsePage } from "./paging";

export const webhookRoutes = new Hono<ManageEnv>();

/** Why `value` is not an acceptable endpoint, or null. Pure. */
export function endpointProblem(value: string, localDevelopment: boolean): string | null {
  if (value.length > 2048) return "endpoint is longer than 2048 characters";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "endpoint must be an absolute URL";
  }
  if (url.username || url.password) return "endpoint may not carry credentials";
  if (url.hash) return "endpoint may not have a fragment";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && localDevelopment && isLocalHost(url.host)) return null;
  return "endpoint must be https (http only for loopback hosts in local development)";
}

function endpointOf(env: Env, body: Record<string, unknown>): string {
  const endpoint = text(body, "endpoint", 2048, true)!;
  const problem = endpointProblem(endpoint, isLocalHost(env.BASE_HOST));
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
  const row = await webhookById(c.env, c.var.app.id, id);
  if (!row) throw new ApiError("WEBHOOK_NOT_FOUND", `No webhook with id ${id}.`);
  return row;
}

webhookRoutes.get("/webhooks", need("read:webhooks"), async (c) => {
  return ok(c, { webhooks: (await webhooksOfApp(c.env, c.var.app.id)).map(webhookView) });
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
  if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) bad("status must be pending, delivered or dead.");
  const results = await deliveriesOf(c.env, row.app_id, row.id, { status, after: page.after, limit: page.size + 1 });
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
