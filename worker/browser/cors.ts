/**
 * The browser endpoints' front door: resolve the app by Host, admit the request by its
 * Origin and Fetch Metadata (origin.ts), answer CORS preflights, and tag every answer,
 * refusals included, with `Vary: Origin` and (for allow-listed origins only) credentialed
 * CORS headers. `Access-Control-Allow-Origin` is only ever an exact allowed origin: never
 * `*`, since every answer here is credentialed.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { errorBody, OAuthError } from "../http/errors";
import { appByHost, requestIssuer, type App } from "../tenancy/apps";
import type { CookieSite } from "../sessions/cookies";
import { isAllowedOrigin } from "../tenancy/origins";
import { admit, type OriginKind } from "./origin";

export type BrowserVars = { app: App; site: CookieSite; originKind: OriginKind };
export type BrowserEnv = { Bindings: Env; Variables: BrowserVars };
export type BrowserContext = Context<BrowserEnv>;

/** Request headers a credentialed caller may send (Kinde's SDKs add `Kinde-SDK`). */
const ALLOWED_HEADERS = new Set(["content-type", "authorization", "kinde-sdk", "x-requested-with"]);
const PREFLIGHT_MAX_AGE = "600";

function refuse(c: Context, error: OAuthError): Response {
  const res = c.json(errorBody(error) as object, error.status as 403, error.headers);
  res.headers.append("Vary", "Origin");
  return res;
}

export async function classifyOrigin(env: Env, app: App, host: string, origin: string | undefined): Promise<OriginKind> {
  if (origin === undefined) return "absent";
  if (origin === requestIssuer(host)) return "issuer";
  if (origin === "null" || origin.length > 255) return "foreign";
  return (await isAllowedOrigin(env, app, origin)) ? "allowed" : "foreign";
}

/** Sets the credentialed CORS headers on `res` for an allow-listed origin; always varies on Origin. */
export function applyCors(res: Response, origin: string | undefined, kind: OriginKind): void {
  if (!res.headers.get("Vary")?.split(",").some((v) => v.trim().toLowerCase() === "origin")) res.headers.append("Vary", "Origin");
  if (kind === "allowed" && origin) {
    res.headers.set("Access-Control-Allow-Origin", origin);
    res.headers.set("Access-Control-Allow-Credentials", "true");
  }
}

/** Resolves the app from Host and gates the request; `methods` are those the route serves. */
export function browserGate(methods: string[]): MiddlewareHandler<BrowserEnv> {
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    const app = await appByHost(c.env, host);
    if (!app) return refuse(c, new OAuthError("not_found", `No app is served at ${host}.`));
    const origin = c.req.header("origin");
    const kind = await classifyOrigin(c.env, app, host, origin);
    c.set("app", app);
    c.set("site", { app, host });
    c.set("originKind", kind);

    if (c.req.method === "OPTIONS") {
      const method = c.req.header("access-control-request-method") ?? "";
      const requested = (c.req.header("access-control-request-headers") ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      if (kind !== "allowed") return refuse(c, new OAuthError("access_denied", "The request's Origin is not allowed for this app.", 403));
      if (!methods.includes(method) || requested.some((h) => !ALLOWED_HEADERS.has(h))) {
        return refuse(c, new OAuthError("access_denied", "This method or header is not allowed here.", 403));
      }
      const res = c.body(null, 204, {
        "Access-Control-Allow-Methods": methods.join(", "),
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        ...(requested.length ? { "Access-Control-Allow-Headers": requested.join(", ") } : {}),
      });
      applyCors(res, origin, kind);
      return res;
    }

    const verdict = admit({ method: c.req.method, origin: kind, fetchSite: c.req.header("sec-fetch-site") ?? null });
    if (!verdict.ok) return refuse(c, new OAuthError("access_denied", verdict.reason, 403));
    await next();
    applyCors(c.res, origin, kind);
  };
}
