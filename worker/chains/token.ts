/**
 * Refresh token wire format: `{b64url(appId)}.{b64url(userId)}.{chainId}.{secret}`.
 * Everything before the secret routes the request to the user's RefreshChains object
 * without a D1 read; the secret is 256 random bits of which only a SHA-256 is stored.
 * The routing part is not secret (it names the app, the user and the chain), the
 * secret part is the only thing that authorises a rotation.
 *
 * The chain id authenticates the routing part: 12 random hex characters and 12 of
 * HMAC-SHA256 over `appId:userId:nonce` under a key derived from the deployment secret.
 * A forged token is refused before any Durable Object is woken, so nobody can make the
 * worker create objects for made-up users.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64url, fromBase64url, hex, randomId, timingSafeEqual } from "../util/crypto";

export interface ParsedRefreshToken {
  appId: string;
  userId: string;
  chainId: string;
  secret: string;
}

const PART = /^[A-Za-z0-9_-]+$/;
const CHAIN_ID = /^[0-9a-f]{24}$/;
/** base64url of 32 bytes, unpadded. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;
const MAX_ID = 128;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function formatRefreshToken(appId: string, userId: string, chainId: string, secret: string): string {
  return `${base64url(encoder.encode(appId))}.${base64url(encoder.encode(userId))}.${chainId}.${secret}`;
}

function decodeId(part: string): string | null {
  if (!PART.test(part) || part.length > Math.ceil((MAX_ID * 4) / 3)) return null;
  try {
    const id = decoder.decode(fromBase64url(part));
    return id.length > 0 && id.length <= MAX_ID && base64url(encoder.encode(id)) === part ? id : null;
  } catch {
    return null;
  }
}

/** Null for anything that is not a well-formed Latch refresh token. */
export function parseRefreshToken(token: string): ParsedRefreshToken | null {
  if (typeof token !== "string" || token.length > 600) return null;
  const parts = token.split(".");
  if (parts.length !== 4) return null;
  const [a, u, chainId, secret] = parts as [string, string, string, string];
  // Canonical base64url only, so one secret has exactly one spelling.
  if (!CHAIN_ID.test(chainId) || !SECRET.test(secret) || base64url(fromBase64url(secret)) !== secret) return null;
  const appId = decodeId(a);
  const userId = decodeId(u);
  if (appId === null || userId === null) return null;
  return { appId, userId, chainId, secret };
}

const routingKeys = new Map<string, Uint8Array>();

/** The chain-id tag key, derived once per isolate from KEY_ENCRYPTION_SECRET. */
export function routingKey(deploymentSecret: string): Uint8Array {
  let key = routingKeys.get(deploymentSecret);
  if (!key) {
    key = hmac(sha256, encoder.encode(deploymentSecret), encoder.encode("latch refresh-chain routing v1"));
    routingKeys.set(deploymentSecret, key);
  }
  return key;
}

function tag(key: Uint8Array, appId: string, userId: string, nonce: string): string {
  return hex(hmac(sha256, key, encoder.encode(`${appId}:${userId}:${nonce}`))).slice(0, 12);
}

export function newChainId(key: Uint8Array, appId: string, userId: string): string {
  const nonce = randomId(12, "0123456789abcdef");
  return nonce + tag(key, appId, userId, nonce);
}

/** True when `chainId` was made by newChainId for this app and user. Constant time. */
export function chainIdAuthentic(key: Uint8Array, appId: string, userId: string, chainId: string): boolean {
  return CHAIN_ID.test(chainId) && timingSafeEqual(chainId.slice(12), tag(key, appId, userId, chainId.slice(0, 12)));
}
