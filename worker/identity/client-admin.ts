/**
 * Operator actions on an app's own (operator) clients, shared by the operator API and the
 * console: change the lists, delete, reset the secret. Each forgets the client in this
 * isolate's cache (client-cache.ts) at once; other isolates follow within CLIENT_TTL_MS. Third-party clients are managed by
 * whoever registered them (RFC 7592) and are not changed here.
 */
import type { Env } from "../env";
import { ALPHANUMERIC, randomId, sha256Hex } from "../util/crypto";
import { clientById, ClientInputError, clientLists, clientShapeProblem, clientView, type Client } from "./clients";
import { forgetClient } from "./client-cache";
import { deleteClientConsentsStatement } from "./consents";

/** What an operator may change on a client; a list that is given replaces the stored one. */
export const CLIENT_PATCH_FIELDS = ["name", "redirect_uris", "post_logout_redirect_uris", "allowed_origins", "scopes", "refresh_token_delivery", "audiences"] as const;

export class ClientNotFoundError extends Error {}

async function operatorClient(env: Env, appId: string, clientId: string): Promise<Client> {
  const client = await clientById(env, appId, clientId);
  if (!client || client.registration !== "operator") throw new ClientNotFoundError(`No operator client with id ${clientId}.`);
  return client;
}

export async function updateClient(env: Env, appId: string, clientId: string, patch: Record<string, unknown>) {
  const client = await operatorClient(env, appId, clientId);
  for (const key of Object.keys(patch)) if (!(CLIENT_PATCH_FIELDS as readonly string[]).includes(key)) throw new ClientInputError(`unknown field: ${key}`);
  let name = client.name;
  if ("name" in patch) {
    if (typeof patch.name !== "string" || !patch.name.trim() || patch.name.length > 128) throw new ClientInputError("name must be a non-empty string");
    name = patch.name.trim();
  }
  // Absent lists keep their stored value: checked as given, then merged.
  const given = clientLists(patch);
  const next: Client = {
    ...client,
    name,
    redirectUris: "redirect_uris" in patch ? given.redirectUris : client.redirectUris,
    postLogoutRedirectUris: "post_logout_redirect_uris" in patch ? given.postLogout : client.postLogoutRedirectUris,
    allowedOrigins: "allowed_origins" in patch ? given.origins : client.allowedOrigins,
    scopes: "scopes" in patch ? given.scopes : client.scopes,
    refreshTokenDelivery: "refresh_token_delivery" in patch ? given.delivery : client.refreshTokenDelivery,
    audiences: "audiences" in patch ? given.audiences : client.audiences,
  };
  const problem = clientShapeProblem(next.type, next.redirectUris, next.scopes);
  if (problem) throw new ClientInputError(problem);
  await env.DB.prepare(
    "UPDATE clients SET name = ?, redirect_uris = ?, post_logout_redirect_uris = ?, allowed_origins = ?, scopes = ?, refresh_token_delivery = ?, audiences = ? WHERE app_id = ? AND id = ?",
  )
    .bind(
      next.name,
      JSON.stringify(next.redirectUris),
      JSON.stringify(next.postLogoutRedirectUris),
      JSON.stringify(next.allowedOrigins),
      JSON.stringify(next.scopes),
      next.refreshTokenDelivery,
      JSON.stringify(next.audiences),
      appId,
      clientId,
    )
    .run();
  forgetClient(appId, clientId);
  return clientView(next);
}

/** Deletes the client and its consents; its refresh tokens stop working at once (the token endpoint finds no client). */
export async function deleteClient(env: Env, appId: string, clientId: string): Promise<void> {
  await operatorClient(env, appId, clientId);
  await env.DB.batch([
    env.DB.prepare("DELETE FROM clients WHERE app_id = ? AND id = ? AND registration = 'operator'").bind(appId, clientId),
    deleteClientConsentsStatement(env, appId, clientId),
  ]);
  forgetClient(appId, clientId);
}

/** A new secret for a confidential or m2m client; the old one stops working now. Shown only in this answer. */
export async function resetClientSecret(env: Env, appId: string, clientId: string) {
  const client = await operatorClient(env, appId, clientId);
  if (client.type === "public") throw new ClientInputError("public clients have no secret");
  const secret = randomId(50, ALPHANUMERIC);
  await env.DB.prepare("UPDATE clients SET secret_hash = ? WHERE app_id = ? AND id = ?").bind(await sha256Hex(secret), appId, clientId).run();
  forgetClient(appId, clientId);
  return { ...clientView(client), client_secret: secret };
}
