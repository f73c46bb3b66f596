/**
 * The per-isolate cache of clients the token endpoint authenticates (oauth/client-auth.ts).
 * It lives here, below every face, so whoever changes a client (RFC 7592, the operator API,
 * the console) forgets it in this isolate at once; other isolates within CLIENT_TTL_MS.
 */
import type { Client } from "./clients";

export const CLIENT_TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;
const cache = new Map<string, { client: Client; until: number }>();

const keyOf = (appId: string, clientId: string) => `${appId}\u0000${clientId}`;

export function cachedClientEntry(appId: string, clientId: string, now = Date.now()): Client | undefined {
  const hit = cache.get(keyOf(appId, clientId));
  return hit && hit.until > now ? hit.client : undefined;
}

/** Only found clients are kept: a client created a moment ago must work at once. */
export function rememberClient(client: Client, now = Date.now()): void {
  if (cache.size > MAX_ENTRIES) cache.clear();
  cache.set(keyOf(client.appId, client.id), { client, until: now + CLIENT_TTL_MS });
}

export function forgetClient(appId: string, clientId: string): void {
  cache.delete(keyOf(appId, clientId));
}

export function clearClientCache(): void {
  cache.clear();
}
