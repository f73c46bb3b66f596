/**
 * POST /oauth2/introspect (RFC 7662), confidential and m2m clients only: public clients
 * cannot keep the answer to themselves. Access tokens are verified here; refresh tokens
 * live in their chain's object and are reported inactive (rotation is their only test).
 */
import type { Handler } from "hono";
import { readForm } from "../http/body";
import { OAuthError } from "../http/errors";
import { verifyAccessToken } from "../tokens/verify";
import { authenticateClient } from "./client-auth";
import { NO_STORE, type OAuthEnv } from "./context";

const SHOWN = ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti", "sid", "auth_time", "azp"];

export const introspectEndpoint: Handler<OAuthEnv> = async (c) => {
  const form = await readForm(c);
  const client = await authenticateClient(c.env, c.var.app.id, c.req.header("authorization"), form);
  if (client.type === "public") throw new OAuthError("invalid_client", "Introspection needs a confidential client.", 401);
  const tokens = form.getAll("token");
  if (tokens.length !== 1 || !tokens[0]) throw new OAuthError("invalid_request", "token is required (once).");
  try {
    const payload = await verifyAccessToken(c.env, c.var.app, tokens[0], { issuer: c.var.issuer });
    const body: Record<string, unknown> = { active: true, token_type: "access_token" };
    for (const key of SHOWN) if (payload[key] !== undefined) body[key] = payload[key];
    if (typeof payload.email === "string") body.username = payload.email;
    return c.json(body, 200, NO_STORE);
  } catch (err) {
    if (err instanceof OAuthError && err.code === "invalid_token") return c.json({ active: false }, 200, NO_STORE);
    throw err;
  }
};
