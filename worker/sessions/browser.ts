/**
 * The browser session on the auth host (SPEC §4, §6): what the hosted pages sign in, what
 * `/oauth2/auth` answers from without UI, and (cookie mode) what `/session` reads. The
 * cookie (cookies.ts) holds an opaque token; the `sessions` table (kind "browser") holds
 * its SHA-256 (identity/sessions.ts).
 */
import type { Context } from "hono";
import type { Env } from "../env";
import { endSessionChains } from "../chains/api";
import { eventStatement } from "../events/log";
import { deleteSessionStatement, prepareSession, renewSessionStatement, sessionByToken, type SessionRow } from "../identity/sessions";
import { recordSignInStatement, type UserRow } from "../identity/users";
import type { App } from "../tenancy/apps";
import { randomToken } from "../util/crypto";
import { readCookie, sessionCookie, sessionCookieName, type CookieSite } from "./cookies";

/** Session tokens are base64url; anything else cannot name a session, so no read is spent on it. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** The session token the request's cookie carries, when it is well-formed and unambiguous. */
export function sessionTokenOf(c: Context, site: CookieSite): string | null {
  const token = readCookie(c.req.header("cookie"), sessionCookieName(site));
  return token && SESSION_TOKEN.test(token) ? token : null;
}

/** The live browser session of the request, if any. */
export async function currentSession<E extends { Bindings: Env }>(c: Context<E>, app: App, host: string): Promise<{ session: SessionRow; user: UserRow } | null> {
  const token = sessionTokenOf(c, { app, host });
  return token ? sessionByToken(c.env, app.id, "browser", token) : null;
}

export interface SignedIn {
  sessionId: string;
  userId: string;
  /** ms */
  authTime: number;
  authMethod: string;
  token: string;
  /** The `Set-Cookie` that hands the session to the browser. */
  cookie: string;
}

/**
 * Signs the browser in. The same user signing in again keeps the session id (so logout
 * still finds the chains begun under it) with a fresh token and auth time; a different
 * user replaces the session, ending the previous user's chains from it. `authMethod`
 * ("password", "passkey", …) is how this session began (the `auth_method` claim).
 */
export async function startBrowserSession<E extends { Bindings: Env }>(
  c: Context<E>,
  app: App,
  host: string,
  user: UserRow,
  options: { authMethod: string; created?: boolean },
): Promise<SignedIn> {
  const env = c.env;
  const existing = (await currentSession(c, app, host))?.session ?? null;
  const now = Date.now();
  const expiresAt = now + app.settings.refresh_token_ttl * 1000;
  const { authMethod } = options;
  const after = [
    recordSignInStatement(env, app.id, user.id, now),
    eventStatement(env, app.id, "user.authenticated", user.id, { method: authMethod, via: "hosted", ...(options.created ? { signup: true } : {}) }, now),
  ];
  const cookie = (token: string) => sessionCookie({ app, host }, token, app.settings.refresh_token_ttl);
  if (existing && existing.user_id === user.id) {
    const token = randomToken();
    await env.DB.batch([await renewSessionStatement(env, app.id, existing.id, token, { authMethod, now, expiresAt }), ...after]);
    return { token, sessionId: existing.id, userId: user.id, authTime: now, authMethod, cookie: cookie(token) };
  }
  const session = await prepareSession(env, app.id, user.id, "browser", { authMethod, expiresAt, now });
  await env.DB.batch([session.statement, ...(existing ? [deleteSessionStatement(env, app.id, existing.id)] : []), ...after]);
  if (existing) c.executionCtx.waitUntil(endSessionChains(env, app.id, existing.user_id, existing.id, "session_replaced"));
  return { token: session.token, sessionId: session.id, userId: user.id, authTime: now, authMethod, cookie: cookie(session.token) };
}

/** Ends a browser session and every refresh chain begun under it (logout). */
export async function endBrowserSession(env: Env, appId: string, found: { session: SessionRow; user: UserRow }, reason: string, via: string): Promise<void> {
  await env.DB.batch([
    deleteSessionStatement(env, appId, found.session.id),
    eventStatement(env, appId, "session.ended", found.user.id, { session_id: found.session.id, reason, via }),
  ]);
  await endSessionChains(env, appId, found.user.id, found.session.id, reason);
}
