/**
 * Sending one message with the deployment's transport. Called by the outbox (worker/events/
 * delivery.ts) for each mail row; null means sent, a string is what went wrong (kept in
 * `last_error`, and the row is retried on the outbox's schedule). The HTTP providers are
 * called exactly as their API references document them:
 * - Resend: `POST {api}/emails`, `Authorization: Bearer {key}`, JSON `{from, to, subject,
 *   html, text}`, and `Idempotency-Key` (the outbox row's id, stable across retries, so a
 *   retry after a lost answer does not send twice).
 * - Postmark: `POST {api}/email`, `X-Postmark-Server-Token: {token}`, JSON `{From, To,
 *   Subject, HtmlBody, TextBody, MessageStream: "outbound"}`; success is 200 with ErrorCode 0.
 * - dev: nothing leaves; the sealed message stays with its event and GET /dev/mailbox shows it.
 * It imports nothing of the Worker, so the provider requests can be checked from Node too.
 */
import type { MailMessage } from "./templates";

/** The transport as configured (config.ts reads it from the environment). */
export type MailConfig =
  | { transport: "webhook" }
  | { transport: "dev" }
  | { transport: "resend" | "postmark"; from: string; apiKey: string; apiUrl: string }
  /** Configured wrongly: nothing is sent, each delivery fails with `problem` (and is retried, so a fix sends it). */
  | { transport: "broken"; problem: string };

/** `"App Name" <address>`: the app's name as the display name, stripped of what could break the header. */
export function fromHeader(appName: string, address: string): string {
  // eslint-disable-next-line no-control-regex
  const name = appName.replace(/[\u0000-\u001f\u007f"\\<>]/g, "").trim().slice(0, 64);
  return name ? `"${name}" <${address}>` : address;
}

const TIMEOUT_MS = 10_000;
const USER_AGENT = "Latch-Mail/1";

export interface Outgoing {
  message: MailMessage;
  appName: string;
  /** Stable across retries of the same message. */
  idempotencyKey: string;
}

export async function sendMail(config: MailConfig, out: Outgoing): Promise<string | null> {
  switch (config.transport) {
    case "dev":
      return null;
    case "webhook":
      return "MAIL_TRANSPORT is webhook now: this message was queued for a mail transport";
    case "broken":
      return `mail is not configured: ${config.problem}`;
    case "resend":
      return post(`${config.apiUrl}/emails`, { Authorization: `Bearer ${config.apiKey}`, "Idempotency-Key": out.idempotencyKey }, {
        from: fromHeader(out.appName, config.from),
        to: [out.message.to],
        subject: out.message.subject,
        html: out.message.html,
        text: out.message.text,
      });
    case "postmark":
      return post(`${config.apiUrl}/email`, { "X-Postmark-Server-Token": config.apiKey }, {
        From: fromHeader(out.appName, config.from),
        To: out.message.to,
        Subject: out.message.subject,
        HtmlBody: out.message.html,
        TextBody: out.message.text,
        MessageStream: "outbound",
      });
  }
}

async function post(url: string, auth: Record<string, string>, body: Record<string, unknown>): Promise<string | null> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json", Accept: "application/json", "User-Agent": USER_AGENT },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // The provider's own words help the operator; they never contain our key.
    const answer = (await res.text().catch(() => "")).slice(0, 300);
    return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status} ${answer}`.trim();
  } catch (err) {
    return `network: ${err instanceof Error ? err.message : String(err)}`;
  }
}
