/**
 * Per-app signing keys (SPEC §4): created on first need, encrypted at rest, cached per
 * isolate with their imported CryptoKeys so the token path does no D1 read and no
 * decryption once warm.
 *
 * Lifecycle: every alg has one `active` key (signs) and one `next` key (published in the
 * JWKS, not yet signing). Rotation retires the active key (kept in the JWKS until every
 * token it signed has expired), promotes `next`, and publishes a new `next`. So a key
 * is in every verifier's JWKS cache for at least one rotation before it signs anything.
 */
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Env } from "../env";
import type { SigningAlg } from "../tenancy/settings";
import type { App } from "../tenancy/apps";
import { ALPHANUMERIC, base64url, randomId } from "../util/crypto";
import { openJwk, sealJwk } from "./seal";

export type KeyStatus = "next" | "active" | "retired";

export interface SigningKey {
  kid: string;
  appId: string;
  alg: SigningAlg;
  status: KeyStatus;
  publicJwk: JWK;
  /** ms; retired keys leave the JWKS after this. */
  expiresAt: number | null;
  sealed: string;
  signer?: Promise<CryptoKey>;
  verifier?: Promise<CryptoKey>;
}

interface KeyRow {
  kid: string;
  app_id: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  status: KeyStatus;
  expires_at: number | null;
}

/** Other isolates notice a rotation within this long; retirement accounts for it. */
export const KEY_CACHE_TTL_MS = 5 * 60_000;
/** Clock skew verifiers may allow; a retired key outlives its last token by this much. */
const SKEW_MS = 5 * 60_000;
/** An unknown kid makes us re-read the keys at most this often per app. */
const MISS_RELOAD_MS = 10_000;

const cache = new Map<string, { keys: SigningKey[]; until: number; loadedAt: number }>();

/** Headers the tokens carry; a kid is chosen so these encode without `-` or `_` (see pickKid). */
export const TOKEN_TYPS = ["at+jwt", "JWT"] as const;

/**
 * Kinde's validator decodes the JWT header with plain `atob`, which refuses the base64url
 * characters `-` and `_`. The header is fixed per key and typ, so pick a kid whose headers
 * happen to avoid them (about one try in thirty).
 */
export function pickKid(alg: SigningAlg): string {
  for (;;) {
    const kid = randomId(20, ALPHANUMERIC);
    const clean = TOKEN_TYPS.every((typ) => !/[-_]/.test(base64url(new TextEncoder().encode(JSON.stringify({ alg, kid, typ })))));
    if (clean) return kid;
  }
}

function fromRow(row: KeyRow): SigningKey {
  return {
    kid: row.kid,
    appId: row.app_id,
    alg: row.alg as SigningAlg,
    status: row.status,
    publicJwk: JSON.parse(row.public_jwk) as JWK,
    expiresAt: row.expires_at,
    sealed: row.private_jwk,
  };
}

async function load(env: Env, appId: string): Promise<SigningKey[]> {
  const { results } = await env.DB.prepare(
    "SELECT kid, app_id, alg, public_jwk, private_jwk, status, expires_at FROM signing_keys WHERE app_id = ? AND (status != 'retired' OR expires_at > ?) ORDER BY created_at",
  )
    .bind(appId, Date.now())
    .all<KeyRow>();
  const previous = cache.get(appId)?.keys ?? [];
  const keys = results.map((row) => {
    const known = previous.find((k) => k.kid === row.kid);
    // Keep imported CryptoKeys across reloads; only the status may have changed.
    return known ? { ...known, status: row.status, expiresAt: row.expires_at } : fromRow(row);
  });
  const now = Date.now();
  cache.set(appId, { keys, until: now + KEY_CACHE_TTL_MS, loadedAt: now });
  return keys;
}

/** The app's non-expired keys (cached). */
export async function appKeys(env: Env, appId: string, fresh = false): Promise<SigningKey[]> {
  const hit = cache.get(appId);
  if (!fresh && hit && hit.until > Date.now()) return hit.keys;
  return load(env, appId);
}

export function clearKeyCache(appId?: string): void {
  if (appId) cache.delete(appId);
  else cache.clear();
}

async function newKeyRow(env: Env, appId: string, alg: SigningAlg) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "RS256" ? { modulusLength: 2048 } : {}) });
  const kid = pickKid(alg);
  const pub = await exportJWK(publicKey);
  const priv = await exportJWK(privateKey);
  const publicJwk: JWK = { ...pub, kid, alg, use: "sig" };
  return { kid, publicJwk: JSON.stringify(publicJwk), sealed: await sealJwk(env, appId, kid, { ...priv, kid, alg }) };
}

function insertIfAbsent(env: Env, appId: string, alg: SigningAlg, status: "active" | "next", key: { kid: string; publicJwk: string; sealed: string }, now: number) {
  return env.DB.prepare(
    `INSERT INTO signing_keys (kid, app_id, alg, public_jwk, private_jwk, status, created_at, activated_at)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE ?6 WHEN 'active' THEN ?7 END
      WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE app_id = ?2 AND alg = ?3 AND status = ?6)`,
  ).bind(key.kid, appId, alg, key.publicJwk, key.sealed, status, now);
}

/** Retires the active keys of other algs (after the app switched `signing_alg`). */
function retireOtherAlgs(env: Env, app: App, now: number) {
  return env.DB.prepare(
    "UPDATE signing_keys SET status = 'retired', retired_at = ?1, expires_at = CASE WHEN status = 'next' THEN ?1 ELSE ?2 END WHERE app_id = ?3 AND alg != ?4 AND status IN ('active', 'next')",
  ).bind(now, now + retirementMs(app), app.id, app.settings.signing_alg);
}

/** How long a retired key must stay published: its last token's life plus caches and skew. */
export function retirementMs(app: App): number {
  return app.settings.access_token_ttl * 1000 + KEY_CACHE_TTL_MS + SKEW_MS;
}

/**
 * Creates the active and next keys of the app's alg when missing. Concurrent callers
 * (other isolates) race safely: the inserts are conditional, the loser reads the winner's.
 */
async function ensureKeys(env: Env, app: App): Promise<SigningKey[]> {
  const alg = app.settings.signing_alg;
  const now = Date.now();
  const [active, next] = await Promise.all([newKeyRow(env, app.id, alg), newKeyRow(env, app.id, alg)]);
  await env.DB.batch([retireOtherAlgs(env, app, now), insertIfAbsent(env, app.id, alg, "active", active, now), insertIfAbsent(env, app.id, alg, "next", next, now + 1)]);
  return load(env, app.id);
}

function hasKeys(keys: SigningKey[], alg: SigningAlg): boolean {
  return keys.some((k) => k.alg === alg && k.status === "active") && keys.some((k) => k.alg === alg && k.status === "next");
}

/** The key that signs for the app now (created on first need). */
export async function activeKey(env: Env, app: App): Promise<SigningKey> {
  const alg = app.settings.signing_alg;
  let keys = await appKeys(env, app.id);
  let key = keys.find((k) => k.alg === alg && k.status === "active");
  if (!key) {
    keys = await appKeys(env, app.id, true);
    if (!hasKeys(keys, alg)) keys = await ensureKeys(env, app);
    key = keys.find((k) => k.alg === alg && k.status === "active");
  }
  if (!key) throw new Error(`no active ${alg} key for app ${app.id}`);
  return key;
}

/** Keys the JWKS publishes: next, active and retired-but-not-expired. */
export async function publishedKeys(env: Env, app: App): Promise<SigningKey[]> {
  await activeKey(env, app);
  const now = Date.now();
  return (await appKeys(env, app.id)).filter((k) => k.status !== "retired" || (k.expiresAt ?? 0) > now);
}

/** A published key by kid, re-reading D1 (throttled) when the kid is new to this isolate. */
export async function keyByKid(env: Env, appId: string, kid: string): Promise<SigningKey | null> {
  let keys = await appKeys(env, appId);
  let key = keys.find((k) => k.kid === kid);
  const hit = cache.get(appId);
  if (!key && hit && Date.now() - hit.loadedAt > MISS_RELOAD_MS) {
    keys = await appKeys(env, appId, true);
    key = keys.find((k) => k.kid === kid);
  }
  if (!key || (key.status === "retired" && (key.expiresAt ?? 0) <= Date.now())) return null;
  return key;
}

export function signerOf(env: Env, key: SigningKey): Promise<CryptoKey> {
  key.signer ??= openJwk(env, key.appId, key.kid, key.sealed).then((jwk) => importJWK(jwk as JWK, key.alg) as Promise<CryptoKey>);
  return key.signer;
}

export function verifierOf(key: SigningKey): Promise<CryptoKey> {
  key.verifier ??= importJWK(key.publicJwk, key.alg) as Promise<CryptoKey>;
  return key.verifier;
}

/**
 * Rotation, by the operator (`POST /admin/apps/{id}/keys/rotate`) or on the app's schedule
 * (keys/rotation.ts): the current `next` key starts signing, the active one retires (still
 * published until its tokens expire), and a fresh `next` is published. Returns the new
 * signing kid and the newly published next kid.
 */
export async function rotateKeys(env: Env, app: App, now = Date.now()): Promise<{ kid: string; next_kid: string; retired_kid: string }> {
  const alg = app.settings.signing_alg;
  const current = await activeKey(env, app);
  const keys = await appKeys(env, app.id, true);
  const next = keys.find((k) => k.alg === alg && k.status === "next");
  const active = keys.find((k) => k.alg === alg && k.status === "active") ?? current;
  if (!next) throw new Error(`app ${app.id} has no next ${alg} key`);
  const fresh = await newKeyRow(env, app.id, alg);
  await env.DB.batch([
    env.DB.prepare("UPDATE signing_keys SET status = 'retired', retired_at = ?, expires_at = ? WHERE kid = ? AND app_id = ? AND status = 'active'").bind(
      now,
      now + retirementMs(app),
      active.kid,
      app.id,
    ),
    env.DB.prepare("UPDATE signing_keys SET status = 'active', activated_at = ? WHERE kid = ? AND app_id = ? AND status = 'next'").bind(now, next.kid, app.id),
    insertIfAbsent(env, app.id, alg, "next", fresh, now),
  ]);
  await load(env, app.id);
  return { kid: next.kid, next_kid: fresh.kid, retired_kid: active.kid };
}
