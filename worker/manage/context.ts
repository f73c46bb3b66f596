/**
 * What every /api/v1 route shares: the app named by the Host, the caller (master
 * credentials or a client_credentials token for `{issuer}/api`), the per-endpoint scope
 * guard, and Kinde's success envelope.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { ApiError, LatchError, RequestError, type ApiErrorCode } from "../http/errors";
import { decodeBasic } from "../identity/credentials";
import { clientById } from "../identity/clients";
import { scopePasses } from "../identity/management-scopes";
import { appByHost, requestIssuer, type App } from "../tenancy/apps";
import { secretMatchesHash } from "../util/crypto";
import { verifyAccessToken } from "../tokens/verify";

/** A management scope name (identity/management-scopes.json). */
export type Scope = string;
export type Caller = { kind: "master" } | { kind: "client"; clientId: string; scopes: ReadonlySet<string> };
export type ManageEnv = { Bindings: Env; Variables: { app: App; caller: Caller } };
export type ManageContext = Context<ManageEnv>;

const unauthorized = (message: string) => new ApiError("UNAUTHORIZED", message);

/** Resolves the app by Host and authenticates the caller; scope checks come per route. */
export const manageAuth: MiddlewareHandler<ManageEnv> = async (c, next) => {
  // The URL's host is the Host the client used (workerd builds it from the header).
  const host = new URL(c.req.url).host;
  const app = await appByHost(c.env, host);
  if (!app) throw new ApiError("APP_NOT_FOUND", "No app is served at this host.");
  c.set("app", app);
  c.set("caller", await authenticateCaller(c.env, app, host, c.req.header("authorization")));
  await next();
};

export async function authenticateCaller(env: Env, app: App, host: string, header: string | undefined): Promise<Caller> {
  if (!header) throw unauthorized("A bearer access token (audience {issuer}/api) or master credentials are required.");
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space === -1 ? undefined : space).toLowerCase();
  const value = space === -1 ? "" : header.slice(space + 1).trim();
  if (scheme === "basic") {
    let name: string, secret: string;
    try {
      [name, secret] = decodeBasic(value);
    } catch (err) {
      if (err instanceof RequestError) throw unauthorized(err.message);
      throw err;
    }
    if (name === app.id && (await secretMatchesHash(secret, app.masterSecretHash))) return { kind: "master" };
    throw unauthorized("Only master credentials may call the management API.");
  }
  if (scheme !== "bearer" || !value) throw unauthorized("Unsupported authorization scheme; use Bearer or Basic.");
  const issuer = requestIssuer(host);
  let payload: Record<string, unknown>;
  try {
    payload = await verifyAccessToken(env, app, value, { issuer, audience: `${issuer}/api`, realm: "management-api" });
  } catch (err) {
    if (err instanceof LatchError) throw unauthorized(`${err.message} (audience ${issuer}/api)`);
    throw err;
  }
  // Only client_credentials tokens: the client is its own subject (user tokens never get
  // this audience, this keeps it so if that ever changes).
  if (payload.sub !== payload.client_id) throw unauthorized("Only client_credentials access tokens may call the management API.");
  return { kind: "client", clientId: String(payload.client_id), scopes: tokenScopes(payload) };
}

/** Scopes of a token: OAuth's space-separated `scope`, or Kinde's `scp` array. */
export function tokenScopes(payload: Record<string, unknown>): Set<string> {
  const scopes = new Set<string>();
  if (typeof payload.scope === "string") for (const s of payload.scope.split(" ")) if (s) scopes.add(s);
  if (Array.isArray(payload.scp)) for (const s of payload.scp) if (typeof s === "string") scopes.add(s);
  return scopes;
}

/**
 * Refuses token callers without `scope`, Kinde's name for the endpoint (403); `aliases` are
 * the older names the endpoint also accepts (identity/management-scopes.ts says which
 * clients they count for). Master credentials may do everything.
 */
export function need(scope: Scope, ...aliases: Scope[]): MiddlewareHandler<ManageEnv> {
  return async (c, next) => {
    const caller = c.var.caller;
    if (caller.kind === "client") {
      const legacy = async () => (await clientById(c.env, c.var.app.id, caller.clientId))?.legacyScopes === true;
      if (!(await scopePasses(caller.scopes, scope, aliases, legacy))) throw new ApiError("FORBIDDEN", `The access token lacks the ${scope} scope.`);
    }
    await next();
  };
}

/** Kinde's success envelope around `fields`. */
export function ok(c: ManageContext, fields: Record<string, unknown> = {}, status: 200 | 201 = 200, code = "OK", message = "Success"): Response {
  return c.json({ code, message, ...fields }, status);
}

/** 400: the request itself is wrong, whatever its code (an unknown id in a body included). */
export function bad(message: string, code: ApiErrorCode = "INVALID_REQUEST"): never {
  throw new ApiError(code, message, {}, 400);
}

/** What a management route can fail to find; each has its `{WHAT}_NOT_FOUND` code. */
export type Resource = "user" | "passkey" | "role" | "permission" | "feature_flag" | "webhook" | "event";

export function notFound(what: Resource, id: string): never {
  throw new ApiError(`${what.toUpperCase() as Uppercase<Resource>}_NOT_FOUND`, `No ${what} with id ${id}.`);
}

export function iso(ms: number | null | undefined): string | null {
  return ms == null ? null : new Date(ms).toISOString();
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A trimmed single-line string of 1..max characters, or undefined when absent. */
export function text(body: Record<string, unknown>, key: string, max = 256, required = false): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) {
    if (required) bad(`${key} is required.`);
    return undefined;
  }
  if (typeof value !== "string" || !value.trim() || value.length > max || CONTROL.test(value)) {
    bad(`${key} must be a non-empty string of at most ${max} characters.`);
  }
  return value.trim();
}

/** Refuses keys outside `known` so a typo never silently does nothing. */
export function onlyKeys(body: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(body)) if (!known.includes(key)) bad(`Unknown field: ${key}.`);
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed/i.test(err.message);
}
