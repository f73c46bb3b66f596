/**
 * grant_type=client_credentials (SPEC §4, §7): m2m clients only. Scopes are a subset of
 * the client's registered management scopes (all of them when none are asked for);
 * the audience defaults to the management API, `{issuer}/api`.
 */
import { OAuthError } from "../../http/errors";
import type { Client } from "../../identity/clients";
import type { OAuthContext } from "../context";
import { narrowScope, parseScope } from "../scopes";
import { mintClientAccessToken } from "../../tokens/mint";

export async function clientCredentialsGrant(c: OAuthContext, client: Client, form: URLSearchParams): Promise<Record<string, unknown>> {
  if (client.type !== "m2m") throw new OAuthError("unauthorized_client", "Only machine-to-machine clients can use client_credentials.");
  const scope = narrowScope(client.scopes, parseScope(form.get("scope")));
  if (!scope) throw new OAuthError("invalid_scope", "The client is not allowed one of the requested scopes.");
  const audience = [...new Set(form.getAll("audience").flatMap((a) => a.split(" ")).filter(Boolean))];
  if (audience.length > 10 || audience.some((a) => a.length > 2048)) throw new OAuthError("invalid_request", "Too many or too long audience values.");
  const minted = await mintClientAccessToken(c.env, c.var.app, c.var.issuer, client.id, scope, audience);
  return { access_token: minted.token, token_type: "Bearer", expires_in: minted.expiresIn, scope: scope.join(" ") };
}
