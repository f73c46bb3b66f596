/**
 * What every Kinvey route shares: the request id, JSON responses, the app named by
 * the path's app key, the authenticated principal, and the credential-kind guard.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { KinveyError } from "../http/errors";
import { authenticate, sessionCheck, type Principal, type PrincipalKind, type SessionCheck } from "./credentials";
import { touchDue, touchSessionStatement } from "./sessions";
import { appById, type App } from "../tenancy/apps";
import { randomId } from "../util/crypto";

export type KinveyVars = { app: App; principal: Principal; sessionCheck?: SessionCheck };
export type KinveyEnv = { Bindings: Env; Variables: KinveyVars };
export type KinveyContext = Context<KinveyEnv>;

/** Tags every Kinvey response (errors included) with `X-Kinvey-Request-Id`. */
export const requestId: MiddlewareHandler = async (c, next) => {
  const id = randomId(32, "0123456789abcdef");
  await next();
  c.res.headers.set("X-Kinvey-Request-Id", id);
  if (!c.res.headers.has("content-type")) c.res.headers.set("Content-Type", "application/json; charset=utf-8");
};

/** Resolves `:appKey` and authenticates the caller (any credential kind). */
export const kinveyAuth: MiddlewareHandler<KinveyEnv> = async (c, next) => {
  const appKey = c.req.param("appKey");
  const app = appKey ? await appById(c.env, appKey) : null;
  if (!app) throw new KinveyError("AppNotFound", `No app with key ${appKey}.`);
  c.set("app", app);
  c.set("principal", await authenticate(c.env, app, c.req.raw.headers));
  await touch(c);
  await next();
};

/**
 * Moves a Kinvey session's idle timer when it is due (touchDue): one small D1 write per
 * session every few minutes at most, never one per request.
 */
async function touch(c: KinveyContext): Promise<void> {
  const principal = c.var.principal;
  if (principal.kind !== "user" || principal.via !== "session") return;
  const now = Date.now();
  if (!touchDue(principal.session.last_seen_at, c.var.app.settings.kinvey_session_idle_seconds, now)) return;
  await touchSessionStatement(c.env, c.var.app.id, principal.session.id, now).run();
  principal.session.last_seen_at = now;
}

/**
 * For reads that fold the session lookup into their own D1 round trip (readAuthenticated):
 * like kinveyAuth, except that a Kinvey session token is not looked up here. Every other
 * credential is authenticated at once, as kinveyAuth does.
 */
export const kinveyAuthDeferred: MiddlewareHandler<KinveyEnv> = async (c, next) => {
  const appKey = c.req.param("appKey");
  const app = appKey ? await appById(c.env, appKey) : null;
  if (!app) throw new KinveyError("AppNotFound", `No app with key ${appKey}.`);
  c.set("app", app);
  const check = await sessionCheck(c.env, app, c.req.raw.headers);
  if (check) c.set("sessionCheck", check);
  else {
    c.set("principal", await authenticate(c.env, app, c.req.raw.headers));
    await touch(c);
  }
  await next();
};

/** What a deferred read runs: its statement, given the session user's id as SQL (or null). */
export interface AuthenticatedRead<T> {
  statement: D1PreparedStatement;
  finish(result: D1Result, principal: Principal): T;
}

/**
 * Runs a read under kinveyAuthDeferred in ONE D1 round trip: with a session token, the
 * session lookup and `read`'s statement go in one batch, and the statement's rows are used
 * only when the session is good (its `userSql` is the same lookup as a subquery, so the rows
 * are the signed-in user's). Errors keep kinveyAuth's order: a bad credential is reported
 * before anything `read` refuses (its input errors are rethrown after authentication).
 */
export async function readAuthenticated<T>(c: KinveyContext, read: (userSql: SessionCheck["userSql"] | null) => AuthenticatedRead<T>): Promise<T> {
  const check = c.var.sessionCheck;
  if (!check) {
    const planned = read(null);
    return planned.finish(await planned.statement.all(), c.var.principal);
  }
  let planned: AuthenticatedRead<T>;
  try {
    planned = read(check.userSql);
  } catch (err) {
    c.set("principal", check.principal(await check.statement.all()));
    await touch(c);
    throw err;
  }
  const [session, rows] = await c.env.DB.batch([check.statement, planned.statement]);
  const principal = check.principal(session);
  c.set("principal", principal);
  await touch(c);
  return planned.finish(rows!, principal);
}

/** Refuses principals not in `kinds` with 401 InsufficientCredentials (never InvalidCredentials). */
export function allow<K extends PrincipalKind>(c: KinveyContext, ...kinds: K[]): Extract<Principal, { kind: K }> {
  const principal = c.var.principal;
  if (!(kinds as PrincipalKind[]).includes(principal.kind)) {
    throw new KinveyError("InsufficientCredentials", `This operation needs ${kinds.join(" or ")} credentials.`);
  }
  return principal as Extract<Principal, { kind: K }>;
}

/** The API version the client asked for (`X-Kinvey-API-Version`), default 3. */
export function apiVersion(c: KinveyContext): number {
  const v = Number(c.req.header("x-kinvey-api-version") ?? "3");
  return Number.isFinite(v) ? v : 3;
}

/** JSON response; Kinvey SDKs expect a JSON content type even on 204. */
export function json(c: KinveyContext, body: unknown, status: 200 | 201 | 207 = 200): Response {
  return c.json(body, status);
}

/** A body already encoded as JSON (built in SQL), sent as json() would send it. */
export function jsonText(c: KinveyContext, body: string): Response {
  return c.body(body, 200, { "Content-Type": "application/json" });
}

export function noContent(c: KinveyContext): Response {
  return c.body(null, 204, { "Content-Type": "application/json; charset=utf-8" });
}
