/**
 * OAuth clients of an app: creation rules (SPEC §4, §9) and lookup. Secrets are 50
 * alphanumerics (Kinde's SDK accepts 40–60), shown once, stored as SHA-256.
 */
import type { Env } from "../env";
import { normalizeOrigin } from "../tenancy/settings";
import { ACCEPTED_SCOPES, MANAGEMENT_SCOPES } from "./management-scopes";
import { ALPHANUMERIC, randomId, sha256Hex } from "../util/crypto";

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
  /** Created before Kinde's scope catalogue: its older scope names keep their wider meaning (management-scopes.ts). */
  legacyScopes: boolean;
}

export class ClientInputError extends Error {}

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
  };
}

export async function clientById(env: Env, appId: string, clientId: string): Promise<Client | null> {
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

/**
 * Creates a client; the secret (confidential, m2m) is in this response only. `fixed` names
 * the id and secret instead of generating them (the demo seed only).
 */
export async function createClient(env: Env, appId: string, input: Record<string, unknown>, fixed?: { id: string; secret: string | null }) {
  const known = ["name", "type", "redirect_uris", "post_logout_redirect_uris", "allowed_origins", "scopes", "refresh_token_delivery"];
  for (const key of Object.keys(input)) if (!known.includes(key)) throw new ClientInputError(`unknown field: ${key}`);
  const { name, type } = input;
  if (typeof name !== "string" || !name.trim() || name.length > 128) throw new ClientInputError("name must be a non-empty string");
  if (type !== "public" && type !== "confidential" && type !== "m2m") throw new ClientInputError("type must be public, confidential or m2m");
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
  const delivery = input.refresh_token_delivery ?? "body";
  if (!REFRESH_TOKEN_DELIVERIES.includes(delivery as RefreshTokenDelivery)) throw new ClientInputError("refresh_token_delivery must be body or cookie");
  if (type !== "m2m" && redirectUris.length === 0) throw new ClientInputError("redirect_uris needs at least one URI for public and confidential clients");
  if (type !== "m2m" && scopes.length) throw new ClientInputError("only m2m clients carry management scopes");

  const id = fixed?.id ?? randomId(32, "0123456789abcdef");
  const secret = type === "public" ? null : (fixed?.secret ?? randomId(50, ALPHANUMERIC));
  await env.DB.prepare(
    "INSERT INTO clients (id, app_id, name, type, secret_hash, redirect_uris, post_logout_redirect_uris, allowed_origins, scopes, refresh_token_delivery, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(id, appId, name.trim(), type, secret ? await sha256Hex(secret) : null, JSON.stringify(redirectUris), JSON.stringify(postLogout), JSON.stringify(origins), JSON.stringify(scopes), delivery, Date.now())
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
    refreshTokenDelivery: delivery as RefreshTokenDelivery,
    legacyScopes: false,
  };
  return { ...clientView(client), ...(secret ? { client_secret: secret } : {}) };
}
