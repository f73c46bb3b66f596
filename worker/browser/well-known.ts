/**
 * `/.well-known/kiavi-auth.json` (SPEC §6): what a browser SDK reads on first use to pick
 * its flow. Public and cacheable; it names endpoints and settings, never a secret.
 */
import { Hono } from "hono";
import type { Env } from "../env";
import { OAuthError } from "../http/errors";
import { appByHost, hostName, isLocalHost, requestIssuer, type App } from "../tenancy/apps";
import { browserMode } from "../sessions/cookies";

export const REFRESH_LEEWAY_SECONDS = 30;

/**
 * The issuer the document names when it is read on `host`. A custom-domain app is in
 * cookie mode wherever the file is read, and cookie mode works only on
 * `auth.{custom_domain}` (the session cookie is scoped to that domain), so the file read on
 * the app's Latch subdomain names that host: an SDK configured with the subdomain follows
 * it, and flips to cookie mode on its next page load. Local hosts keep the request's port.
 */
export function documentIssuer(app: Pick<App, "customDomain">, host: string): string {
  if (!app.customDomain) return requestIssuer(host);
  const auth = `auth.${app.customDomain}`;
  const port = host.slice(hostName(host).length);
  return requestIssuer(isLocalHost(auth) ? `${auth}${port}` : auth);
}

/** The document for `app` served at `issuer`. Pure. */
export function kiaviAuthConfig(app: App, issuer: string) {
  return {
    version: 1,
    issuer,
    app: { id: app.id, slug: app.slug },
    mode: browserMode(app),
    session_endpoint: `${issuer}/session`,
    session_token_endpoint: `${issuer}/session/token`,
    authorization_endpoint: `${issuer}/oauth2/auth`,
    token_endpoint: `${issuer}/oauth2/token`,
    refresh_endpoint: `${issuer}/refresh`,
    end_session_endpoint: `${issuer}/logout`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    cookie_domain: app.customDomain,
    access_token_lifetime: app.settings.access_token_ttl,
    refresh_leeway_seconds: REFRESH_LEEWAY_SECONDS,
    auth_policy: app.settings.auth_policy,
  };
}

const PUBLIC_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Cache-Control": "public, max-age=300",
};

export const kiaviAuthRoutes = new Hono<{ Bindings: Env }>();

kiaviAuthRoutes.options("/kiavi-auth.json", (c) =>
  c.body(null, 204, { ...PUBLIC_HEADERS, "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Max-Age": "86400" }),
);

kiaviAuthRoutes.get("/kiavi-auth.json", async (c) => {
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  const app = await appByHost(c.env, host);
  if (!app) throw new OAuthError("not_found", `No app is served at ${host}.`);
  return c.json(kiaviAuthConfig(app, documentIssuer(app, host)), 200, PUBLIC_HEADERS);
});
