/** POST /oauth2/token (RFC 6749 §3.2, SPEC §4): client authentication, then the grant. */
import type { Handler } from "hono";
import { readForm } from "../http/body";
import { OAuthError } from "../http/errors";
import { authenticateClient } from "./client-auth";
import { tokenJson, type OAuthEnv } from "./context";
import { authorizationCodeGrant } from "./grants/authorization-code";
import { clientCredentialsGrant } from "./grants/client-credentials";
import { refreshTokenGrant } from "./grants/refresh-token";

const SINGLE = ["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"];

export const tokenEndpoint: Handler<OAuthEnv> = async (c) => {
  const form = await readForm(c);
  for (const name of SINGLE) if (form.getAll(name).length > 1) throw new OAuthError("invalid_request", `${name} may appear once.`);
  const grantType = form.get("grant_type");
  if (!grantType) throw new OAuthError("invalid_request", "grant_type is required.");
  const client = await authenticateClient(c.env, c.var.app.id, c.req.header("authorization"), form);
  switch (grantType) {
    case "authorization_code":
      return tokenJson(c, await authorizationCodeGrant(c, client, form));
    case "refresh_token":
      return tokenJson(c, await refreshTokenGrant(c, client, form));
    case "client_credentials":
      return tokenJson(c, await clientCredentialsGrant(c, client, form));
    default:
      throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported.`);
  }
};
