/**
 * Which browser origins may call an app's CORS routes (the token, userinfo, revocation and
 * JWKS routes, and the credentialed browser endpoints): the app's `allowed_origins`
 * setting plus every client's `allowed_origins`.
 *
 * Cached per isolate, like apps: a hit needs no D1 read. An origin not in the cached list
 * re-reads D1 unless that same origin was refused within RECHECK_MS, so a client added a
 * moment ago works at once from its new origin. A stream of foreign origins costs at most
 * MAX_RELOADS reads per app per RECHECK_MS: past that budget a miss is refused from cache.
 */
import type { Env } from "../env";
import { clientOrigins } from "../identity/clients";
import type { App } from "./apps";

const CACHE_TTL_MS = 30_000;
const RECHECK_MS = 2_000;
const MAX_RELOADS = 10;
const MAX_REMEMBERED_MISSES = 10_000;

interface CachedOrigins {
  origins: Set<string>;
  at: number;
  /** Reloads caused by misses in the current RECHECK_MS window, and its start. */
  reloads: number;
  reloadWindow: number;
}

const cache = new Map<string, CachedOrigins>();
/** `${appId} ${origin}` → when D1 last said no. */
const misses = new Map<string, number>();

async function loadOrigins(env: Env, app: App): Promise<Set<string>> {
  const origins = new Set(app.settings.allowed_origins);
  for (const origin of await clientOrigins(env, app.id)) origins.add(origin);
  return origins;
}

/** True when `origin` is on the app's allow-list (exact match, scheme and port included). */
export async function isAllowedOrigin(env: Env, app: App, origin: string, now = Date.now()): Promise<boolean> {
  const hit = cache.get(app.id);
  const fresh = hit !== undefined && now - hit.at < CACHE_TTL_MS;
  if (fresh && hit.origins.has(origin)) return true;
  const missKey = `${app.id} ${origin}`;
  if (fresh && (now - (misses.get(missKey) ?? -Infinity) < RECHECK_MS || !takeReload(hit, now))) return false;

  const origins = await loadOrigins(env, app);
  cache.set(app.id, { origins, at: now, reloads: fresh ? hit.reloads : 0, reloadWindow: fresh ? hit.reloadWindow : now });
  if (origins.has(origin)) {
    misses.delete(missKey);
    return true;
  }
  if (misses.size >= MAX_REMEMBERED_MISSES) misses.delete(misses.keys().next().value as string);
  misses.set(missKey, now);
  return false;
}

/** Spends one miss-caused reload from the app's budget for this window; false when none is left. */
function takeReload(entry: CachedOrigins, now: number): boolean {
  if (now - entry.reloadWindow >= RECHECK_MS) {
    entry.reloadWindow = now;
    entry.reloads = 0;
  }
  if (entry.reloads >= MAX_RELOADS) return false;
  entry.reloads += 1;
  return true;
}

export function clearOriginCache(): void {
  cache.clear();
  misses.clear();
}

