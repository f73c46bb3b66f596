/**
 * CORS for the token, userinfo, revocation and JWKS routes (SPEC §4): only origins
 * registered on one of the app's clients or in the app's `allowed_origins`, echoed
 * exactly, never `*`, no credentials (these routes take bearer tokens and form posts,
 * not cookies). The allow-list is cached per isolate like the app itself.
 */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";
import type { App } from "../tenancy/apps";
import type { OAuthEnv } from "./context";

const TTL_MS = 30_000;
const cache = new Map<string, { origins: Set<string>; until: number }>();

export async function registeredOrigins(env: Env, app: App): Promise<Set<string>> {
  const hit = cache.get(app.id);
  if (hit && hit.until > Date.now()) return hit.origins;
  const { results } = await env.DB.prepare("SELECT allowed_origins FROM clients WHERE app_id = ?").bind(app.id).all<{ allowed_origins: string }>();
  const origins = new Set<string>(app.settings.allowed_origins);
  for (const row of results) for (const o of JSON.parse(row.allowed_origins) as string[]) origins.add(o);
  cache.set(app.id, { origins, until: Date.now() + TTL_MS });
  return origins;
}

export function clearOriginCache(): void {
  cache.clear();
}

/**
 * Adds CORS headers for allowed origins and answers preflights. `credentials`: the token
 * endpoint, whose browser answers set and read the exchange-mode refresh cookie (SPEC §6).
 */
export function oauthCors(methods: string, credentials = false): MiddlewareHandler<OAuthEnv> {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const allowed = origin ? (await registeredOrigins(c.env, c.var.app)).has(origin) : false;
    if (c.req.method === "OPTIONS") {
      if (!allowed) return c.body(null, 403, { Vary: "Origin" });
      return c.body(null, 204, {
        "Access-Control-Allow-Origin": origin!,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": "Authorization, Content-Type, DPoP, Kinde-SDK",
        "Access-Control-Max-Age": "600",
        Vary: "Origin",
        ...(credentials ? { "Access-Control-Allow-Credentials": "true" } : {}),
      });
    }
    await next();
    c.res.headers.append("Vary", "Origin");
    if (allowed) {
      c.res.headers.set("Access-Control-Allow-Origin", origin!);
      c.res.headers.set("Access-Control-Expose-Headers", "WWW-Authenticate");
      if (credentials) c.res.headers.set("Access-Control-Allow-Credentials", "true");
    }
  };
}
