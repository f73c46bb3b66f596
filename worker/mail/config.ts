/**
 * The deployment's one mail transport, read from its configuration (pure). README "Mail":
 * - `webhook` (default): Latch sends nothing itself; the event of each message carries it
 *   (with its link or code) to the app's webhooks subscribed to that event type.
 * - `resend` / `postmark`: their HTTP APIs, with MAIL_FROM and MAIL_API_KEY.
 * - `dev`: messages are kept and shown at GET /dev/mailbox; refused outside development.
 */
import { isDevelopment, type Env } from "../env";
import { isLocalHost } from "../tenancy/apps";
import type { MailConfig } from "./transports";

export const TRANSPORTS = ["webhook", "resend", "postmark", "dev"] as const;
export type TransportName = (typeof TRANSPORTS)[number];

const API_URLS = { resend: "https://api.resend.com", postmark: "https://api.postmarkapp.com" } as const;
const ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+$/;

/** The transport a deployment names; unset means `webhook`. */
export function transportName(env: Pick<Env, "MAIL_TRANSPORT">): TransportName | null {
  const name = (env.MAIL_TRANSPORT ?? "webhook").trim().toLowerCase() || "webhook";
  return (TRANSPORTS as readonly string[]).includes(name) ? (name as TransportName) : null;
}

export function mailConfig(env: Pick<Env, "MAIL_TRANSPORT" | "MAIL_FROM" | "MAIL_API_KEY" | "MAIL_API_URL" | "DEV_MODE">): MailConfig {
  const name = transportName(env);
  if (!name) return { transport: "broken", problem: `MAIL_TRANSPORT must be one of ${TRANSPORTS.join(", ")}` };
  if (name === "webhook") return { transport: "webhook" };
  if (name === "dev") return isDevelopment(env) ? { transport: "dev" } : { transport: "broken", problem: "MAIL_TRANSPORT=dev works only in development (DEV_MODE)" };
  const from = env.MAIL_FROM?.trim() ?? "";
  if (!ADDRESS.test(from)) return { transport: "broken", problem: "MAIL_FROM must be a plain address such as no-reply@auth.example.com" };
  if (!env.MAIL_API_KEY) return { transport: "broken", problem: "MAIL_API_KEY is not set" };
  const apiUrl = env.MAIL_API_URL?.trim() || API_URLS[name];
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    return { transport: "broken", problem: "MAIL_API_URL is not a URL" };
  }
  // Plain http only to a loopback stub in development: the API key travels in a header.
  const plainOk = isDevelopment(env) && isLocalHost(url.host);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && plainOk)) return { transport: "broken", problem: "MAIL_API_URL must be https" };
  return { transport: name, from, apiKey: env.MAIL_API_KEY, apiUrl: url.origin };
}
