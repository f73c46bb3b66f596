/**
 * Client authentication at the token, revocation and introspection endpoints (SPEC §4):
 * `client_secret_basic`, `client_secret_post`, or `none` for public clients. A public
 * client that presents a secret is refused rather than ignored: it is misconfigured, and
 * a secret sent by a public client is not a secret.
 */
import type { Env } from "../env";
import { OAuthError } from "../http/errors";
import type { Client } from "../identity/clients";
import { appById } from "../tenancy/apps";
import { secretMatchesHash } from "../util/crypto";
import { cachedClientEntry, rememberClient } from "../identity/client-cache";
import { noteClientUse, resolveClient, usable } from "./client-lookup";

export interface PresentedClient {
  clientId: string;
  secret: string | null;
  method: "client_secret_basic" | "client_secret_post" | "none";
}

function invalidClient(description: string, basic: boolean): OAuthError {
  return new OAuthError("invalid_client", description, 401, basic ? { "WWW-Authenticate": 'Basic realm="oauth2", charset="UTF-8"' } : {});
}

function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return null;
  }
}

/** What the request presents, before any lookup (pure). */
export function presentedClient(authorization: string | null | undefined, form: URLSearchParams): PresentedClient {
  const bodyId = form.getAll("client_id");
  const bodySecret = form.getAll("client_secret");
  if (bodyId.length > 1 || bodySecret.length > 1) throw new OAuthError("invalid_request", "client_id and client_secret may appear once.");
  if (authorization && /^basic /i.test(authorization)) {
    if (bodySecret.length) throw new OAuthError("invalid_request", "Use one client authentication method, not two.");
    let decoded: string;
    try {
      decoded = atob(authorization.slice(6).trim());
    } catch {
      throw invalidClient("The Basic credentials are not base64.", true);
    }
    const colon = decoded.indexOf(":");
    const id = colon === -1 ? null : formDecode(decoded.slice(0, colon));
    const secret = colon === -1 ? null : formDecode(decoded.slice(colon + 1));
    if (!id || secret === null) throw invalidClient("The Basic credentials are malformed.", true);
    if (bodyId[0] !== undefined && bodyId[0] !== id) throw new OAuthError("invalid_request", "client_id differs from the Basic credentials.");
    // "id:" (an empty secret) is how some public clients send their id in the header.
    return { clientId: id, secret: secret === "" ? null : secret, method: "client_secret_basic" };
  }
  const id = bodyId[0];
  if (!id) throw invalidClient("Client authentication is required (client_id).", false);
  const secret = bodySecret[0];
  return secret !== undefined ? { clientId: id, secret, method: "client_secret_post" } : { clientId: id, secret: null, method: "none" };
}

/**
 * Clients are read on every token request; like apps, they are cached per isolate for a
 * short while (identity/client-cache.ts: whoever changes a client forgets it there).
 */
async function cachedClient(env: Env, appId: string, clientId: string): Promise<Client | null> {
  const app = await appById(env, appId);
  if (!app) return null;
  const hit = cachedClientEntry(appId, clientId);
  if (hit) return usable(app, hit) ? hit : null;
  const client = await resolveClient(env, app, clientId);
  if (client) rememberClient(client);
  return client;
}

/** The authenticated client of the request; throws `invalid_client` (401). */
export async function authenticateClient(env: Env, appId: string, authorization: string | null | undefined, form: URLSearchParams): Promise<Client> {
  const presented = presentedClient(authorization, form);
  const basic = presented.method === "client_secret_basic";
  if (presented.clientId.length > 2048) throw invalidClient("Unknown client.", basic);
  const client = await cachedClient(env, appId, presented.clientId);
  if (!client) throw invalidClient("Unknown client.", basic);
  if (client.type === "public") {
    if (presented.secret !== null) throw invalidClient("Public clients do not have a secret and must not send one.", basic);
  } else {
    if (presented.secret === null || !client.secretHash) throw invalidClient("This client must authenticate with its secret.", basic);
    if (!(await secretMatchesHash(presented.secret, client.secretHash))) throw invalidClient("Client authentication failed.", basic);
  }
  await noteClientUse(env, client);
  return client;
}
