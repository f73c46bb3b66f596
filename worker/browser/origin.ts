/**
 * Which browser origins may call an app's credentialed endpoints, and the pure rules that
 * decide a request from its `Origin` and Fetch Metadata (`Sec-Fetch-Site`, `Sec-Fetch-Mode`).
 *
 * The allow-list is the app's `allowed_origins` setting plus every client's `allowed_origins`.
 * It is cached per isolate, like apps: a hit needs no D1 read. A miss (an origin not in the
 * cached list) re-reads D1 at most every RECHECK_MS, so a client added a moment ago works at
 * once while a stream of foreign origins costs at most one read per app per interval.
 */
import type { Env } from "../env";
import type { App } from "../tenancy/apps";

const CACHE_TTL_MS = 30_000;
const RECHECK_MS = 2_000;
const cache = new Map<string, { origins: Set<string>; at: number }>();

async function loadOrigins(env: Env, app: App): Promise<Set<string>> {
  const { results } = await env.DB.prepare("SELECT allowed_origins FROM clients WHERE app_id = ?").bind(app.id).all<{ allowed_origins: string }>();
  const origins = new Set(app.settings.allowed_origins);
  for (const row of results) for (const origin of JSON.parse(row.allowed_origins) as string[]) origins.add(origin);
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

/** How the request's origin relates to the app. */
export type OriginKind =
  /** No `Origin` header: a same-origin GET, or not a browser. */
  | "absent"
  /** The auth host itself (its own hosted pages). */
  | "issuer"
  /** An exact entry of the allow-list. */
  | "allowed"
  /** Anything else, including the opaque `null`. */
  | "foreign";

export interface RequestFacts {
  method: string;
  origin: OriginKind;
  /** `Sec-Fetch-Site`, when the browser sent it. */
  fetchSite: string | null;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The admission rule of the session, token and refresh endpoints:
 * - a state-changing request needs an `Origin` that is the issuer or allow-listed;
 * - any request with a foreign `Origin` is refused (it could only be a page we do not trust);
 * - when Fetch Metadata says another site's or sibling origin's page sent the request, it must
 *   carry an allow-listed `Origin`. Browsers omit `Origin` on `no-cors` GETs (`<script>`,
 *   `<img>`) and on navigations, so this refuses those loads of these endpoints by other pages.
 */
export function admit(f: RequestFacts): Verdict {
  if (f.origin === "foreign") return { ok: false, reason: "The request's Origin is not allowed for this app." };
  if (!SAFE_METHODS.has(f.method) && f.origin === "absent") {
    return { ok: false, reason: "A state-changing request needs an Origin header." };
  }
  if (f.fetchSite === "same-site" || f.fetchSite === "cross-site") {
    if (f.origin !== "allowed" && f.origin !== "issuer") return { ok: false, reason: "Requests from another page must come from an allowed Origin." };
  }
  return { ok: true };
}
