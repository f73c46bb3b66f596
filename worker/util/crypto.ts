/** Small cryptographic helpers shared by every store. */

const encoder = new TextEncoder();

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A 256-bit random token, URL-safe. */
export function randomToken(): string {
  return base64url(randomBytes(32));
}

/** Random id of `length` characters drawn from [0-9a-z]. */
export function randomId(length = 24, alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"): string {
  // Rejection sampling keeps the distribution uniform.
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

export const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export async function sha256Hex(text: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}

/** Constant-time equality of two strings (length leaks, content does not). */
export function timingSafeEqual(a: string, b: string): boolean {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  if (ab.length !== bb.length) return false;
  // workerd ships crypto.subtle.timingSafeEqual; fall back to a XOR fold elsewhere.
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(ab, bb);
  let diff = 0;
  for (let i = 0; i < ab.length; i++) diff |= ab[i]! ^ bb[i]!;
  return diff === 0;
}

/** Compares a presented secret with a stored SHA-256 hex digest in constant time. */
export async function secretMatchesHash(secret: string, storedHash: string): Promise<boolean> {
  return timingSafeEqual(await sha256Hex(secret), storedHash);
}

const KEY_USES = {
  hmac: { algorithm: { name: "HMAC", hash: "SHA-256", length: 256 }, usages: ["sign"] },
  "aes-gcm": { algorithm: { name: "AES-GCM", length: 256 }, usages: ["encrypt", "decrypt"] },
} satisfies Record<string, { algorithm: SubtleCryptoImportKeyAlgorithm; usages: string[] }>;

/** The shortest deployment secret any key is derived from. */
export const MIN_SECRET_LENGTH = 16;

const derivedKeys = new Map<string, Promise<CryptoKey>>();

/**
 * The key for one purpose, derived with HKDF-SHA-256 from the deployment `secret` (salt
 * `purpose`, e.g. `latch/csrf/v1`; `info` binds it further, e.g. to an app), so no two uses
 * share a key. Cached per isolate; a changed secret or info is a new entry. A secret shorter
 * than MIN_SECRET_LENGTH is refused: every key it would derive is guessable.
 */
export function derivedKey(secret: string, purpose: string, info: string, use: keyof typeof KEY_USES): Promise<CryptoKey> {
  const id = `${use}\u0000${purpose}\u0000${info}\u0000${secret}`;
  let key = derivedKeys.get(id);
  if (!key) {
    key = (async () => {
      if (!secret || secret.length < MIN_SECRET_LENGTH) throw new Error(`KEY_ENCRYPTION_SECRET must be set (at least ${MIN_SECRET_LENGTH} characters)`);
      const ikm = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
      const { algorithm, usages } = KEY_USES[use];
      return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(purpose), info: encoder.encode(info) }, ikm, algorithm, false, usages);
    })();
    if (derivedKeys.size >= 1024) derivedKeys.clear();
    derivedKeys.set(id, key);
  }
  return key;
}

/** derivedKey for HMAC-SHA-256 signing. */
export function derivedHmacKey(secret: string, purpose: string, info = ""): Promise<CryptoKey> {
  return derivedKey(secret, purpose, info, "hmac");
}

/** HMAC-SHA-256 of `text` under `key`. */
export async function hmacSha256(key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
}
