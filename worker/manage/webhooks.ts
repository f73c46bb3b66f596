/**
 * Webhooks (Kinde paths) and, as a Latch addition, their deliveries: a delivery that ran
 * out of retries shows `status: "dead"` here. What an endpoint may be: worker/events/endpoint.ts.
 */
import { Hono } from "hono";
import { isDevelopment, type Env } from "../env";
import { endpointProblem } from "../events/endpoint";
import { isEventType } from "../events/log";
import {
  createWebhook,
  deleteWebhook,
  deliveriesOf,
  DELIVERY_STATUSES,
  webhookById,
  webhooksOfApp,
  WebhookInputError,
  type WebhookRow,
} from "../events/webhooks";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { bad, iso, need, ok, onlyKeys, text, type ManageContext, type ManageEnv } from "./context";
import { pageOf, parsePage } from "./paging";

export const webhookRoutes = new Hono<ManageEnv>();

function asApiError(err: unknown): never {
  if (err instanceof WebhookInputError) bad(err.message, err.code);
  throw err;
}

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
  const id = await createWebhook(c.env, c.var.app.id, { name, endpoint, eventTypes, description }).catch(asApiError);
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
  await deleteWebhook(c.env, row.app_id, row.id);
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
