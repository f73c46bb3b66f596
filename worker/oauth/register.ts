/**
 * Dynamic client registration (RFC 7591) at POST /oauth2/register, and the management of
 * a registered client with its registration access token (RFC 7592) at
 * /oauth2/register/{client_id}: GET, PUT (the metadata replaced whole), DELETE.
 *
 * The app's `registration` setting: `off` (403), `token` (an initial access token from the
 * operator API, `POST /admin/apps/{id}/registration-tokens`), `open`. Registrations are
 * limited per client address. A registered client is an ordinary row of `clients`
 * (identity/clients.ts): public with `none`, confidential with a secret; third-party, so
 * its users see the consent screen; refused after `registration_client_ttl` unused, and then
 * deleted by the scheduled purge (worker/ops/purge.ts).
 * Secrets and registration access tokens are shown once and stored as SHA-256.
 */
import type { Handler, MiddlewareHandler } from "hono";
import { readJsonObject } from "../http/body";
import { OAuthError } from "../http/errors";
import { parseClientMetadata, type ClientMetadata } from "../identity/client-registration";
import { clientById, createDynamicClient, deleteDynamicClient, replaceDynamicClient, type Client } from "../identity/clients";
import { clientAddress } from "../http/client-address";
import { countInWindow } from "../identity/rate-limit";
import { spendRegistrationToken } from "../identity/registration-tokens";
import { secretMatchesHash } from "../util/crypto";
import { forgetClient } from "../identity/client-cache";
import { usable } from "./client-lookup";
import { NO_STORE, type OAuthContext, type OAuthEnv } from "./context";
import { USER_SCOPES } from "./scopes";

/** Registrations per client address and app. */
export const REGISTRATION_LIMIT = { max: 20, windowMs: 3600_000 } as const;

function bearer(c: OAuthContext): string | null {
  const header = c.req.header("authorization") ?? "";
  const m = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  return m ? m[1]! : null;
}

function invalidToken(description: string): OAuthError {
  return new OAuthError("invalid_token", description, 401, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
}

function metadataOrThrow(body: Record<string, unknown>): ClientMetadata {
  const checked = parseClientMetadata(body, { knownScopes: USER_SCOPES, document: false });
  if (!checked.ok) throw new OAuthError(checked.error, checked.description);
  return checked.metadata;
}

/** The client information response (RFC 7591 §3.2.1, RFC 7592 §3). */
function information(c: OAuthContext, client: Client, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: client.id,
    client_id_issued_at: Math.floor(client.createdAt / 1000),
    ...client.metadata,
    client_name: client.name,
    registration_client_uri: `${c.var.issuer}/oauth2/register/${client.id}`,
    ...extra,
  };
}

/** CORS for browser-based clients: registration is a credential-less JSON API, so any origin. */
export const registrationCors: MiddlewareHandler<OAuthEnv> = async (c, next) => {
  const headers = { "Access-Control-Allow-Origin": "*", Vary: "Origin" };
  if (c.req.method === "OPTIONS") {
    return c.body(null, 204, { ...headers, "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE", "Access-Control-Allow-Headers": "Authorization, Content-Type", "Access-Control-Max-Age": "600" });
  }
  await next();
  for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  c.res.headers.set("Access-Control-Expose-Headers", "WWW-Authenticate");
};

export const registerEndpoint: Handler<OAuthEnv> = async (c) => {
  const { app } = c.var;
  const mode = app.settings.registration;
  if (mode === "off") throw new OAuthError("access_denied", "Dynamic client registration is off for this app.", 403);
  const now = Date.now();
  const wait = await countInWindow(c.env, `reg:${app.id}:${clientAddress(c.env, c.req.raw.headers)}`, REGISTRATION_LIMIT, now);
  if (wait) throw new OAuthError("slow_down", "Too many registrations from this address; try again later.", 429, { "Retry-After": String(wait) });
  if (mode === "token") {
    const token = bearer(c);
    if (!token) throw invalidToken("An initial access token is required to register (Authorization: Bearer).");
    if (!(await spendRegistrationToken(c.env, app.id, token, now))) throw invalidToken("The initial access token is not valid.");
  }
  const metadata = metadataOrThrow(await readJsonObject(c));
  const { client, secret, registrationToken } = await createDynamicClient(c.env, app.id, metadata, now);
  const body = information(c, client, {
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    registration_access_token: registrationToken,
  });
  return c.json(body, 201, NO_STORE);
};

/** The registered client the request's registration access token manages; 401 otherwise. */
async function managedClient(c: OAuthContext): Promise<Client> {
  const token = bearer(c);
  if (!token) throw invalidToken("The registration access token is required (Authorization: Bearer).");
  const id = c.req.param("clientId") ?? "";
  const client = /^[0-9a-f]{32}$/.test(id) ? await clientById(c.env, c.var.app.id, id) : null;
  // One answer for an unknown client and a wrong token, so neither can be probed.
  if (!client || client.registration !== "dynamic" || !client.registrationTokenHash || !usable(c.var.app, client) || !(await secretMatchesHash(token, client.registrationTokenHash))) {
    throw invalidToken("The registration access token is not valid for this client.");
  }
  return client;
}

export const readRegistration: Handler<OAuthEnv> = async (c) => c.json(information(c, await managedClient(c)), 200, NO_STORE);

const SERVER_FIELDS = ["registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"];

export const updateRegistration: Handler<OAuthEnv> = async (c) => {
  const client = await managedClient(c);
  const body = await readJsonObject(c);
  if (body.client_id !== client.id) throw new OAuthError("invalid_client_metadata", "client_id must be the client's id.");
  const server = SERVER_FIELDS.filter((f) => f in body);
  if (server.length) throw new OAuthError("invalid_client_metadata", `The request may not include ${server.join(", ")} (RFC 7592 section 2.2).`);
  if (body.client_secret !== undefined && (typeof body.client_secret !== "string" || !client.secretHash || !(await secretMatchesHash(body.client_secret, client.secretHash)))) {
    throw new OAuthError("invalid_client_metadata", "client_secret must be the client's current secret; it cannot be chosen.");
  }
  const metadata = metadataOrThrow(body);
  if ((metadata.token_endpoint_auth_method === "none") !== (client.type === "public")) {
    throw new OAuthError("invalid_client_metadata", "token_endpoint_auth_method cannot change between none and a client secret; register a new client.");
  }
  const updated = await replaceDynamicClient(c.env, client, metadata);
  forgetClient(client.appId, client.id);
  return c.json(information(c, updated), 200, NO_STORE);
};

export const deleteRegistration: Handler<OAuthEnv> = async (c) => {
  const client = await managedClient(c);
  await deleteDynamicClient(c.env, client.appId, client.id);
  forgetClient(client.appId, client.id);
  return c.body(null, 204, NO_STORE);
};
