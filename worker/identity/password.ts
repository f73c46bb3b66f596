/**
 * Password hashing (SPEC §10). Each hash carries its scheme and parameters:
 *   pbkdf2-sha256$i=100000$<salt>$<hash>
 *   scrypt$N=16384,r=8,p=1$<salt>$<hash>
 *   argon2id$m=19456,t=2,p=1$<salt>$<hash>
 * so parameters can change without a migration: a login with an older hash succeeds
 * and `needsRehash` tells the caller to store a fresh one.
 *
 * The default (CURRENT) was chosen by measuring each option inside workerd; the figures
 * and the reasoning are in the README ("Password hashing") and `bench/password-hash`.
 */
import { argon2idAsync } from "@noble/hashes/argon2.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { base64url, fromBase64url, randomBytes, timingSafeEqual } from "../util/crypto";

export type PasswordParams =
  | { scheme: "pbkdf2-sha256"; i: number }
  | { scheme: "scrypt"; N: number; r: number; p: number }
  | { scheme: "argon2id"; m: number; t: number; p: number };

/** Deployed Workers refuse PBKDF2 above 100,000 iterations (local workerd does not). */
export const PBKDF2_MAX_ITERATIONS = 100_000;

export const CURRENT: PasswordParams = { scheme: "scrypt", N: 16384, r: 8, p: 1 };

const KEY_BYTES = 32;
const encoder = new TextEncoder();

export async function hashPassword(password: string, params: PasswordParams = CURRENT): Promise<string> {
  const salt = randomBytes(16);
  const derived = await derive(password, salt, params);
  return [params.scheme, formatParams(params), base64url(salt), base64url(derived)].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  // An unusable hash (e.g. a user with no password yet) still costs one hash: no timing oracle.
  if (!parsed) return verifyPassword(password, await decoyHash()).then(() => false);
  const derived = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(base64url(derived), parsed.hash);
}

/** True when `stored` was made with other parameters than CURRENT. */
export function needsRehash(stored: string): boolean {
  return !stored.startsWith(`${CURRENT.scheme}$${formatParams(CURRENT)}$`);
}

/**
 * A hash of nothing anyone knows, verified when the user does not exist so that the
 * answer for an unknown username takes as long as a wrong password.
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(base64url(randomBytes(16)));
  return decoy;
}

async function derive(password: string, salt: Uint8Array, params: PasswordParams): Promise<Uint8Array> {
  const secret = encoder.encode(password.normalize("NFC"));
  switch (params.scheme) {
    case "pbkdf2-sha256": {
      if (params.i > PBKDF2_MAX_ITERATIONS) throw new Error("PBKDF2 iterations above the Workers cap");
      const key = await crypto.subtle.importKey("raw", secret, "PBKDF2", false, ["deriveBits"]);
      const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: params.i }, key, KEY_BYTES * 8);
      return new Uint8Array(bits);
    }
    case "scrypt":
      return scryptAsync(secret, salt, { N: params.N, r: params.r, p: params.p, dkLen: KEY_BYTES });
    case "argon2id":
      return argon2idAsync(secret, salt, { m: params.m, t: params.t, p: params.p, dkLen: KEY_BYTES });
  }
}

function formatParams(params: PasswordParams): string {
  switch (params.scheme) {
    case "pbkdf2-sha256":
      return `i=${params.i}`;
    case "scrypt":
      return `N=${params.N},r=${params.r},p=${params.p}`;
    case "argon2id":
      return `m=${params.m},t=${params.t},p=${params.p}`;
  }
}

function parseHash(stored: string): { params: PasswordParams; salt: Uint8Array; hash: string } | null {
  const [scheme, paramText, salt, hash] = stored.split("$");
  if (!scheme || !paramText || !salt || !hash) return null;
  const values = new Map(paramText.split(",").map((kv) => [kv.slice(0, kv.indexOf("=")), Number(kv.slice(kv.indexOf("=") + 1))]));
  const num = (key: string) => {
    const v = values.get(key);
    return v !== undefined && Number.isSafeInteger(v) && v > 0 ? v : NaN;
  };
  const ok = (...keys: string[]) => keys.every((k) => !Number.isNaN(num(k)));
  let params: PasswordParams;
  if (scheme === "pbkdf2-sha256" && ok("i")) params = { scheme, i: num("i") };
  else if (scheme === "scrypt" && ok("N", "r", "p")) params = { scheme, N: num("N"), r: num("r"), p: num("p") };
  else if (scheme === "argon2id" && ok("m", "t", "p")) params = { scheme, m: num("m"), t: num("t"), p: num("p") };
  else return null;
  return { params, salt: fromBase64url(salt), hash };
}
