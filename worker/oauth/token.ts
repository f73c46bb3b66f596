/** POST /oauth2/token (RFC 6749 §3.2, SPEC §4): client authentication, then the grant. */
import type { Handler } from "hono";
import { readForm } from "../http/body";
import { OAuthError } from "../http/errors";
import { authenticateClient } from "./client-auth";
import { tokenJson, type OAuthEnv } from "./context";
import { authorizationCodeGrant } from "./grants/authorization-code";
import { clientCredentialsGrant } from "./grants/client-credentials";
import { refreshTokenGrant } from "./grants/refresh-token";
import { putRefreshTokenInCookie, refreshTokenFromCookie } from "../sessions/refresh-cookie";
import { isAllowedOrigin } from "../tenancy/origins";
import { requestHost } from "../tenancy/host";

const SINGLE = ["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"];

export const tokenEndpoint: Handler<OAuthEnv> = async (c) => {
  const form = await readForm(c);
  for (const name of SINGLE) if (form.getAll(name).length > 1) throw new OAuthError("invalid_request", `${name} may appear once.`);
  const grantType = form.get("grant_type");
  if (!grantType) throw new OAuthError("invalid_request", "grant_type is required.");
  const client = await authenticateClient(c.env, c.var.app.id, c.req.header("authorization"), form);
  // Browser exchange mode (SPEC §6): a client called from an allow-listed Origin gets its
  // refresh token in the partitioned cookie, instead of the body for a cookie-delivery
  // client, besides it for a body-delivery one (identity/clients.ts, sessions/refresh-cookie.ts).
  const origin = c.req.header("origin");
  const browser = origin !== undefined && (await isAllowedOrigin(c.env, c.var.app, origin));
  const keepInBody = client.refreshTokenDelivery === "body";
  const site = { app: c.var.app, host: requestHost(c) };
  switch (grantType) {
    case "authorization_code": {
      const body = await authorizationCodeGrant(c, client, form);
      if (browser) putRefreshTokenInCookie(c, c.var.app, site.host, client.id, body, keepInBody);
      return tokenJson(c, body);
    }
    case "refresh_token": {
      // Kinde's cookie refresh: no refresh_token in the body, the cookie carries it.
      const fromCookie = browser && !form.has("refresh_token") ? refreshTokenFromCookie(c.req.header("cookie"), site) : null;
      if (fromCookie) form.set("refresh_token", fromCookie);
      const body = await refreshTokenGrant(c, client, form);
      if (browser) putRefreshTokenInCookie(c, c.var.app, site.host, client.id, body, keepInBody);
      return tokenJson(c, body);
    }
    case "client_credentials":
      return tokenJson(c, await clientCredentialsGrant(c, client, form));
    default:
      throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported.`);
  }
};
