/**
 * The hosted forms' CSRF defence (SPEC §4): a pre-login cookie (cookies.ts) holds a random
 * value; the form's hidden token is an HMAC of it under a key derived from the deployment
 * secret and bound to the app, so neither half works without the other.
 */
import type { Context } from "hono";
import type { Env } from "../env";
import { base64url, derivedHmacKey, hmacSha256, randomToken, timingSafeEqual } from "../util/crypto";
import { csrfCookie, csrfCookieName, readCookie } from "./cookies";

export const CSRF_COOKIE_MAX_AGE = 3600;
const VALUE = /^[A-Za-z0-9_-]{43}$/;

export async function csrfToken(env: Env, appId: string, cookieValue: string): Promise<string> {
  return base64url(await hmacSha256(await derivedHmacKey(env.KEY_ENCRYPTION_SECRET, "latch/csrf/v1"), `${appId}.${cookieValue}`));
}

/** The request's pre-login cookie value, when it has a well-formed one. */
export function preLoginCookie(c: Context, host: string): string | null {
  const value = readCookie(c.req.header("cookie"), csrfCookieName({ host }));
  return value && VALUE.test(value) ? value : null;
}

/** The pre-login cookie value: the existing one, or a new one with the `Set-Cookie` that sets it. */
export function preLoginValue(c: Context, host: string): { value: string; setCookie: string | null } {
  const existing = preLoginCookie(c, host);
  if (existing) return { value: existing, setCookie: null };
  const value = randomToken();
  return { value, setCookie: csrfCookie({ host }, value, CSRF_COOKIE_MAX_AGE) };
}

export async function csrfValid<E extends { Bindings: Env }>(c: Context<E>, appId: string, host: string, presented: string | null): Promise<boolean> {
  const cookie = preLoginCookie(c, host);
  if (!cookie || !presented) return false;
  return timingSafeEqual(await csrfToken(c.env, appId, cookie), presented);
}
