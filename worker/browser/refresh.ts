/**
 * Exchange mode's `POST /refresh` (SPEC §6): rotates the refresh token held in the
 * partitioned cookie through the chain object and answers a new access token.
 *
 * Status discipline, because the SDK clears its state on 401 and on nothing else:
 * - 401 only when the chain is definitively dead: no cookie, a cookie that can never be a
 *   token, or a chain the object reports unknown, expired, revoked or reused;
 * - 400 for a malformed request (bad body, a client_id that is not the cookie's);
 * - 403 for a refused origin (cors.ts), 429 when this address keeps failing;
 * - anything transient (the object unreachable) stays a 5xx: the SDK keeps its cookie.
 */
import { Hono } from "hono";
import type { RotateResult } from "../chains/api";
import { PASSKEY_REQUIRED_MESSAGE } from "../identity/auth-policy";
import { clientAddress } from "../http/client-address";
import { OAuthError } from "../http/errors";
import { isPlainObject, readJson } from "../http/body";
import { requestIssuer } from "../tenancy/apps";
import { clearRefreshCookie, kindeMarkerCookie, parseRefreshCookieValue, readCookie, refreshCookie, refreshCookieName, refreshCookieValue } from "../sessions/cookies";
import { browserGate, type BrowserContext, type BrowserEnv } from "./cors";
import { mintChainToken } from "../tokens/browser";
import { refreshChain } from "../tokens/refresh";
import { failureLimiter } from "./limit";

/** What a failed rotation means on the wire. Pure. */
export function rotationFailure(reason: Extract<RotateResult, { ok: false }>["reason"]): { status: 400 | 401; dead: boolean } {
  // invalid_scope cannot happen here (/refresh asks for no scope); like a mismatch, it would not mean a dead chain.
  return reason === "client_mismatch" || reason === "invalid_scope" ? { status: 400, dead: false } : { status: 401, dead: true };
}

/** Reads `{client_id}` or nothing; anything else is a malformed request. */
async function requestedClientId(c: BrowserContext): Promise<string | null> {
  const body = await readJson(c);
  if (body === undefined) return null;
  if (!isPlainObject(body)) throw new OAuthError("invalid_request", "The body must be empty or a JSON object {client_id}.");
  for (const key of Object.keys(body)) {
    if (key !== "client_id") throw new OAuthError("invalid_request", `Unknown field: ${key}. The refresh token travels in its cookie.`);
  }
  if (body.client_id === undefined) return null;
  if (typeof body.client_id !== "string" || !body.client_id || body.client_id.length > 128) {
    throw new OAuthError("invalid_request", "client_id must be a non-empty string.");
  }
  return body.client_id;
}

const dead = (c: BrowserContext, description: string) => {
  c.header("Set-Cookie", clearRefreshCookie(c.var.site), { append: true });
  c.header("Set-Cookie", kindeMarkerCookie(c.var.site, 0), { append: true });
  return new OAuthError("invalid_grant", description, 401);
};

export const refreshRoutes = new Hono<BrowserEnv>();

refreshRoutes.use("/refresh", browserGate(["POST"]));

refreshRoutes.post("/refresh", async (c) => {
  const { app, site } = c.var;
  const address = clientAddress(c.env, c.req.raw.headers);
  const wait = failureLimiter.retryAfter(`${app.id}:${address}`);
  if (wait > 0) throw new OAuthError("slow_down", "Too many failed refreshes; try again later.", 429, { "Retry-After": String(wait) });

  const bodyClientId = await requestedClientId(c);
  const raw = readCookie(c.req.header("cookie"), refreshCookieName(site));
  const cookie = raw ? parseRefreshCookieValue(raw) : null;
  if (!cookie) {
    if (raw) failureLimiter.fail(`${app.id}:${address}`);
    throw dead(c, raw ? "The refresh cookie is not a refresh token." : "There is no refresh cookie; sign in again.");
  }
  if (bodyClientId !== null && bodyClientId !== cookie.clientId) {
    throw new OAuthError("invalid_request", "client_id is not the client this refresh cookie was issued to.");
  }

  const result = await refreshChain(c.env, app, cookie.refreshToken, cookie.clientId);
  if (!result.ok) {
    if (result.reason === "auth_policy") throw dead(c, PASSKEY_REQUIRED_MESSAGE);
    // The user is gone or no longer active: the chain has been ended.
    if (result.reason === "user_inactive") throw dead(c, "The user of this session is no longer active; sign in again.");
    failureLimiter.fail(`${app.id}:${address}`);
    const failure = rotationFailure(result.reason);
    if (failure.dead) throw dead(c, `The refresh token is ${result.reason}; sign in again.`);
    throw new OAuthError("invalid_grant", "The refresh cookie does not belong to this client.", failure.status);
  }
  const minted = await mintChainToken(c.env, app, requestIssuer(site.host), result);
  const ttl = app.settings.refresh_token_ttl;
  c.header("Set-Cookie", refreshCookie(site, refreshCookieValue(result.grant.clientId, result.refreshToken), ttl), { append: true });
  c.header("Cache-Control", "no-store");
  c.header("Pragma", "no-cache");
  return c.json({ access_token: minted.accessToken, token_type: "Bearer", expires_in: minted.expiresIn });
});

refreshRoutes.all("/refresh", () => {
  throw new OAuthError("method_not_allowed", "Only POST is allowed here.", 405, { Allow: "POST" });
});
