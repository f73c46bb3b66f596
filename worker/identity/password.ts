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
import type { Env } from "../env";
import { base64url, fromBase64url, randomBytes, timingSafeEqual } from "../util/crypto";

export type PasswordParams =
  | { scheme: "pbkdf2-sha256"; i: number }
  | { scheme: "scrypt"; N: number; r: number; p: number }
  | { scheme: "argon2id"; m: number; t: number; p: number };

/** Deployed Workers refuse PBKDF2 above 100,000 iterations (local workerd does not). */
export const PBKDF2_MAX_ITERATIONS = 100_000;

/** What every deployment hashes with (README "Password hashing" says why). */
export const PRODUCTION_PARAMS: PasswordParams = { scheme: "scrypt", N: 16384, r: 8, p: 1 };

const KEY_BYTES = 32;
const encoder = new TextEncoder();

/**
 * The parameters new hashes are made with: PRODUCTION_PARAMS, unless the test-only
 * binding PASSWORD_HASH_PARAMS (`scrypt$N=1024,r=8,p=1`) names cheaper ones. Stored hashes
 * carry their own parameters, so a hash made at one cost verifies under any setting.
 */
export function passwordParams(env: Pick<Env, "PASSWORD_HASH_PARAMS">): PasswordParams {
  const text = env.PASSWORD_HASH_PARAMS;
  if (!text) return PRODUCTION_PARAMS;
  const [scheme, paramText] = text.split("$");
  const params = scheme && paramText ? parseParams(scheme, paramText) : null;
  if (!params) throw new Error(`PASSWORD_HASH_PARAMS is not scheme$params: ${text}`);
  return params;
}

export async function hashPassword(password: string, params: PasswordParams): Promise<string> {
  const salt = randomBytes(16);
  const derived = await derive(password, salt, params);
  return [params.scheme, formatParams(params), base64url(salt), base64url(derived)].join("$");
}

/** `current`: what an unusable stored hash is replaced by, so it costs as much as a real one. */
export async function verifyPassword(password: string, stored: string, current: PasswordParams): Promise<boolean> {
  const parsed = parseHash(stored);
  // An unusable hash (e.g. a user with no password yet) still costs one hash: no timing oracle.
  if (!parsed) return verifyPassword(password, await decoyHash(current), current).then(() => false);
  const derived = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(base64url(derived), parsed.hash);
}

/** True when `stored` was made with other parameters than `current`. */
export function needsRehash(stored: string, current: PasswordParams): boolean {
  return !stored.startsWith(`${current.scheme}$${formatParams(current)}$`);
}

/**
 * A hash of nothing anyone knows, verified when the user does not exist so that the
 * answer for an unknown username takes as long as a wrong password.
 */
const decoys = new Map<string, Promise<string>>();
export function decoyHash(current: PasswordParams): Promise<string> {
  const key = formatParams(current) + current.scheme;
  let decoy = decoys.get(key);
  if (!decoy) {
    decoy = hashPassword(base64url(randomBytes(16)), current);
    decoys.set(key, decoy);
  }
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
  const params = parseParams(scheme, paramText);
  return params ? { params, salt: fromBase64url(salt), hash } : null;
}

function parseParams(scheme: string, paramText: string): PasswordParams | null {
  const values = new Map(paramText.split(",").map((kv) => [kv.slice(0, kv.indexOf("=")), Number(kv.slice(kv.indexOf("=") + 1))]));
  const num = (key: string) => {
    const v = values.get(key);
    return v !== undefined && Number.isSafeInteger(v) && v > 0 ? v : NaN;
  };
  const ok = (...keys: string[]) => keys.every((k) => !Number.isNaN(num(k)));
  if (scheme === "pbkdf2-sha256" && ok("i")) return { scheme, i: num("i") };
  if (scheme === "scrypt" && ok("N", "r", "p")) return { scheme, N: num("N"), r: num("r"), p: num("p") };
  if (scheme === "argon2id" && ok("m", "t", "p")) return { scheme, m: num("m"), t: num("t"), p: num("p") };
  return null;
}
