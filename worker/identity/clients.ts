/**
 * OAuth clients of an app: creation rules (SPEC §4, §9) and lookup. Secrets are 50
 * alphanumerics (Kinde's SDK accepts 40–60), shown once, stored as SHA-256.
 */
import type { Env } from "../env";
import { normalizeOrigin, SettingsError, targetList } from "../tenancy/settings";
import { ACCEPTED_SCOPES, MANAGEMENT_SCOPES } from "./management-scopes";
import { ALPHANUMERIC, randomId, randomToken, sha256Hex } from "../util/crypto";
import { registeredScopes, type ClientMetadata } from "./client-registration";
import { deleteClientConsentsStatement } from "./consents";
import { micClient, micClientParts } from "./mic-client";

export type ClientType = "public" | "confidential" | "m2m";

export interface ClientRow {
  id: string;
  app_id: string;
  name: string;
  type: ClientType;
  secret_hash: string | null;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  allowed_origins: string;
  scopes: string;
  refresh_token_delivery: RefreshTokenDelivery;
  legacy_scopes: number;
  created_at: number;
  registration: "operator" | "dynamic";
  audiences: string;
  metadata: string;
  registration_token_hash: string | null;
  last_used_at: number | null;
}

/**
 * Where a browser client (an allow-listed Origin at the token endpoint) gets its refresh
 * token: `body`, as standard SPA libraries expect (OAuth 2.1 allows it for public clients
 * with rotation and reuse detection, which chains have), or `cookie`: the partitioned
 * exchange-mode cookie that Latch's own browser SDK refreshes with through `POST /refresh`.
 * Native clients (no Origin) always get it in the body.
 */
export type RefreshTokenDelivery = "body" | "cookie";
export const REFRESH_TOKEN_DELIVERIES: readonly RefreshTokenDelivery[] = ["body", "cookie"];

export interface Client {
  id: string;
  appId: string;
  name: string;
  type: ClientType;
  secretHash: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  allowedOrigins: string[];
  scopes: string[];
  refreshTokenDelivery: RefreshTokenDelivery;
  /**
   * `operator`: created by the operator API, first-party (no consent screen). `dynamic`:
   * RFC 7591 registration; `document`: a Client ID Metadata Document (never stored). Both
   * are third-party: the user consents before they get a code.
   */
  registration: "operator" | "dynamic" | "document";
  /** Audiences / resources this client may ask for besides the app's `resources` (issue 18). */
  audiences: string[];
  /** What a third-party client registered (RFC 7591); null for operator clients. */
  metadata: ClientMetadata | null;
  registrationTokenHash: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  /** Created before Kinde's scope catalogue: its older scope names keep their wider meaning (management-scopes.ts). */
  legacyScopes: boolean;
}

export class ClientInputError extends Error {}

/** Operator clients are the app's own; every other client is shown the consent screen. */
export function isFirstParty(client: Pick<Client, "registration">): boolean {
  return client.registration === "operator";
}

/** Scopes a third-party client registered (null: no restriction beyond the known user scopes). */
export function clientScopeLimit(client: Client): string[] | null {
  return client.metadata ? registeredScopes(client.metadata) : null;
}

/** Whether the client may use a grant type: operator clients by their type, third-party ones as registered. */
export function clientAllowsGrant(client: Client, grantType: string): boolean {
  return client.metadata ? (client.metadata.grant_types as string[]).includes(grantType) : true;
}

export function clientFromRow(row: ClientRow): Client {
  return {
    id: row.id,
    appId: row.app_id,
    name: row.name,
    type: row.type,
    secretHash: row.secret_hash,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    allowedOrigins: JSON.parse(row.allowed_origins) as string[],
    scopes: JSON.parse(row.scopes) as string[],
    refreshTokenDelivery: row.refresh_token_delivery,
    registration: row.registration ?? "operator",
    audiences: JSON.parse(row.audiences ?? "[]") as string[],
    metadata: row.registration === "dynamic" ? (JSON.parse(row.metadata) as ClientMetadata) : null,
    registrationTokenHash: row.registration_token_hash ?? null,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at ?? null,
    legacyScopes: row.legacy_scopes === 1,
  };
}

export function clientView(client: Client) {
  return {
    client_id: client.id,
    name: client.name,
    type: client.type,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    allowed_origins: client.allowedOrigins,
    scopes: client.scopes,
    refresh_token_delivery: client.refreshTokenDelivery,
    audiences: client.audiences,
    registration: client.registration,
  };
}

export async function clientById(env: Env, appId: string, clientId: string): Promise<Client | null> {
  if (micClientParts(appId, clientId)) return micClient(env, appId, clientId);
  const row = await env.DB.prepare("SELECT * FROM clients WHERE app_id = ? AND id = ?").bind(appId, clientId).first<ClientRow>();
  return row ? clientFromRow(row) : null;
}

export async function clientsOfApp(env: Env, appId: string): Promise<Client[]> {
  const { results } = await env.DB.prepare("SELECT * FROM clients WHERE app_id = ? ORDER BY created_at").bind(appId).all<ClientRow>();
  return results.map(clientFromRow);
}

/** Every origin any client of the app lists in its `allowed_origins`. */
export async function clientOrigins(env: Env, appId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT allowed_origins FROM clients WHERE app_id = ?").bind(appId).all<{ allowed_origins: string }>();
  return results.flatMap((row) => JSON.parse(row.allowed_origins) as string[]);
}

/**
 * A redirect URI: absolute, no fragment; https, or http on loopback / localhost only,
 * or a private-use scheme (`com.example.app:/cb`) for native apps (RFC 8252).
 */
export function validRedirectUri(value: unknown): string {
  if (typeof value !== "string" || value.length > 2048) throw new ClientInputError("redirect URIs must be strings");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ClientInputError(`not an absolute URI: ${value}`);
  }
  if (url.hash || value.includes("#")) throw new ClientInputError(`redirect URIs may not have a fragment: ${value}`);
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname) || url.hostname.endsWith(".localhost");
  if (url.protocol === "http:" && !local) throw new ClientInputError(`http redirect URIs are allowed on loopback only: ${value}`);
  if (["javascript:", "data:", "file:", "vbscript:"].includes(url.protocol)) throw new ClientInputError(`scheme not allowed: ${value}`);
  if (url.protocol !== "https:" && url.protocol !== "http:" && !/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol)) {
    throw new ClientInputError(`custom schemes must be reverse-domain names (RFC 8252): ${value}`);
  }
  return value;
}

function list<T>(value: unknown, name: string, each: (v: unknown) => T, max = 50): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > max) throw new ClientInputError(`${name} must be an array of at most ${max} items`);
  return value.map(each);
}

/** Scopes that management endpoints require (SPEC §7); any of ACCEPTED_SCOPES may be given. */
export { MANAGEMENT_SCOPES };

/** The list fields of an operator client, checked (absent ones empty); shared by create and update (client-admin.ts). */
export function clientLists(input: Record<string, unknown>) {
  const redirectUris = list(input.redirect_uris, "redirect_uris", validRedirectUri);
  const postLogout = list(input.post_logout_redirect_uris, "post_logout_redirect_uris", validRedirectUri);
  const origins = list(input.allowed_origins, "allowed_origins", (v) => {
    const origin = normalizeOrigin(v);
    if (!origin) throw new ClientInputError(`not an origin: ${String(v)}`);
    return origin;
  });
  const scopes = list(
    input.scopes,
    "scopes",
    (v) => {
      if (typeof v !== "string" || !ACCEPTED_SCOPES.has(v)) throw new ClientInputError(`unknown scope: ${String(v)}`);
      return v;
    },
    ACCEPTED_SCOPES.size,
  );
  let audiences: string[];
  try {
    audiences = input.audiences === undefined ? [] : targetList(input.audiences, "audiences");
  } catch (err) {
    if (err instanceof SettingsError) throw new ClientInputError(err.message);
    throw err;
  }
  const delivery = input.refresh_token_delivery ?? "body";
  if (!REFRESH_TOKEN_DELIVERIES.includes(delivery as RefreshTokenDelivery)) throw new ClientInputError("refresh_token_delivery must be body or cookie");
  return { redirectUris, postLogout, origins, scopes, audiences, delivery: delivery as RefreshTokenDelivery };
}

/** What every operator client must satisfy whatever its lists; the rules of SPEC §9. */
export function clientShapeProblem(type: ClientType, redirectUris: string[], scopes: string[]): string | null {
  if (type !== "m2m" && redirectUris.length === 0) return "redirect_uris needs at least one URI for public and confidential clients";
  if (type !== "m2m" && scopes.length) return "only m2m clients carry management scopes";
  return null;
}

/**
 * Creates a client; the secret (confidential, m2m) is in this response only. `fixed` names
 * the id and secret instead of generating them (the demo seed only).
 */
export async function createClient(env: Env, appId: string, input: Record<string, unknown>, fixed?: { id: string; secret: string | null }) {
  const known = ["name", "type", "redirect_uris", "post_logout_redirect_uris", "allowed_origins", "scopes", "refresh_token_delivery", "audiences"];
  for (const key of Object.keys(input)) if (!known.includes(key)) throw new ClientInputError(`unknown field: ${key}`);
  const { name, type } = input;
  if (typeof name !== "string" || !name.trim() || name.length > 128) throw new ClientInputError("name must be a non-empty string");
  if (type !== "public" && type !== "confidential" && type !== "m2m") throw new ClientInputError("type must be public, confidential or m2m");
  const { redirectUris, postLogout, origins, scopes, audiences, delivery } = clientLists(input);
  const problem = clientShapeProblem(type, redirectUris, scopes);
  if (problem) throw new ClientInputError(problem);

  const id = fixed?.id ?? randomId(32, "0123456789abcdef");
  const secret = type === "public" ? null : (fixed?.secret ?? randomId(50, ALPHANUMERIC));
  await env.DB.prepare(
    "INSERT INTO clients (id, app_id, name, type, secret_hash, redirect_uris, post_logout_redirect_uris, allowed_origins, scopes, refresh_token_delivery, audiences, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(id, appId, name.trim(), type, secret ? await sha256Hex(secret) : null, JSON.stringify(redirectUris), JSON.stringify(postLogout), JSON.stringify(origins), JSON.stringify(scopes), delivery, JSON.stringify(audiences), Date.now())
    .run();
  const client: Client = {
    id,
    appId,
    name: name.trim(),
    type,
    secretHash: null,
    redirectUris,
    postLogoutRedirectUris: postLogout,
    allowedOrigins: origins,
    scopes,
    refreshTokenDelivery: delivery,
    registration: "operator",
    audiences,
    metadata: null,
    registrationTokenHash: null,
    createdAt: Date.now(),
    lastUsedAt: null,
    legacyScopes: false,
  };
  return { ...clientView(client), ...(secret ? { client_secret: secret } : {}) };
}

// --- Third-party clients: RFC 7591 registration, RFC 7592 management --------------------

/** A third-party client's display name: what it registered, else the host it redirects to. */
function dynamicName(metadata: ClientMetadata): string {
  if (metadata.client_name) return metadata.client_name;
  try {
    return new URL(metadata.redirect_uris[0]!).host || "Unnamed application";
  } catch {
    return "Unnamed application";
  }
}

/** Confidential exactly when it authenticates with a secret. */
function typeOf(metadata: ClientMetadata): ClientType {
  return metadata.token_endpoint_auth_method === "none" ? "public" : "confidential";
}

export interface RegisteredClient {
  client: Client;
  /** Shown once, in the registration response. */
  secret: string | null;
  registrationToken: string;
}

/** Stores a dynamically registered client with a fresh id, secret (confidential) and registration access token. */
export async function createDynamicClient(env: Env, appId: string, metadata: ClientMetadata, now = Date.now()): Promise<RegisteredClient> {
  const id = randomId(32, "0123456789abcdef");
  const type = typeOf(metadata);
  const secret = type === "confidential" ? randomId(50, ALPHANUMERIC) : null;
  const registrationToken = randomToken();
  const row: ClientRow = {
    id,
    app_id: appId,
    name: dynamicName(metadata),
    type,
    secret_hash: secret ? await sha256Hex(secret) : null,
    redirect_uris: JSON.stringify(metadata.redirect_uris),
    post_logout_redirect_uris: "[]",
    allowed_origins: "[]",
    scopes: "[]",
    refresh_token_delivery: "body",
    legacy_scopes: 0,
    created_at: now,
    registration: "dynamic",
    audiences: "[]",
    metadata: JSON.stringify(metadata),
    registration_token_hash: await sha256Hex(registrationToken),
    last_used_at: now,
  };
  await env.DB.prepare(
    `INSERT INTO clients (id, app_id, name, type, secret_hash, redirect_uris, post_logout_redirect_uris, allowed_origins, scopes, refresh_token_delivery, legacy_scopes, created_at, registration, audiences, metadata, registration_token_hash, last_used_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      row.id, row.app_id, row.name, row.type, row.secret_hash, row.redirect_uris, row.post_logout_redirect_uris, row.allowed_origins, row.scopes,
      row.refresh_token_delivery, row.legacy_scopes, row.created_at, row.registration, row.audiences, row.metadata, row.registration_token_hash, row.last_used_at,
    )
    .run();
  return { client: clientFromRow(row), secret, registrationToken };
}

/**
 * RFC 7592 update: the registered metadata is replaced whole. A change between public and
 * confidential is refused by the caller; the secret and the registration token stay.
 */
export async function replaceDynamicClient(env: Env, client: Client, metadata: ClientMetadata): Promise<Client> {
  await env.DB.prepare("UPDATE clients SET name = ?, redirect_uris = ?, metadata = ? WHERE app_id = ? AND id = ? AND registration = 'dynamic'")
    .bind(dynamicName(metadata), JSON.stringify(metadata.redirect_uris), JSON.stringify(metadata), client.appId, client.id)
    .run();
  return { ...client, name: dynamicName(metadata), redirectUris: metadata.redirect_uris, metadata };
}

export async function deleteDynamicClient(env: Env, appId: string, clientId: string): Promise<void> {
  await env.DB.batch([
    env.DB.prepare("DELETE FROM clients WHERE app_id = ? AND id = ? AND registration = 'dynamic'").bind(appId, clientId),
    deleteClientConsentsStatement(env, appId, clientId),
  ]);
}

/** A dynamic client unused (no authorization or token request) for `ttlSeconds` is gone, swept or not. */
export function clientExpired(client: Pick<Client, "registration" | "lastUsedAt" | "createdAt">, ttlSeconds: number, now: number): boolean {
  return client.registration === "dynamic" && (client.lastUsedAt ?? client.createdAt) + ttlSeconds * 1000 <= now;
}

/** Last use is recorded at most once a day per client, so a busy client costs no write per request. */
export const TOUCH_EVERY_MS = 24 * 3600_000;

export function touchClientStatement(env: Env, appId: string, clientId: string, now: number): D1PreparedStatement {
  return env.DB.prepare("UPDATE clients SET last_used_at = ? WHERE app_id = ? AND id = ? AND registration = 'dynamic'").bind(now, appId, clientId);
}

/**
 * The scheduled purge's selection (worker/ops/purge.ts, rowids for a bounded DELETE) of
 * dynamic clients unused for their app's `registration_client_ttl`: their consents first,
 * then each client once its consents are gone, so no run leaves a consent without its client.
 * `a` is the apps row, `ttl` the SQL of the app's setting in seconds, ?1 the time (ms).
 */
export function unusedDynamicClientRows(ttl: string): { consents: string; clients: string } {
  const unused = `c.app_id = a.id AND c.registration = 'dynamic' AND coalesce(c.last_used_at, c.created_at) <= ?1 - ${ttl} * 1000`;
  return {
    consents: `SELECT co.rowid FROM apps a CROSS JOIN clients c CROSS JOIN consents co WHERE ${unused} AND co.app_id = c.app_id AND co.client_id = c.id`,
    clients: `SELECT c.rowid FROM apps a CROSS JOIN clients c WHERE ${unused} AND NOT EXISTS (SELECT 1 FROM consents co WHERE co.app_id = c.app_id AND co.client_id = c.id)`,
  };
}
