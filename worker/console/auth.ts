/**
 * Who may use the operator console: the holder of ADMIN_TOKEN, on the deployment's own host.
 * Signing in with the token sets `latch_console`: `{nonce}.{expires}.{mac}`, an HMAC under a
 * key derived from KEY_ENCRYPTION_SECRET with the token itself as context, so changing
 * ADMIN_TOKEN signs every console out. Every form carries a CSRF token bound to the nonce
 * (sessions/csrf.ts); the sign-in form's is bound to the pre-login cookie instead.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { readCookie } from "../sessions/cookies";
import { csrfToken, csrfValid, preLoginValue } from "../sessions/csrf";
import { hostName } from "../tenancy/apps";
import { requestHost } from "../tenancy/host";
import { base64url, derivedHmacKey, hmacSha256, randomToken, timingSafeEqual } from "../util/crypto";

export const CONSOLE_COOKIE = "latch_console";
export const CONSOLE_TTL_S = 8 * 3600;
/** Sign-in attempts per client address per window, counted before the token is compared. */
export const SIGN_IN_LIMIT = { max: 10, windowMs: 15 * 60_000 } as const;
/** The CSRF binding names: one per form family, so a token of one never passes for the other. */
const CSRF_CONSOLE = "console";
const CSRF_SIGN_IN = "console-sign-in";

export type ConsoleEnv = { Bindings: Env; Variables: { consoleNonce: string; csrf: string } };
export type ConsoleContext = Context<ConsoleEnv>;

/** Only the deployment's own host (BASE_HOST, any port) serves the console; app hosts answer 404. */
export function isConsoleHost(env: Pick<Env, "BASE_HOST">, host: string): boolean {
  return hostName(host) === hostName(env.BASE_HOST);
}

async function mac(env: Env, payload: string): Promise<string> {
  return base64url(await hmacSha256(await derivedHmacKey(env.KEY_ENCRYPTION_SECRET, "latch/console/v1", env.ADMIN_TOKEN), payload));
}

/** A signed cookie value for a new console session, valid CONSOLE_TTL_S from `now`. */
export async function consoleCookieValue(env: Env, now = Date.now()): Promise<string> {
  const payload = `${randomToken()}.${Math.floor(now / 1000) + CONSOLE_TTL_S}`;
  return `${payload}.${await mac(env, payload)}`;
}

/** The session's nonce when `value` is authentic and unexpired, else null. */
export async function verifyConsoleCookie(env: Env, value: string | null, now = Date.now()): Promise<string | null> {
  if (!value || !env.ADMIN_TOKEN) return null;
  const parts = value.split(".");
  if (parts.length !== 3) return null;
  const [nonce, expires, presented] = parts as [string, string, string];
  if (!/^[A-Za-z0-9_-]{43}$/.test(nonce) || !/^\d{1,12}$/.test(expires)) return null;
  if (!timingSafeEqual(await mac(env, `${nonce}.${expires}`), presented)) return null;
  return Number(expires) * 1000 > now ? nonce : null;
}

export function setConsoleCookie(value: string): string {
  return `${CONSOLE_COOKIE}=${value}; Max-Age=${CONSOLE_TTL_S}; Path=/console; HttpOnly; Secure; SameSite=Strict`;
}

export function clearConsoleCookie(): string {
  return `${CONSOLE_COOKIE}=; Max-Age=0; Path=/console; HttpOnly; Secure; SameSite=Strict`;
}

/** The operator token, compared in constant time; an unset ADMIN_TOKEN matches nothing. */
export function tokenMatches(env: Env, presented: unknown): boolean {
  return typeof presented === "string" && presented !== "" && !!env.ADMIN_TOKEN && timingSafeEqual(presented, env.ADMIN_TOKEN);
}

/** 404 off the deployment's host: the console does not exist on an app's host. */
export const consoleHost: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  if (!isConsoleHost(c.env, requestHost(c))) return c.notFound();
  await next();
};

/** The signed-in operator: sets `consoleNonce` and the forms' `csrf`; otherwise to the sign-in page. */
export const requireOperator: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
  const nonce = await verifyConsoleCookie(c.env, readCookie(c.req.header("cookie"), CONSOLE_COOKIE));
  if (!nonce) {
    if (c.req.method === "GET") return c.redirect("/console", 303);
    return c.text("Sign in to the operator console first.", 401, { "Cache-Control": "no-store" });
  }
  c.set("consoleNonce", nonce);
  c.set("csrf", await csrfToken(c.env, CSRF_CONSOLE, nonce));
  await next();
};

/** Refuses (403) a console form whose `_csrf` is not the session's token. */
export function formCsrfValid(c: ConsoleContext, presented: unknown): boolean {
  return typeof presented === "string" && presented !== "" && timingSafeEqual(presented, c.var.csrf);
}

/** The sign-in form's token and the pre-login cookie it is bound to (Set-Cookie when new). */
export async function signInCsrf(c: ConsoleContext): Promise<{ token: string; setCookie: string | null }> {
  const { value, setCookie } = preLoginValue(c, requestHost(c));
  return { token: await csrfToken(c.env, CSRF_SIGN_IN, value), setCookie };
}

export function signInCsrfValid(c: ConsoleContext, presented: unknown): Promise<boolean> {
  return csrfValid(c, CSRF_SIGN_IN, requestHost(c), typeof presented === "string" ? presented : null);
}
