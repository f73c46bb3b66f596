/**
 * What every Kinvey route shares: the request id, JSON responses, the app named by
 * the path's app key, the authenticated principal, and the credential-kind guard.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { KinveyError } from "../http/errors";
import { authenticate, type Principal, type PrincipalKind } from "./credentials";
import { appById, type App } from "../tenancy/apps";
import { randomId } from "../util/crypto";

export type KinveyVars = { app: App; principal: Principal };
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
  await next();
};

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

export function noContent(c: KinveyContext): Response {
  return c.body(null, 204, { "Content-Type": "application/json; charset=utf-8" });
}
