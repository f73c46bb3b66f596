/**
 * OpenID Provider / OAuth Authorization Server metadata (OIDC Discovery, RFC 8414), per
 * app: one document under both well-known names, endpoints under the request's issuer.
 */
import { SIGNING_ALGS } from "../tenancy/settings";
import type { App } from "../tenancy/apps";
import { USER_SCOPES } from "./scopes";

export function metadata(app: App, issuer: string): Record<string, unknown> {
  const algs = [app.settings.signing_alg, ...SIGNING_ALGS.filter((a) => a !== app.settings.signing_alg)];
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/auth`,
    token_endpoint: `${issuer}/oauth2/token`,
    userinfo_endpoint: `${issuer}/oauth2/userinfo`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    end_session_endpoint: `${issuer}/logout`,
    scopes_supported: [...USER_SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: algs,
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    code_challenge_methods_supported: ["S256"],
    prompt_values_supported: ["none", "login", "create", "consent", "select_account"],
    claims_supported: [
      "iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
      "email", "email_verified", "name", "given_name", "family_name", "picture", "preferred_username", "updated_at", "org_code",
    ],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    frontchannel_logout_supported: false,
    backchannel_logout_supported: false,
    // Third-party clients (README "Using Latch as the authorization server of an MCP server").
    ...(app.settings.registration !== "off" ? { registration_endpoint: `${issuer}/oauth2/register` } : {}),
    client_id_metadata_document_supported: app.settings.client_id_metadata_documents === "on",
  };
}
