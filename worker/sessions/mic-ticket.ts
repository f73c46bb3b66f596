/**
 * The `temp_login_uri` of Kinvey MIC's API grant (`loginWithMIC(…, AuthorizationCodeAPI,
 * {username, password})`): the SDK posts the password form itself, without the hosted page,
 * so it has neither the page's CSRF token nor its pre-login cookie. The ticket in that URI
 * stands in for them: an HMAC over the app, client and redirect URI with ten minutes' life.
 * It guards against nothing a browser could be tricked into, and needs not: a cross-site
 * form post carries an Origin, which /oauth2/auth refuses before it looks at any ticket.
 */
import type { Env } from "../env";
import { base64url, derivedHmacKey, hmacSha256, timingSafeEqual } from "../util/crypto";

const TTL_MS = 10 * 60_000;
const TICKET = /^(\d{13})\.([A-Za-z0-9_-]{43})$/;
async function mac(env: Env, appId: string, clientId: string, redirectUri: string, expires: number): Promise<string> {
  const text = JSON.stringify([appId, clientId, redirectUri, expires]);
  return base64url(await hmacSha256(await derivedHmacKey(env.KEY_ENCRYPTION_SECRET, "latch/mic-ticket/v1"), text));
}

export async function micTicket(env: Env, appId: string, clientId: string, redirectUri: string, now = Date.now()): Promise<string> {
  const expires = now + TTL_MS;
  return `${expires}.${await mac(env, appId, clientId, redirectUri, expires)}`;
}

export async function micTicketValid(env: Env, appId: string, ticket: string, request: { clientId: string; redirectUri: string }, now = Date.now()): Promise<boolean> {
  const match = TICKET.exec(ticket);
  if (!match) return false;
  const expires = Number(match[1]);
  if (expires <= now) return false;
  return timingSafeEqual(await mac(env, appId, request.clientId, request.redirectUri, expires), match[2]!);
}
