/**
 * grant_type=client_credentials (SPEC §4, §7): m2m clients only. Scopes are a subset of
 * the client's registered management scopes (all of them when none are asked for);
 * the audience defaults to the management API, `{issuer}/api`; others must be allow-listed.
 */
import { OAuthError } from "../../http/errors";
import type { Client } from "../../identity/clients";
import type { OAuthContext } from "../context";
import { refusedTarget, requestedTargets, TARGET_REFUSED } from "../resources";
import { narrowScope, parseScope } from "../scopes";
import { mintClientAccessToken } from "../../tokens/mint";

export async function clientCredentialsGrant(c: OAuthContext, client: Client, form: URLSearchParams): Promise<Record<string, unknown>> {
  if (client.type !== "m2m") throw new OAuthError("unauthorized_client", "Only machine-to-machine clients can use client_credentials.");
  const scope = narrowScope(client.scopes, parseScope(form.get("scope")));
  if (!scope) throw new OAuthError("invalid_scope", "The client is not allowed one of the requested scopes.");
  const targets = requestedTargets(form);
  if (!targets.ok) throw new OAuthError(targets.error, targets.description);
  const audience = targets.targets;
  // The management API, or what the client and app allow-list (oauth/resources.ts).
  const api = `${c.var.issuer}/api`;
  if (refusedTarget(audience.filter((a) => a !== api), client, c.var.app.settings.resources) !== null) throw new OAuthError("invalid_target", TARGET_REFUSED);
  const minted = await mintClientAccessToken(c.env, c.var.app, c.var.issuer, client.id, scope, audience);
  return { access_token: minted.token, token_type: "Bearer", expires_in: minted.expiresIn, scope: scope.join(" ") };
}
