/**
 * A mail message at rest: the event's `sealed` column holds it AES-256-GCM encrypted under
 * a key derived (HKDF-SHA-256) from KEY_ENCRYPTION_SECRET with the app id as info and the
 * event id as associated data, so the link or code it carries is never stored in clear and
 * a sealed value cannot be moved to another app or event and still open.
 */
import type { Env } from "../env";
import { base64url, derivedKey, fromBase64url } from "../util/crypto";
import type { MailMessage } from "./templates";

const VERSION = "m1";
const encoder = new TextEncoder();

/** What an event seals: its message, and the transport chosen when it was written. */
export interface MailEnvelope {
  /** `webhook`, `resend`, `postmark`, `dev`, or what a misconfigured MAIL_TRANSPORT said. */
  transport: string;
  message: MailMessage;
}

function mailKey(secret: string, appId: string): Promise<CryptoKey> {
  return derivedKey(secret, "latch/mail/v1", appId, "aes-gcm");
}

export async function sealEnvelope(env: Pick<Env, "KEY_ENCRYPTION_SECRET">, appId: string, eventId: string, envelope: MailEnvelope): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await mailKey(env.KEY_ENCRYPTION_SECRET, appId);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(eventId) }, key, encoder.encode(JSON.stringify(envelope)));
  return `${VERSION}.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
}

/** The envelope, or null when it does not open (another secret, app or event; tampered). */
export async function openEnvelope(env: Pick<Env, "KEY_ENCRYPTION_SECRET">, appId: string, eventId: string, sealed: string): Promise<MailEnvelope | null> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== VERSION || !iv || !ct) return null;
  try {
    const key = await mailKey(env.KEY_ENCRYPTION_SECRET, appId);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64url(iv), additionalData: encoder.encode(eventId) }, key, fromBase64url(ct));
    return JSON.parse(new TextDecoder().decode(plain)) as MailEnvelope;
  } catch {
    return null;
  }
}
