/**
 * The append-only event log (SPEC §7). Writers get a prepared statement so the event
 * lands in the same D1 batch as the change it records: no change without its event.
 */
import type { Env } from "../env";
import { randomId } from "../util/crypto";

export type EventType =
  | "user.created"
  | "user.updated"
  | "user.deleted"
  | "user.authenticated"
  | "user.authentication_failed"
  | "user.password_changed"
  | "user.password_reset_requested"
  | "session.ended"
  | "refresh_token.reuse_detected"
  | "role.created"
  | "role.updated"
  | "role.deleted"
  | "permission.created"
  | "permission.updated"
  | "permission.deleted"
  | "user.role_assigned"
  | "user.role_removed"
  | "user.permission_assigned"
  | "user.permission_removed"
  | "passkey.created"
  | "passkey.renamed"
  | "passkey.deleted"
  | "passkey.reset";

export function newEventId(): string {
  return `event_${randomId(24)}`;
}

export function eventStatement(
  env: Env,
  appId: string,
  type: EventType,
  userId: string | null,
  data: Record<string, unknown> = {},
  now = Date.now(),
): D1PreparedStatement {
  return env.DB.prepare("INSERT INTO events (id, app_id, type, user_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?)").bind(
    newEventId(),
    appId,
    type,
    userId,
    JSON.stringify(data),
    now,
  );
}
