/**
 * Every cookie Latch sets (SPEC §4, §6), as pure functions of the app and the request's
 * host, written by one serializer (hono's generateCookie):
 *
 * - Session (`latch_session`): the auth-host session the hosted login begins. Cookie mode
 *   scopes it to the custom domain so every `*.{custom}` app origin is same-site with it;
 *   exchange mode keeps it host-only (`__Host-`), it only serves the hosted pages there.
 * - Refresh (`latch_rt`): exchange mode's refresh token for browsers, partitioned by the
 *   app's top-level site (CHIPS), so it reaches Latch only from the site that got it.
 * - Pre-login (`latch_csrf`): binds the hosted forms' CSRF tokens and WebAuthn challenges
 *   to one browser, host-only.
 * - `_kbrte`: Kinde's browser SDKs look for this readable marker before they try a cookie
 *   refresh; it carries no secret.
 *
 * Local development (a `*.localhost`/loopback host, served over http) drops the `__Secure-`/`__Host-`
 * prefixes, and `Secure` where the cookie can live without it. The refresh cookie keeps
 * `Secure`: browsers refuse `SameSite=None` without it, and Chromium accepts `Secure`
 * cookies from http://*.localhost (it is a secure context), so keeping it is what makes
 * exchange mode work locally at all.
 */
import { generateCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import { isLocalHost, type App } from "../tenancy/apps";

export type BrowserMode = "cookie" | "exchange";

/** SPEC §6: cookie mode exactly when the app has a custom domain. */
export function browserMode(app: Pick<App, "customDomain">): BrowserMode {
  return app.customDomain ? "cookie" : "exchange";
}

/** Where a cookie is being set: the app and the request's Host. */
export interface CookieSite {
  app: Pick<App, "customDomain">;
  host: string;
}

/**
 * True only for localhost and loopback hosts, which Latch serves over plain http (their
 * issuer is `http://…`, see requestIssuer): nowhere else are prefixes dropped.
 */
export function isLocalDev(site: Pick<CookieSite, "host">): boolean {
  return isLocalHost(site.host);
}

export const SESSION = "latch_session";
export const REFRESH = "latch_rt";
export const CSRF = "latch_csrf";
export const KINDE_MARKER = "_kbrte";

/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis); hono refuses longer ones. */
const MAX_COOKIE_AGE = 400 * 24 * 3600;

type Spec = { name: string; options: CookieOptions };

function sessionSpec(site: CookieSite): Spec {
  const local = isLocalDev(site);
  const cookieMode = browserMode(site.app) === "cookie";
  const options: CookieOptions = { path: "/", httpOnly: true, sameSite: "Lax", secure: !local };
  if (cookieMode) options.domain = site.app.customDomain as string;
  if (!local) options.prefix = cookieMode ? "secure" : "host";
  return { name: SESSION, options };
}

function refreshSpec(site: CookieSite): Spec {
  const options: CookieOptions = { path: "/", httpOnly: true, sameSite: "None", secure: true, partitioned: true };
  if (!isLocalDev(site)) options.prefix = "host";
  return { name: REFRESH, options };
}

function csrfSpec(site: Pick<CookieSite, "host">): Spec {
  const local = isLocalDev(site);
  return { name: CSRF, options: { path: "/", httpOnly: true, sameSite: "Lax", secure: !local, ...(local ? {} : { prefix: "host" as const }) } };
}

function fullName(spec: Spec): string {
  return spec.options.prefix === "host" ? `__Host-${spec.name}` : spec.options.prefix === "secure" ? `__Secure-${spec.name}` : spec.name;
}

function write(spec: Spec, value: string, maxAge: number): string {
  return generateCookie(spec.name, value, { ...spec.options, maxAge: Math.min(MAX_COOKIE_AGE, Math.max(0, Math.floor(maxAge))) });
}

export function sessionCookieName(site: CookieSite): string {
  return fullName(sessionSpec(site));
}

export function refreshCookieName(site: CookieSite): string {
  return fullName(refreshSpec(site));
}

export function csrfCookieName(site: Pick<CookieSite, "host">): string {
  return fullName(csrfSpec(site));
}

/** `Set-Cookie` for the session; `maxAge` in seconds (the session's remaining life). */
export function sessionCookie(site: CookieSite, token: string, maxAge: number): string {
  return write(sessionSpec(site), token, maxAge);
}

export function clearSessionCookie(site: CookieSite): string {
  return write(sessionSpec(site), "", 0);
}

/** `Set-Cookie` for a browser's refresh token; see refreshCookieValue for the value. */
export function refreshCookie(site: CookieSite, value: string, maxAge: number): string {
  return write(refreshSpec(site), value, maxAge);
}

export function clearRefreshCookie(site: CookieSite): string {
  return write(refreshSpec(site), "", 0);
}

export function csrfCookie(site: Pick<CookieSite, "host">, value: string, maxAge: number): string {
  return write(csrfSpec(site), value, maxAge);
}

/**
 * Kinde's marker that a refresh cookie exists. Readable by script (that is its purpose),
 * scoped to the custom domain in cookie mode so the app's own pages can see it.
 */
export function kindeMarkerCookie(site: CookieSite, maxAge: number): string {
  const session = sessionSpec(site).options;
  const options: CookieOptions = { path: "/", sameSite: "Lax", secure: session.secure, ...(session.domain ? { domain: session.domain } : {}) };
  return write({ name: KINDE_MARKER, options }, maxAge > 0 ? "1" : "", maxAge);
}

/**
 * The refresh cookie's value: `{client_id}~{refresh_token}`. `POST /refresh` may come with
 * an empty body, and a rotation is bound to its client, so the cookie carries which client
 * it was issued to. Neither part contains `~`; both are cookie-safe characters.
 */
export function refreshCookieValue(clientId: string, refreshToken: string): string {
  return `${clientId}~${refreshToken}`;
}

export function parseRefreshCookieValue(value: string): { clientId: string; refreshToken: string } | null {
  const at = value.indexOf("~");
  if (at <= 0 || at !== value.lastIndexOf("~") || at === value.length - 1) return null;
  return { clientId: value.slice(0, at), refreshToken: value.slice(at + 1) };
}

/**
 * Reads one cookie from a `Cookie` header. A name that arrives more than once is ambiguous
 * (a sibling subdomain can toss a second cookie of the same name, with a longer Path, to
 * be sent first), so it counts as absent rather than letting their order choose.
 */
export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  let found: string | null = null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    if (found !== null) return null;
    found = part.slice(eq + 1).trim();
  }
  return found;
}
