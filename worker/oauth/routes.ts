/**
 * The OAuth 2.1 / OIDC face (SPEC §4), selected by Host. Mounted at the root.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { OAuthError } from "../http/errors";
import { authorizeGet, authorizePost } from "./authorize";
import { CONSENT_PATH, consentPost } from "./consent";
import { deleteRegistration, readRegistration, registerEndpoint, registrationCors, updateRegistration } from "./register";
import { hostApp } from "../tenancy/host";
import type { OAuthEnv } from "./context";
import { oauthCors } from "./cors";
import { metadata } from "./discovery";
import { introspectEndpoint } from "./introspect";
import { jwksEndpoint } from "./jwks";
import { micAuthorizeGet, micAuthorizePost } from "./mic";
import { logoutFormPost, logoutGet } from "./logout";
import { revokeEndpoint } from "./revoke";
import { tokenEndpoint } from "./token";
import { userinfoEndpoint } from "./userinfo";

export const oauthRoutes = new Hono<OAuthEnv>();

/** Token-style endpoints never let a cache keep an answer, errors included. */
const noStore: MiddlewareHandler<OAuthEnv> = async (c, next) => {
  await next();
  if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
};

function only(...methods: string[]): MiddlewareHandler<OAuthEnv> {
  return async (c, next) => {
    if (!methods.includes(c.req.method)) {
      throw new OAuthError("method_not_allowed", `${c.req.method} is not allowed here.`, 405, { Allow: methods.join(", ") });
    }
    await next();
  };
}

const WELL_KNOWN = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"];
const JWKS = ["/.well-known/jwks.json", "/.well-known/jwks"];
const USERINFO = ["/oauth2/userinfo", "/oauth2/v2/user_profile"];

/** Kinvey MIC's paths (oauth/mic.ts): the SDKs' `/v3/oauth/auth` and `/oauth/token`. */
const MIC_AUTH = "/:version{v[0-9]+}/oauth/auth";
const MIC_TOKEN = "/oauth/token";

for (const path of [...WELL_KNOWN, ...JWKS, ...USERINFO, "/oauth2/auth", "/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/logout", MIC_AUTH, MIC_TOKEN]) {
  oauthRoutes.use(path, hostApp);
}
for (const path of ["/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", ...USERINFO, MIC_TOKEN]) oauthRoutes.use(path, noStore);

for (const path of WELL_KNOWN) {
  oauthRoutes.use(path, only("GET", "HEAD", "OPTIONS"), oauthCors("GET"));
  oauthRoutes.get(path, (c) => c.json(metadata(c.var.app, c.var.issuer), 200, { "Cache-Control": "public, max-age=300" }));
}
for (const path of JWKS) {
  oauthRoutes.use(path, only("GET", "HEAD", "OPTIONS"), oauthCors("GET"));
  oauthRoutes.get(path, jwksEndpoint);
}
for (const path of USERINFO) {
  oauthRoutes.use(path, only("GET", "POST", "OPTIONS"), oauthCors("GET, POST"));
  oauthRoutes.on(["GET", "POST"], path, userinfoEndpoint);
}
oauthRoutes.use("/oauth2/token", only("POST", "OPTIONS"), oauthCors("POST", true));
oauthRoutes.post("/oauth2/token", tokenEndpoint);
oauthRoutes.use("/oauth2/revoke", only("POST", "OPTIONS"), oauthCors("POST"));
oauthRoutes.post("/oauth2/revoke", revokeEndpoint);
oauthRoutes.use("/oauth2/introspect", only("POST"));
oauthRoutes.post("/oauth2/introspect", introspectEndpoint);
oauthRoutes.use("/oauth2/auth", only("GET", "POST"));
oauthRoutes.get("/oauth2/auth", authorizeGet);
oauthRoutes.post("/oauth2/auth", authorizePost);
oauthRoutes.get("/logout", logoutGet);
oauthRoutes.use(MIC_AUTH, only("GET", "POST"));
oauthRoutes.get(MIC_AUTH, micAuthorizeGet);
oauthRoutes.post(MIC_AUTH, micAuthorizePost);
oauthRoutes.use(MIC_TOKEN, only("POST"));
oauthRoutes.post(MIC_TOKEN, tokenEndpoint);

// Third-party clients: RFC 7591/7592 registration and the consent screen's answer.
const REGISTER = "/oauth2/register";
for (const path of [REGISTER, `${REGISTER}/:clientId`, CONSENT_PATH]) oauthRoutes.use(path, hostApp);
oauthRoutes.use(REGISTER, only("POST", "OPTIONS"), noStore, registrationCors);
oauthRoutes.post(REGISTER, registerEndpoint);
oauthRoutes.use(`${REGISTER}/:clientId`, only("GET", "PUT", "DELETE", "OPTIONS"), noStore, registrationCors);
oauthRoutes.get(`${REGISTER}/:clientId`, readRegistration);
oauthRoutes.put(`${REGISTER}/:clientId`, updateRegistration);
oauthRoutes.delete(`${REGISTER}/:clientId`, deleteRegistration);
oauthRoutes.use(CONSENT_PATH, only("POST"));
oauthRoutes.post(CONSENT_PATH, consentPost);
// Form posts only; cookie mode's fetch POST /logout goes on to the browser face.
oauthRoutes.use("/logout", logoutFormPost);

