/**
 * Queuing a message: the statements that record it, for the caller's D1 batch. The message
 * is rendered here, sealed into its event (worker/mail/seal.ts) and, unless the transport is
 * `webhook`, given a mail row in the outbox, which the app's outbox object delivers with
 * back-off like any webhook delivery (worker/events/delivery.ts). So a message is durable
 * exactly when the change that caused it commits, and nothing is sent on the response path.
 */
import type { Env } from "../env";
import { newEventId, sealedEventStatement, type EventSource, type EventType } from "../events/log";
import { mailDeliveryStatement } from "../events/outbox";
import type { App } from "../tenancy/apps";
import { transportName } from "./config";
import { sealEnvelope } from "./seal";
import { renderMail, type MailInput, type MailMessage } from "./templates";

export interface MailEvent {
  type: EventType;
  userId: string;
  /** The event's public data (what webhooks and the events API see); never the link or code. */
  data: Record<string, unknown>;
  mail: Omit<MailInput, "appName">;
  now: number;
  source?: EventSource;
}

export async function mailStatements(env: Env, app: Pick<App, "id" | "name">, event: MailEvent): Promise<{ statements: D1PreparedStatement[]; message: MailMessage }> {
  const message = renderMail({ ...event.mail, appName: app.name });
  const transport = transportName(env) ?? String(env.MAIL_TRANSPORT);
  const id = newEventId();
  const sealed = await sealEnvelope(env, app.id, id, { transport, message });
  const statements = [
    sealedEventStatement(env, { id, appId: app.id, type: event.type, userId: event.userId, data: { ...event.data, mail: { kind: message.kind, transport } }, sealed, now: event.now, source: event.source }),
  ];
  if (transport !== "webhook") statements.push(mailDeliveryStatement(env, app.id, id, event.now));
  return { statements, message };
}
