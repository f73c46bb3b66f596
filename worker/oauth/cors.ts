/**
 * CORS for the token, userinfo, revocation and JWKS routes (SPEC §4): only origins on the
 * app's allow-list (tenancy/origins.ts), echoed exactly, never `*`, no credentials (these
 * routes take bearer tokens and form posts, not cookies), except the token endpoint.
 */
import type { MiddlewareHandler } from "hono";
import { isAllowedOrigin } from "../tenancy/origins";
import type { OAuthEnv } from "./context";

/**
 * Adds CORS headers for allowed origins and answers preflights. `credentials`: the token
 * endpoint, whose browser answers set and read the exchange-mode refresh cookie (SPEC §6).
 */
export function oauthCors(methods: string, credentials = false): MiddlewareHandler<OAuthEnv> {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const allowed = origin ? await isAllowedOrigin(c.env, c.var.app, origin) : false;
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
