/**
 * Which browser origins may call an app's CORS routes (the token, userinfo, revocation and
 * JWKS routes, and the credentialed browser endpoints): the app's `allowed_origins`
 * setting plus every client's `allowed_origins`.
 *
 * Cached per isolate, like apps: a hit needs no D1 read. A miss (an origin not in the cached
 * list) re-reads D1 at most every RECHECK_MS, so a client added a moment ago works at once
 * while a stream of foreign origins costs at most one read per app per interval.
 */
import type { Env } from "../env";
import { clientOrigins } from "../identity/clients";
import type { App } from "./apps";

const CACHE_TTL_MS = 30_000;
const RECHECK_MS = 2_000;
const cache = new Map<string, { origins: Set<string>; at: number }>();

async function loadOrigins(env: Env, app: App): Promise<Set<string>> {
  const origins = new Set(app.settings.allowed_origins);
  for (const origin of await clientOrigins(env, app.id)) origins.add(origin);
  return origins;
}

/** True when `origin` is on the app's allow-list (exact match, scheme and port included). */
export async function isAllowedOrigin(env: Env, app: App, origin: string, now = Date.now()): Promise<boolean> {
  const hit = cache.get(app.id);
  if (hit && now - hit.at < CACHE_TTL_MS && (hit.origins.has(origin) || now - hit.at < RECHECK_MS)) return hit.origins.has(origin);
  const origins = await loadOrigins(env, app);
  cache.set(app.id, { origins, at: now });
  return origins.has(origin);
}

export function clearOriginCache(): void {
  cache.clear();
}

