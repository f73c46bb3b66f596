/**
 * Outbox delivery. A webhook row (SPEC §7) is a POST to the endpoint with `Content-Type:
 * application/jwt`, the body a JWS signed with the app's keys (verifiable against its JWKS)
 * whose payload is `{type, event_id, source, timestamp, data}`, and a `webhook-id` header
 * that is the delivery's id, so it stays the same across retries and receivers can
 * de-duplicate. A mail row sends its event's sealed message with the deployment's mail
 * transport (worker/mail). At least once: a row leaves `pending` only after a success, or
 * when its retries run out.
 */
import { isDevelopment, type Env } from "../env";
import { deliveryError, ENDPOINT_REFUSED, endpointProblem } from "./endpoint";
import { appById, type App } from "../tenancy/apps";
import { signJwt } from "../keys/sign";
import { mailConfig } from "../mail/config";
import { openEnvelope } from "../mail/seal";
import { sendMail } from "../mail/transports";
import { nextAttemptAt, retrySchedule } from "./retry";

const BATCH = 25;
const TIMEOUT_MS = 10_000;

interface DueRow {
  id: string;
  attempts: number;
  channel: "webhook" | "mail";
  /** Null for mail rows. */
  endpoint: string | null;
  sealed: string | null;
  event_id: string;
  type: string;
  source: string;
  user_id: string | null;
  data: string;
  created_at: number;
}

export interface WebhookPayload {
  type: string;
  event_id: string;
  source: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * The signed payload. Events written by any face carry `data.user.id` when they concern a
 * user (Kinde's shape), so receivers need not know which face wrote them.
 */
export function payloadOf(row: Pick<DueRow, "type" | "event_id" | "source" | "user_id" | "data" | "created_at">): WebhookPayload {
  const data = JSON.parse(row.data) as Record<string, unknown>;
  if (row.user_id && data.user === undefined) data.user = { id: row.user_id };
  return {
    type: row.type,
    event_id: row.event_id,
    source: row.source,
    timestamp: new Date(row.created_at).toISOString(),
    data,
  };
}

/** Delivers every due delivery of the app; returns when the next pending one is due, or null. */
export async function deliverDue(env: Env, appId: string, now = Date.now()): Promise<number | null> {
  const app = await appById(env, appId);
  if (!app) return null;
  const schedule = retrySchedule(env.WEBHOOK_RETRY_SCHEDULE);
  for (;;) {
    const { results } = await env.DB.prepare(
      `SELECT d.id, d.attempts, d.channel, w.endpoint, e.id AS event_id, e.type, e.source, e.user_id, e.data, e.sealed, e.created_at
         FROM webhook_deliveries d
         LEFT JOIN webhooks w ON w.id = d.webhook_id AND d.channel = 'webhook'
         JOIN events e ON e.id = d.event_id
        WHERE d.app_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ?
        ORDER BY d.next_attempt_at LIMIT ?`,
    )
      .bind(appId, now, BATCH)
      .all<DueRow>();
    if (results.length === 0) break;
    const outcomes = await Promise.all(results.map((row) => (row.channel === "mail" ? attemptMail(env, app, row) : attempt(env, app, row))));
    const at = Date.now();
    await env.DB.batch(
      results.map((row, i) => {
        const error = outcomes[i];
        const attempts = row.attempts + 1;
        if (error === null || error === undefined) {
          return env.DB.prepare("UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, last_error = NULL, updated_at = ? WHERE id = ?").bind(attempts, at, row.id);
        }
        const next = nextAttemptAt(attempts, at, schedule);
        return env.DB.prepare("UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?").bind(
          next === null ? "dead" : "pending",
          attempts,
          next ?? at,
          error.slice(0, 500),
          at,
          row.id,
        );
      }),
    );
    if (results.length < BATCH) break;
  }
  const next = await env.DB.prepare("SELECT min(next_attempt_at) AS t FROM webhook_deliveries WHERE app_id = ? AND status = 'pending'").bind(appId).first<number | null>("t");
  return next ?? null;
}

/**
 * The webhook payload of a row. Under the `webhook` mail transport (as chosen when the event
 * was written) an event's sealed message goes with it as `data.message`, link or code
 * included: the app sends that mail itself. Under any other transport it never leaves.
 */
export async function webhookPayload(env: Env, row: Pick<DueRow, "type" | "event_id" | "source" | "user_id" | "data" | "sealed" | "created_at">, appId: string): Promise<WebhookPayload> {
  const payload = payloadOf(row);
  if (row.sealed) {
    const envelope = await openEnvelope(env, appId, row.event_id, row.sealed);
    if (envelope?.transport === "webhook") payload.data.message = envelope.message;
  }
  return payload;
}

/** One mail message; null once the transport took it. */
async function attemptMail(env: Env, app: App, row: DueRow): Promise<string | null> {
  const envelope = row.sealed ? await openEnvelope(env, app.id, row.event_id, row.sealed) : null;
  if (!envelope) return "the message does not open (KEY_ENCRYPTION_SECRET changed?)";
  return sendMail(mailConfig(env), { message: envelope.message, appName: app.name, idempotencyKey: row.id });
}

/** One POST; null on a 2xx, otherwise what went wrong (kept in `last_error`, generic: see deliveryError). */
async function attempt(env: Env, app: App, row: DueRow): Promise<string | null> {
  if (!row.endpoint) return "the webhook is gone";
  if (endpointProblem(row.endpoint, isDevelopment(env))) return ENDPOINT_REFUSED;
  try {
    const body = await signJwt(env, app, { typ: "JWT" }, { ...(await webhookPayload(env, row, app.id)) });
    const res = await fetch(row.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/jwt", "webhook-id": row.id, "User-Agent": "Latch-Webhooks/1" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 300 ? null : deliveryError(res.status);
  } catch {
    return deliveryError(null);
  }
}
