/**
 * POST /oauth2/revoke (RFC 7009): a refresh token ends its chain when it belongs to the
 * calling client; anything else (unknown, another client's, an access token, which is a
 * self-contained JWT that simply expires) answers exactly 200 with nothing revealed.
 */
import type { Handler } from "hono";
import { revokeRefreshToken } from "../chains/api";
import { parseRefreshToken } from "../chains/token";
import { readForm } from "../http/body";
import { OAuthError } from "../http/errors";
import { authenticateClient } from "./client-auth";
import { NO_STORE, type OAuthEnv } from "./context";

export const revokeEndpoint: Handler<OAuthEnv> = async (c) => {
  const form = await readForm(c);
  const client = await authenticateClient(c.env, c.var.app.id, c.req.header("authorization"), form);
  const tokens = form.getAll("token");
  if (tokens.length !== 1 || !tokens[0]) throw new OAuthError("invalid_request", "token is required (once).");
  const token = tokens[0];
  if (parseRefreshToken(token)) await revokeRefreshToken(c.env, c.var.app, token, client.id);
  return c.body(null, 200, NO_STORE);
};
