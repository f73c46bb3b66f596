/**
 * Cookie mode's session endpoints (SPEC §6): `GET /session`, `GET /session/token`,
 * `POST /logout`. The session is the hosted login's browser session, found by its cookie.
 *
 * Sliding expiry: a session lives `refresh_token_ttl` past its last use, never beyond
 * `refresh_absolute_ttl` from its start. To keep these hot GETs read-only, the slide is
 * written (and the cookie re-set) at most once per SLIDE_STEP_MS per session.
 */
import { Hono } from "hono";
import type { AppSettings } from "../tenancy/settings";
import { OAuthError } from "../http/errors";
import { revokeRefreshToken } from "../chains/api";
import { sessionByToken, slideSessionStatement, type SessionRow } from "../identity/sessions";
import type { UserRow } from "../identity/users";
import { requestIssuer } from "../tenancy/apps";
import {
  clearRefreshCookie,
  clearSessionCookie,
  kindeMarkerCookie,
  parseRefreshCookieValue,
  readCookie,
  refreshCookieName,
  sessionCookie,
} from "../sessions/cookies";
import { endBrowserSession, sessionTokenOf } from "../sessions/browser";
import { browserGate, type BrowserContext, type BrowserEnv } from "./cors";
import { mintSessionToken } from "../tokens/browser";
import { clientById } from "../identity/clients";
import { methodSatisfies } from "../identity/auth-policy";

export const SLIDE_STEP_MS = 60_000;

/** The session's expiry after a use at `now`, or null when it need not be written yet. Pure. */
export function slideExpiry(
  session: Pick<SessionRow, "created_at" | "last_seen_at" | "expires_at">,
  settings: Pick<AppSettings, "refresh_token_ttl" | "refresh_absolute_ttl">,
  now: number,
): number | null {
  if (now - session.last_seen_at < SLIDE_STEP_MS) return null;
  const next = Math.min(now + settings.refresh_token_ttl * 1000, session.created_at + settings.refresh_absolute_ttl * 1000);
  return session.expires_at === null || next > session.expires_at ? next : null;
}

/** The user as `/session` shows it: public profile fields only. */
export function sessionUser(user: UserRow) {
  const profile = JSON.parse(user.profile) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    emailVerified: user.email_verified === 1,
    name: str(profile.name),
    given_name: str(profile.given_name),
    family_name: str(profile.family_name),
    createdAt: new Date(user.created_at).toISOString(),
    updatedAt: new Date(user.updated_at).toISOString(),
  };
}

const noSession = () => new OAuthError("login_required", "There is no live session; sign in again.", 401);

/** The live session named by the request's cookie, slid forward when due. 401 when there is none. */
async function liveSession(c: BrowserContext): Promise<{ session: SessionRow; user: UserRow }> {
  const token = sessionTokenOf(c, c.var.site);
  if (!token) throw noSession();
  const found = await sessionByToken(c.env, c.var.app.id, "browser", token);
  if (!found) throw noSession();
  // A session begun by a password before the app required passkeys signs no one in now.
  if (!methodSatisfies(c.var.app.settings.auth_policy, found.session.auth_method)) throw noSession();
  const now = Date.now();
  const next = slideExpiry(found.session, c.var.app.settings, now);
  if (next !== null) {
    await slideSessionStatement(c.env, c.var.app.id, found.session.id, now, next).run();
    found.session.last_seen_at = now;
    found.session.expires_at = next;
    c.header("Set-Cookie", sessionCookie(c.var.site, token, (next - now) / 1000), { append: true });
  }
  return found;
}

/**
 * Whom a session token is for: `?client_id=` names one of the app's user-facing clients
 * (the token's `aud` and `azp`); without it the app itself (its id) is the audience,
 * since in cookie mode the app's pages are first-party and need no OAuth client.
 * A client's token goes only to an origin that client lists in its own `allowed_origins`:
 * the app-wide allow-list admits the request, but it must not let one client's page
 * mint tokens in another client's name.
 */
async function tokenClientId(c: BrowserContext): Promise<string> {
  const ids = c.req.queries("client_id") ?? [];
  if (ids.length === 0) return c.var.app.id;
  const id = ids[0] as string;
  if (ids.length > 1 || !id || id.length > 128) throw new OAuthError("invalid_request", "client_id may appear once.");
  const client = await clientById(c.env, c.var.app.id, id);
  if (!client || client.type === "m2m") throw new OAuthError("invalid_request", "client_id is not a user-facing client of this app.");
  const origin = c.req.header("origin");
  if (!origin || !client.allowedOrigins.includes(origin)) {
    throw new OAuthError("access_denied", "This client does not list the request's Origin in its allowed_origins.", 403);
  }
  return client.id;
}

export const sessionRoutes = new Hono<BrowserEnv>();

sessionRoutes.use("/session", browserGate(["GET"]));
sessionRoutes.use("/session/token", browserGate(["GET"]));
sessionRoutes.use("/logout", async (c, next) => {
  // GET /logout and form posts to it are the OAuth face's RP-initiated logout (mounted first,
  // it answers those); the fetch POST of cookie mode (and its preflight) is ours.
  if (c.req.method !== "POST" && c.req.method !== "OPTIONS") return next();
  return browserGate(["POST"])(c, next);
});

sessionRoutes.get("/session", async (c) => {
  const { session, user } = await liveSession(c);
  c.header("Cache-Control", "no-store");
  return c.json({
    user: sessionUser(user),
    session: { id: session.id, expiresAt: session.expires_at === null ? null : new Date(session.expires_at).toISOString() },
    auth_method: session.auth_method,
    auth_policy: c.var.app.settings.auth_policy,
  });
});

sessionRoutes.get("/session/token", async (c) => {
  const clientId = await tokenClientId(c);
  const { session, user } = await liveSession(c);
  const minted = await mintSessionToken(c.env, c.var.app, requestIssuer(c.var.site.host), {
    user,
    clientId,
    sessionId: session.id,
    authMethod: session.auth_method,
    authTime: Math.floor(session.created_at / 1000),
  });
  c.header("Cache-Control", "no-store");
  c.header("Pragma", "no-cache");
  return c.json({ access_token: minted.accessToken, token_type: "Bearer", expires_in: minted.expiresIn });
});

for (const path of ["/session", "/session/token"]) {
  sessionRoutes.all(path, () => {
    throw new OAuthError("method_not_allowed", "Only GET is allowed here.", 405, { Allow: "GET" });
  });
}

/**
 * Ends the browser session and the chains it began, and an exchange-mode refresh chain
 * whose cookie came along; clears every cookie either mode set. Idempotent: 204 whether or
 * not anything was live, so a client can always call it.
 */
sessionRoutes.post("/logout", async (c) => {
  const { app, site } = c.var;
  const token = sessionTokenOf(c, site);
  const found = token ? await sessionByToken(c.env, app.id, "browser", token) : null;
  if (found) await endBrowserSession(c.env, app.id, found, "logout", "cookie_mode");
  const rt = readCookie(c.req.header("cookie"), refreshCookieName(site));
  const parsed = rt ? parseRefreshCookieValue(rt) : null;
  if (parsed) await revokeRefreshToken(c.env, app, parsed.refreshToken, parsed.clientId);
  c.header("Set-Cookie", clearSessionCookie(site), { append: true });
  c.header("Set-Cookie", clearRefreshCookie(site), { append: true });
  c.header("Set-Cookie", kindeMarkerCookie(site, 0), { append: true });
  c.header("Cache-Control", "no-store");
  return c.body(null, 204);
});
