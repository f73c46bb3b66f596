/**
 * OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, as the
 * MCP authorization spec 2025-11-25 uses it): an https URL used as `client_id` names a JSON
 * document of the client's metadata, which Latch fetches instead of a registration.
 *
 * - The URL: https (http on loopback in development only), a path other than `/`, no dot
 *   segments, no fragment, no credentials, and a target http/ssrf.ts allows.
 * - The fetch (http/outbound.ts): no redirects followed, 5 s, at most 5 KiB.
 * - The document: a JSON object whose `client_id` equals the URL exactly (simple string
 *   comparison), no shared secret, and metadata as client-registration.ts checks it. Its
 *   redirect URIs are then matched exactly like any client's.
 * - Cache: per isolate, for the response's `max-age` clamped to 1 minute – 1 day (5 minutes
 *   without one); failures for 30 s, so a bad URL cannot make every request fetch.
 *
 * Such clients are never stored: they are public, third-party (consent screen) clients.
 */
import type { OutboundRules } from "../http/ssrf";
import { outboundProblem } from "../http/ssrf";
import { boundedGet } from "../http/outbound";
import { isPlainObject } from "../http/body";
import { parseClientMetadata, type ClientMetadata } from "./client-registration";
import type { Client } from "./clients";

export const METADATA_DOCUMENT_LIMITS = {
  maxBytes: 5 * 1024,
  timeoutMs: 5000,
  minCacheMs: 60_000,
  maxCacheMs: 24 * 3600_000,
  defaultCacheMs: 5 * 60_000,
  failureCacheMs: 30_000,
  maxEntries: 1000,
} as const;

/** Whether a client id is meant as a metadata document URL (rather than an id Latch issued). */
export function isMetadataUrl(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/** Why `clientId` cannot be a Client ID Metadata Document URL, or null (pure). */
export function metadataUrlProblem(clientId: string, rules: OutboundRules): string | null {
  if (clientId.length > 2048) return "the URL is too long";
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return "not a URL";
  }
  if (clientId.includes("#")) return "the URL may not have a fragment";
  const rawPath = clientId.replace(/^[a-z]+:\/\/[^/?#]*/i, "").split(/[?#]/)[0]!;
  if (!rawPath || rawPath === "/") return "the URL must have a path";
  if (rawPath.split("/").some((seg) => /^(\.|%2e){1,2}$/i.test(seg))) return "the URL may not have dot segments";
  return outboundProblem(url, rules);
}

/** How long a fetched document is kept, from its Cache-Control (pure). */
export function cacheLifetimeMs(cacheControl: string | null): number {
  const L = METADATA_DOCUMENT_LIMITS;
  if (cacheControl && /(^|[,\s])(no-store|no-cache)([,\s]|$)/i.test(cacheControl)) return L.minCacheMs;
  const maxAge = cacheControl ? /max-age=(\d+)/i.exec(cacheControl) : null;
  if (!maxAge) return L.defaultCacheMs;
  return Math.min(L.maxCacheMs, Math.max(L.minCacheMs, Number(maxAge[1]) * 1000));
}

/** The document's metadata, or why it is refused (pure). */
export function documentMetadata(url: string, doc: unknown, knownScopes: readonly string[]): { ok: true; metadata: ClientMetadata } | { ok: false; reason: string } {
  if (!isPlainObject(doc)) return { ok: false, reason: "the document is not a JSON object" };
  if (doc.client_id !== url) return { ok: false, reason: "the document's client_id is not its URL" };
  const checked = parseClientMetadata(doc, { knownScopes, document: true });
  return checked.ok ? checked : { ok: false, reason: checked.description };
}

/** A metadata document as a client of `appId` (public, third-party, never stored). */
export function documentClient(appId: string, url: string, metadata: ClientMetadata): Client {
  return {
    id: url,
    appId,
    name: metadata.client_name ?? new URL(url).host,
    type: "public",
    secretHash: null,
    redirectUris: metadata.redirect_uris,
    postLogoutRedirectUris: [],
    allowedOrigins: [],
    scopes: [],
    refreshTokenDelivery: "body",
    legacyScopes: false,
    registration: "document",
    audiences: [],
    metadata,
    registrationTokenHash: null,
    createdAt: 0,
    lastUsedAt: null,
  };
}

type Cached = { until: number; result: { ok: true; metadata: ClientMetadata } | { ok: false; reason: string } };
const cache = new Map<string, Cached>();

export function clearMetadataDocumentCache(): void {
  cache.clear();
}

export type DocumentResult = { ok: true; client: Client } | { ok: false; reason: string };

/** The client a metadata document URL names, fetched or from the cache. */
export async function metadataDocumentClient(appId: string, url: string, rules: OutboundRules, knownScopes: readonly string[], now = Date.now()): Promise<DocumentResult> {
  const problem = metadataUrlProblem(url, rules);
  if (problem) return { ok: false, reason: problem };
  let hit = cache.get(url);
  if (!hit || hit.until <= now) {
    hit = await fetchDocument(url, rules, knownScopes, now);
    if (cache.size >= METADATA_DOCUMENT_LIMITS.maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(url, hit);
  }
  return hit.result.ok ? { ok: true, client: documentClient(appId, url, hit.result.metadata) } : hit.result;
}

async function fetchDocument(url: string, rules: OutboundRules, knownScopes: readonly string[], now: number): Promise<Cached> {
  const L = METADATA_DOCUMENT_LIMITS;
  const failed = (reason: string): Cached => ({ until: now + L.failureCacheMs, result: { ok: false, reason } });
  const fetched = await boundedGet(url, rules, { maxBytes: L.maxBytes, timeoutMs: L.timeoutMs, accept: "application/json" });
  if (!fetched.ok) return failed(fetched.reason);
  if (fetched.status !== 200) return failed(`the document answered ${fetched.status}`);
  if (!/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(fetched.headers.get("content-type") ?? "")) return failed("the document is not application/json");
  let doc: unknown;
  try {
    doc = JSON.parse(fetched.text);
  } catch {
    return failed("the document is not valid JSON");
  }
  const result = documentMetadata(url, doc, knownScopes);
  return result.ok ? { until: now + cacheLifetimeMs(fetched.headers.get("cache-control")), result } : failed(result.reason);
}
