/**
 * The browser session on the auth host (SPEC §4, §6) and the pre-login CSRF cookie.
 * The session cookie holds an opaque token; the `sessions` table (kind "browser") holds
 * its SHA-256. Names and attributes:
 *   - cookie mode (custom domain): `__Secure-latch_session`, Domain={custom domain}
 *   - exchange mode:               `__Host-latch_session` (host-only)
 *   - local http hosts:            `latch_session`, no Secure, no prefix
 * The CSRF token in the form is an HMAC of the pre-login cookie under a key derived from
 * the deployment secret and bound to the app, so neither half works without the other.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { Env } from "../env";
import { sessionCookieAttributes, sessionCookieName } from "../browser/cookies";
import { endSessionChains } from "../chains/api";
import { eventStatement } from "../events/log";
import { deleteSessionStatement, prepareSession, sessionByToken, type SessionRow } from "../identity/sessions";
import type { UserRow } from "../identity/users";
import { isLocalHost, type App } from "../tenancy/apps";
import { base64url, randomToken, sha256Hex, timingSafeEqual } from "../util/crypto";

export interface CookieSpec {
  name: string;
  attributes: string;
}

/** One definition of the session cookie for every face: worker/browser/cookies.ts. */
export function sessionCookie(app: App, host: string): CookieSpec {
  const site = { app, host };
  return { name: sessionCookieName(site), attributes: sessionCookieAttributes(site) };
}

export function csrfCookie(host: string): CookieSpec {
  return isLocalHost(host)
    ? { name: "latch_csrf", attributes: "Path=/; HttpOnly; SameSite=Lax" }
    : { name: "__Host-latch_csrf", attributes: "Path=/; Secure; HttpOnly; SameSite=Lax" };
}

export function setCookieHeader(spec: CookieSpec, value: string, maxAgeSeconds: number): string {
  return `${spec.name}=${value}; Max-Age=${maxAgeSeconds}; ${spec.attributes}`;
}

export function clearCookieHeader(spec: CookieSpec): string {
  return `${spec.name}=; Max-Age=0; ${spec.attributes}`;
}

/** The live browser session of the request, if any. */
export async function currentSession<E extends { Bindings: Env }>(c: Context<E>, app: App, host: string): Promise<{ session: SessionRow; user: UserRow } | null> {
  const token = getCookie(c, sessionCookie(app, host).name);
  if (!token || token.length > 100) return null;
  return sessionByToken(c.env, app.id, "browser", token);
}

const hmacKeys = new Map<string, Promise<CryptoKey>>();

function csrfKey(secret: string): Promise<CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new TextEncoder().encode("latch/csrf/v1"), info: new Uint8Array() },
        ikm,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      );
    })();
    hmacKeys.set(secret, key);
  }
  return key;
}

export async function csrfToken(env: Env, appId: string, cookieValue: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await csrfKey(env.KEY_ENCRYPTION_SECRET), new TextEncoder().encode(`${appId}.${cookieValue}`));
  return base64url(new Uint8Array(mac));
}

export const CSRF_COOKIE_MAX_AGE = 3600;

/** The pre-login cookie value: the existing one, or a new one to set. */
export function preLoginValue(c: Context, host: string): { value: string; isNew: boolean } {
  const existing = getCookie(c, csrfCookie(host).name);
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return { value: existing, isNew: false };
  return { value: randomToken(), isNew: true };
}

export async function csrfValid<E extends { Bindings: Env }>(c: Context<E>, appId: string, host: string, presented: string | null): Promise<boolean> {
  const cookie = getCookie(c, csrfCookie(host).name);
  if (!cookie || !presented) return false;
  return timingSafeEqual(await csrfToken(c.env, appId, cookie), presented);
}

export interface SignedIn {
  sessionId: string;
  userId: string;
  /** ms */
  authTime: number;
  authMethod: string;
  token: string;
}

/**
 * Signs the browser in. The same user signing in again keeps the session id (so logout
 * still finds the chains begun under it) with a fresh token and auth time; a different
 * user replaces the session, ending the previous user's chains from it. `authMethod`
 * ("password" | "passkey") is how this session began (the `auth_method` claim).
 */
export async function startBrowserSession<E extends { Bindings: Env }>(
  c: Context<E>,
  app: App,
  user: UserRow,
  existing: SessionRow | null,
  options: { authMethod: string; created?: boolean },
): Promise<SignedIn> {
  const env = c.env;
  const now = Date.now();
  const expiresAt = now + app.settings.refresh_token_ttl * 1000;
  const { authMethod } = options;
  const after = [
    env.DB.prepare("UPDATE users SET last_login_at = ? WHERE app_id = ? AND id = ?").bind(now, app.id, user.id),
    eventStatement(env, app.id, "user.authenticated", user.id, { method: authMethod, via: "hosted", ...(options.created ? { signup: true } : {}) }, now),
  ];
  if (existing && existing.user_id === user.id) {
    const token = randomToken();
    await env.DB.batch([
      env.DB.prepare("UPDATE sessions SET token_hash = ?, created_at = ?, last_seen_at = ?, auth_method = ?, expires_at = ? WHERE app_id = ? AND id = ?").bind(
        await sha256Hex(token),
        now,
        now,
        authMethod,
        expiresAt,
        app.id,
        existing.id,
      ),
      ...after,
    ]);
    return { token, sessionId: existing.id, userId: user.id, authTime: now, authMethod };
  }
  const session = await prepareSession(env, app.id, user.id, "browser", { authMethod, expiresAt, now });
  await env.DB.batch([session.statement, ...(existing ? [deleteSessionStatement(env, app.id, existing.id)] : []), ...after]);
  if (existing) c.executionCtx.waitUntil(endSessionChains(env, app.id, existing.user_id, existing.id, "session_replaced"));
  return { token: session.token, sessionId: session.id, userId: user.id, authTime: now, authMethod };
}
