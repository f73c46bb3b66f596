/**
 * POST /oauth2/introspect (RFC 7662), confidential and m2m clients only: public clients
 * cannot keep the answer to themselves.
 * - Access tokens are verified here; `token_type` is their RFC 6749 type, `Bearer`.
 * - Refresh tokens are asked of their chain's object without rotating them, and only for
 *   the client they were issued to (no other client has any business with them). A token
 *   that a refresh would accept is active, with `exp` (the sooner of the idle and absolute
 *   ends, or the overlap window's end for the previous token), `client_id`, `sub`, `scope`.
 *   They have no RFC 6749 token type, so none is given. Asking about an old or reused
 *   token changes nothing: reuse detection belongs to the token endpoint.
 */
import type { Handler } from "hono";
import { inspectRefreshToken } from "../chains/api";
import { parseRefreshToken } from "../chains/token";
import { readForm } from "../http/body";
import { OAuthError } from "../http/errors";
import { verifyAccessToken } from "../tokens/verify";
import { authenticateClient } from "./client-auth";
import { NO_STORE, type OAuthContext, type OAuthEnv } from "./context";

const SHOWN = ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti", "sid", "auth_time", "azp"];
const INACTIVE = { active: false } as const;

async function introspectRefreshToken(c: OAuthContext, token: string, clientId: string): Promise<Record<string, unknown>> {
  const found = await inspectRefreshToken(c.env, c.var.app, token, clientId);
  if (!found.active) return INACTIVE;
  return {
    active: true,
    scope: found.scope,
    client_id: found.clientId,
    sub: found.userId,
    exp: Math.floor(found.expiresAt / 1000),
    ...(found.issuedAt !== null ? { iat: Math.floor(found.issuedAt / 1000) } : {}),
    iss: c.var.issuer,
  };
}

export const introspectEndpoint: Handler<OAuthEnv> = async (c) => {
  const form = await readForm(c);
  const client = await authenticateClient(c.env, c.var.app.id, c.req.header("authorization"), form);
  if (client.type === "public") throw new OAuthError("invalid_client", "Introspection needs a confidential client.", 401);
  const tokens = form.getAll("token");
  if (tokens.length !== 1 || !tokens[0]) throw new OAuthError("invalid_request", "token is required (once).");
  const token = tokens[0];
  if (parseRefreshToken(token)) return c.json(await introspectRefreshToken(c, token, client.id), 200, NO_STORE);
  try {
    const payload = await verifyAccessToken(c.env, c.var.app, token, { issuer: c.var.issuer });
    const body: Record<string, unknown> = { active: true, token_type: "Bearer" };
    for (const key of SHOWN) if (payload[key] !== undefined) body[key] = payload[key];
    if (typeof payload.email === "string") body.username = payload.email;
    return c.json(body, 200, NO_STORE);
  } catch (err) {
    if (err instanceof OAuthError && err.code === "invalid_token") return c.json(INACTIVE, 200, NO_STORE);
    throw err;
  }
};
