/**
 * Private signing keys at rest: AES-256-GCM under a key derived (HKDF-SHA-256) from the
 * deployment secret, with the app id as HKDF info and the kid as associated data, so a
 * ciphertext cannot be moved to another app or another key row and still open.
 */
import type { Env } from "../env";
import { base64url, derivedKey, fromBase64url } from "../util/crypto";

const VERSION = "v1";
const encoder = new TextEncoder();
function wrappingKey(secret: string, appId: string): Promise<CryptoKey> {
  return derivedKey(secret, "latch/signing-keys/v1", appId, "aes-gcm");
}

export async function sealJwk(env: Pick<Env, "KEY_ENCRYPTION_SECRET">, appId: string, kid: string, jwk: object): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await wrappingKey(env.KEY_ENCRYPTION_SECRET, appId);
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(kid) }, key, encoder.encode(JSON.stringify(jwk)));
  return `${VERSION}.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
}

export async function openJwk(env: Pick<Env, "KEY_ENCRYPTION_SECRET">, appId: string, kid: string, sealed: string): Promise<Record<string, unknown>> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== VERSION || !iv || !ct) throw new Error(`signing key ${kid}: unknown ciphertext format`);
  const key = await wrappingKey(env.KEY_ENCRYPTION_SECRET, appId);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64url(iv), additionalData: encoder.encode(kid) }, key, fromBase64url(ct));
  return JSON.parse(new TextDecoder().decode(plain)) as Record<string, unknown>;
}
