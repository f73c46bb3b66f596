/** What every OAuth route shares: the app chosen by Host, its issuer, no-store responses. */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { OAuthError } from "../http/errors";
import { appByHost, requestIssuer, type App } from "../tenancy/apps";

export type OAuthVars = { app: App; issuer: string };
export type OAuthEnv = { Bindings: Env; Variables: OAuthVars };
export type OAuthContext = Context<OAuthEnv>;

export function requestHost(c: Context): string {
  return c.req.header("host") ?? new URL(c.req.url).host;
}

/** Resolves the app from the Host header (SPEC §1); 404 when no app serves it. */
export const oauthApp: MiddlewareHandler<OAuthEnv> = async (c, next) => {
  const host = requestHost(c);
  const app = await appByHost(c.env, host);
  if (!app) throw new OAuthError("not_found", "No app is served at this host.");
  c.set("app", app);
  c.set("issuer", requestIssuer(host));
  await next();
};

export const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

/** A token-endpoint style JSON response: never cached (RFC 6749 §5.1). */
export function tokenJson(c: OAuthContext, body: Record<string, unknown>, status: 200 = 200): Response {
  return c.json(body, status, NO_STORE);
}
