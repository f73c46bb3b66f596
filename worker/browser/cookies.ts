/**
 * The browser cookies of SPEC §6, as pure functions of the app and the request's host.
 *
 * - Session (`latch_session`): the auth-host session the hosted login begins. Cookie mode
 *   scopes it to the custom domain so every `*.{custom}` app origin is same-site with it;
 *   exchange mode keeps it host-only (`__Host-`), it only serves the hosted pages there.
 * - Refresh (`latch_rt`): exchange mode's refresh token for browsers, partitioned by the
 *   app's top-level site (CHIPS), so it reaches Latch only from the site that got it.
 * - `_kbrte`: Kinde's browser SDKs look for this readable marker before they try a cookie
 *   refresh; it carries no secret.
 *
 * Local development (a `*.localhost`/loopback host, served over http) drops the `__Secure-`/`__Host-`
 * prefixes, and `Secure` where the cookie can live without it. The refresh cookie keeps
 * `Secure`: browsers refuse `SameSite=None` without it, and Chromium accepts `Secure`
 * cookies from http://*.localhost (it is a secure context), so keeping it is what makes
 * exchange mode work locally at all.
 */
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
export const KINDE_MARKER = "_kbrte";

export function sessionCookieName(site: CookieSite): string {
  if (isLocalDev(site)) return SESSION;
  return browserMode(site.app) === "cookie" ? `__Secure-${SESSION}` : `__Host-${SESSION}`;
}

export function refreshCookieName(site: CookieSite): string {
  return isLocalDev(site) ? REFRESH : `__Host-${REFRESH}`;
}

interface Attributes {
  domain?: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: "Lax" | "None";
  partitioned?: boolean;
}

function attributeList(a: Attributes, maxAge?: number): string[] {
  const parts: string[] = [];
  if (a.domain) parts.push(`Domain=${a.domain}`);
  parts.push("Path=/");
  if (maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(maxAge))}`);
  if (a.secure) parts.push("Secure");
  if (a.httpOnly) parts.push("HttpOnly");
  parts.push(`SameSite=${a.sameSite}`);
  if (a.partitioned) parts.push("Partitioned");
  return parts;
}

function serialize(name: string, value: string, maxAge: number, a: Attributes): string {
  return [`${name}=${value}`, ...attributeList(a, maxAge)].join("; ");
}

function sessionAttributes(site: CookieSite): Attributes {
  const cookieMode = browserMode(site.app) === "cookie";
  return {
    domain: cookieMode ? (site.app.customDomain as string) : undefined,
    secure: !isLocalDev(site),
    httpOnly: true,
    sameSite: "Lax",
  };
}

function refreshAttributes(): Attributes {
  return { secure: true, httpOnly: true, sameSite: "None", partitioned: true };
}

/** The session cookie's attributes without Max-Age (for the hosted login's cookie writer). */
export function sessionCookieAttributes(site: CookieSite): string {
  return attributeList(sessionAttributes(site)).join("; ");
}

/** `Set-Cookie` for the session; `maxAge` in seconds (the session's remaining life). */
export function sessionCookie(site: CookieSite, token: string, maxAge: number): string {
  return serialize(sessionCookieName(site), token, maxAge, sessionAttributes(site));
}

export function clearSessionCookie(site: CookieSite): string {
  return serialize(sessionCookieName(site), "", 0, sessionAttributes(site));
}

/** `Set-Cookie` for a browser's refresh token; see refreshCookieValue for the value. */
export function refreshCookie(site: CookieSite, value: string, maxAge: number): string {
  return serialize(refreshCookieName(site), value, maxAge, refreshAttributes());
}

export function clearRefreshCookie(site: CookieSite): string {
  return serialize(refreshCookieName(site), "", 0, refreshAttributes());
}

/**
 * Kinde's marker that a refresh cookie exists. Readable by script (that is its purpose),
 * scoped to the custom domain in cookie mode so the app's own pages can see it.
 */
export function kindeMarkerCookie(site: CookieSite, maxAge: number): string {
  return serialize(KINDE_MARKER, maxAge > 0 ? "1" : "", maxAge, { ...sessionAttributes(site), httpOnly: false });
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

/** Reads one cookie from a `Cookie` header; the first occurrence wins. */
export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
