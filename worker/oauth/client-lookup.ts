/**
 * The client a `client_id` names, for every OAuth endpoint: a stored client (operator or
 * dynamically registered; an expired dynamic client is unknown), or, when the app turned
 * `client_id_metadata_documents` on, the client an https URL's metadata document describes.
 */
import { isDevelopment, type Env } from "../env";
import { metadataDocumentClient, isMetadataUrl } from "../identity/client-metadata";
import { clientById, clientExpired, touchClientStatement, TOUCH_EVERY_MS, type Client } from "../identity/clients";
import type { App } from "../tenancy/apps";
import { USER_SCOPES } from "./scopes";

export async function resolveClient(env: Env, app: App, clientId: string, now = Date.now()): Promise<Client | null> {
  if (isMetadataUrl(clientId)) {
    if (app.settings.client_id_metadata_documents !== "on") return null;
    const found = await metadataDocumentClient(app.id, clientId, { development: isDevelopment(env) }, USER_SCOPES, now);
    // The reason stays in the log: the page and the token endpoint say only "unknown client".
    if (!found.ok) console.warn("client metadata document refused", found.reason);
    return found.ok ? found.client : null;
  }
  if (clientId.length > 128) return null;
  const client = await clientById(env, app.id, clientId);
  return client && !usable(app, client, now) ? null : client;
}

/** A stored client is usable unless it is a dynamic client that went unused for too long. */
export function usable(app: App, client: Client, now = Date.now()): boolean {
  return !clientExpired(client, app.settings.registration_client_ttl, now);
}

/** Records that a dynamic client was used, at most once a day (it expires when unused). */
export async function noteClientUse(env: Env, client: Client, now = Date.now()): Promise<void> {
  if (client.registration !== "dynamic" || (client.lastUsedAt ?? client.createdAt) + TOUCH_EVERY_MS > now) return;
  client.lastUsedAt = now;
  await touchClientStatement(env, client.appId, client.id, now).run();
}
