/**
 * The app a request's Host serves (SPEC §1), as middleware for every host-selected route:
 * OAuth, the hosted pages, passkeys. Sets `app` and `issuer` (the origin the client used).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { OAuthError } from "../http/errors";
import { appByHost, requestIssuer, type App } from "./apps";

export type HostVars = { app: App; issuer: string };

export function requestHost(c: Context): string {
  return c.req.header("host") ?? new URL(c.req.url).host;
}

/** Resolves the app from the Host header; 404 when no app serves it. */
export const hostApp: MiddlewareHandler<{ Bindings: Env; Variables: HostVars }> = async (c, next) => {
  const host = requestHost(c);
  const app = await appByHost(c.env, host);
  if (!app) throw new OAuthError("not_found", "No app is served at this host.");
  c.set("app", app);
  c.set("issuer", requestIssuer(host));
  await next();
};
