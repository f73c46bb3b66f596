/**
 * Kinvey Mobile Identity Connect (issue 15): the Kinvey SDKs' `loginWithMIC` runs an
 * authorization-code grant on the app's auth host with the app key as `client_id`
 * (`{appKey}.{micId}` when the SDK names an auth service) and the app secret as the client
 * secret. That client is not a row of `clients`: it is the app itself, a confidential client
 * whose redirect URIs are the app's `mic_redirect_uris` setting, and it exists only while
 * that setting lists some. `micId`, when it names one of the app's connections, signs in
 * through that connection (oauth/mic.ts).
 */
import type { Env } from "../env";
import { appById } from "../tenancy/apps";
import type { Client } from "./clients";

const MIC_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The MIC auth service a client id names: null when it is no MIC client id of this app. */
export function micClientParts(appId: string, clientId: string): { micId: string | null } | null {
  if (clientId === appId) return { micId: null };
  if (!clientId.startsWith(`${appId}.`)) return null;
  const micId = clientId.slice(appId.length + 1);
  return MIC_ID.test(micId) ? { micId } : null;
}

export async function micClient(env: Env, appId: string, clientId: string): Promise<Client | null> {
  if (!micClientParts(appId, clientId)) return null;
  const app = await appById(env, appId);
  if (!app || app.settings.mic_redirect_uris.length === 0) return null;
  return {
    id: clientId,
    appId,
    name: "Kinvey Mobile Identity Connect",
    type: "confidential",
    secretHash: app.appSecretHash,
    redirectUris: app.settings.mic_redirect_uris,
    postLogoutRedirectUris: [],
    allowedOrigins: [],
    scopes: [],
    refreshTokenDelivery: "body",
    legacyScopes: false,
    // The app's own Kinvey SDK: first-party, so no consent screen (the SDK's API grant expects a 302 with the code).
    registration: "operator",
    audiences: [],
    metadata: null,
    registrationTokenHash: null,
    createdAt: app.createdAt,
    lastUsedAt: null,
  };
}
