/**
 * OIDC userinfo at /oauth2/userinfo and Kinde's /oauth2/v2/user_profile (SPEC §4): the
 * user's current profile (one D1 read), claims filtered by the token's scopes, plus the
 * Kinde profile names (`id`, `preferred_email`, `first_name`, `last_name`).
 */
import type { Handler } from "hono";
import { OAuthError } from "../http/errors";
import { profileClaims } from "../identity/claims";
import { userById } from "../identity/users";
import { bearerToken, invalidToken, verifyAccessToken } from "../tokens/verify";
import type { OAuthEnv } from "./context";
import { idTokenUserClaims } from "../tokens/mint";
import { parseScope } from "./scopes";

export const userinfoEndpoint: Handler<OAuthEnv> = async (c) => {
  const { app, issuer } = c.var;
  const token = bearerToken(c.req.raw.headers);
  if (token === null) {
    // RFC 6750 §3.1: no credentials, no error code.
    throw new OAuthError("invalid_token", "An access token is required.", 401, { "WWW-Authenticate": `Bearer realm="${issuer}"` });
  }
  if (!token) throw invalidToken("The Authorization header is not a Bearer token.", issuer);
  const payload = await verifyAccessToken(c.env, app, token, { issuer, realm: issuer });
  const scope = parseScope(payload.scope);
  if (!scope.includes("openid")) {
    throw new OAuthError("insufficient_scope", "userinfo needs the openid scope.", 403, {
      "WWW-Authenticate": `Bearer realm="${issuer}", error="insufficient_scope", scope="openid"`,
    });
  }
  const user = await userById(c.env, app.id, payload.sub);
  if (!user || user.status !== "active") throw invalidToken("The user of this token is no longer active.", issuer);
  const claims = { ...profileClaims(user), permissions: [], roles: [], feature_flags: {} };
  const shown = idTokenUserClaims(claims, scope);
  return c.json(
    {
      sub: user.id,
      ...shown,
      // Kinde's user_profile names.
      id: user.id,
      ...(typeof shown.email === "string" ? { preferred_email: shown.email } : {}),
      ...(typeof shown.given_name === "string" ? { first_name: shown.given_name } : {}),
      ...(typeof shown.family_name === "string" ? { last_name: shown.family_name } : {}),
    },
    200,
    { "Cache-Control": "no-store" },
  );
};
