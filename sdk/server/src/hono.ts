/**
 * Hono adapters (`@latch/server/hono`; hono is an optional peer dependency):
 * - latchAuth(): verifies `Authorization: Bearer` and puts the claims on the context
 *   (`c.get("latch")`), or answers 401 with `WWW-Authenticate: Bearer` (RFC 6750);
 * - requirePermission(): 403 `insufficient_scope` unless the claims grant a permission;
 * - protectedResource(): RFC 9728 metadata routes plus latchAuth for that resource.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { authenticate, bearerChallenge, type AuthResult } from "./bearer.js";
import { hasPermission, type LatchClaims } from "./claims.js";
import { createProtectedResource, type ProtectedResource, type ProtectedResourceOptions } from "./resource.js";
import { verifyToken, type VerifyOptions } from "./verify.js";

export type LatchVariables = { latch: LatchClaims; latchToken: string };
export type LatchEnv = { Variables: LatchVariables };

export interface LatchAuthOptions extends VerifyOptions {
  /** `realm` of the challenge. */
  realm?: string;
  /** RFC 9728 metadata URL to name in the challenge (protectedResource() sets it). */
  resourceMetadata?: string;
  /** Let requests without an Authorization header through without claims; a bad token is still refused. */
  optional?: boolean;
}

function refuse(c: Context, result: Extract<AuthResult, { ok: false }>): Response {
  return c.json(result.body, result.status, result.headers);
}

export function latchAuth(options: LatchAuthOptions): MiddlewareHandler<LatchEnv> {
  const { realm, resourceMetadata, optional, ...verify } = options;
  const challenge = { ...(realm ? { realm } : {}), ...(resourceMetadata ? { resourceMetadata } : {}) };
  return async (c, next) => {
    const header = c.req.header("authorization");
    if (optional && !header) return next();
    const result = await authenticate(header, (token) => verifyToken(token, verify), challenge);
    if (!result.ok) return refuse(c, result);
    c.set("latch", result.claims);
    c.set("latchToken", result.token);
    await next();
  };
}

/** After latchAuth: 403 with an `insufficient_scope` challenge unless the token grants `permission`. */
export function requirePermission(permission: string, options: { realm?: string } = {}): MiddlewareHandler<LatchEnv> {
  return async (c, next) => {
    const claims = c.get("latch");
    if (!claims) {
      const description = "A bearer access token is required.";
      return c.json({ error: "unauthorized", error_description: description }, 401, { "WWW-Authenticate": bearerChallenge({ ...options }) });
    }
    if (!hasPermission(claims, permission)) {
      const description = `This needs the permission ${permission}.`;
      return c.json({ error: "insufficient_scope", error_description: description }, 403, {
        "WWW-Authenticate": bearerChallenge({ ...options, error: "insufficient_scope", description }),
      });
    }
    await next();
  };
}

export interface HonoProtectedResource extends ProtectedResource {
  /** Serves the metadata document on its paths; mount with `app.route("/", pr.routes)`. */
  routes: Hono;
  /** latchAuth for this resource: `aud` must be the resource; failures name `resource_metadata`. */
  auth: MiddlewareHandler<LatchEnv>;
}

export function protectedResource(options: ProtectedResourceOptions): HonoProtectedResource {
  const pr = createProtectedResource(options);
  const routes = new Hono();
  for (const path of pr.metadataPaths) routes.on(["GET", "HEAD", "OPTIONS"], path, (c) => pr.handleMetadata(c.req.raw) ?? c.notFound());
  const auth: MiddlewareHandler<LatchEnv> = async (c, next) => {
    const result = await pr.authenticate(c.req.header("authorization"));
    if (!result.ok) return refuse(c, result);
    c.set("latch", result.claims);
    c.set("latchToken", result.token);
    await next();
  };
  return Object.assign(pr, { routes, auth });
}
