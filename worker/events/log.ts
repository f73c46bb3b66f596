/**
 * The append-only event log (SPEC §7). Writers get a prepared statement so the event
 * lands in the same D1 batch as the change it records: no change without its event.
 * The `events_webhook_outbox` trigger (migration 0001) enqueues the webhook deliveries
 * inside that same statement, so no writer needs to know about webhooks. An event may carry
 * a sealed private part (a mail message, worker/mail/queue.ts) that only the outbox opens.
 */
import type { Env } from "../env";
import { randomId } from "../util/crypto";
import { noteEvent } from "./outbox";

/** Every event type, with the name `GET /api/v1/event_types` shows. */
export const EVENT_TYPES = {
  "user.created": "User created",
  "user.updated": "User updated",
  "user.deleted": "User deleted",
  "user.authenticated": "User authenticated",
  "user.authentication_failed": "User authentication failed",
  "user.password_changed": "User password changed",
  "user.password_reset_requested": "User password reset requested",
  "user.password_reset": "User password reset",
  "user.email_verification_requested": "User email verification requested",
  "user.email_verified": "User email verified",
  "user.email_code_requested": "User sign-in code requested",
  "session.ended": "Session ended",
  "refresh_token.reuse_detected": "Refresh token reuse detected",
  "role.created": "Role created",
  "role.updated": "Role updated",
  "role.deleted": "Role deleted",
  "permission.created": "Permission created",
  "permission.updated": "Permission updated",
  "permission.deleted": "Permission deleted",
  "user.role_assigned": "Role assigned to user",
  "user.role_removed": "Role removed from user",
  "user.permission_assigned": "Permission assigned to user",
  "user.permission_removed": "Permission removed from user",
  "passkey.created": "Passkey created",
  "passkey.renamed": "Passkey renamed",
  "passkey.deleted": "Passkey deleted",
  "passkey.reset": "Passkeys reset by an operator (account recovery)",
  "connection.created": "Upstream connection created",
  "connection.updated": "Upstream connection updated",
  "connection.deleted": "Upstream connection deleted",
  "user.identity_linked": "Upstream identity linked to a user",
  "user.identity_removed": "Upstream identity removed from a user",
} as const;

export type EventType = keyof typeof EVENT_TYPES;

/** Who caused an event: the management API, the user (sign-in, self-service), an operator. */
export type EventSource = "api" | "user" | "admin";

export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && Object.hasOwn(EVENT_TYPES, value);
}

export function newEventId(): string {
  return `event_${randomId(24)}`;
}

/**
 * An event with a sealed private part (worker/mail/seal.ts) and a caller-chosen id, which the
 * seal is bound to and the caller's mail outbox row names.
 */
export function sealedEventStatement(
  env: Env,
  event: { id: string; appId: string; type: EventType; userId: string | null; data: Record<string, unknown>; sealed: string; now: number; source?: EventSource },
): D1PreparedStatement {
  noteEvent(event.appId);
  return env.DB.prepare("INSERT INTO events (id, app_id, type, user_id, data, source, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").bind(
    event.id,
    event.appId,
    event.type,
    event.userId,
    JSON.stringify(event.data),
    event.source ?? "user",
    event.sealed,
    event.now,
  );
}

export function eventStatement(
  env: Env,
  appId: string,
  type: EventType,
  userId: string | null,
  data: Record<string, unknown> = {},
  now = Date.now(),
  source: EventSource = "user",
): D1PreparedStatement {
  noteEvent(appId);
  return env.DB.prepare("INSERT INTO events (id, app_id, type, user_id, data, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)").bind(
    newEventId(),
    appId,
    type,
    userId,
    JSON.stringify(data),
    source,
    now,
  );
}
