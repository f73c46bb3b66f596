/**
 * The `connections` table: an app's upstream identity providers (schema/tables.ts). Secrets
 * are sealed like signing keys (keys/seal.ts) with `connection:{id}` as associated data, so a
 * ciphertext opens only for its own app and row. Connections are read on every hosted login
 * page, so they are cached per isolate for a short while; a change clears this isolate's entry.
 */
import type { Env } from "../env";
import { openJwk, sealJwk } from "../keys/seal";
import { randomId } from "../util/crypto";
import { PRESET_NAMES, type ConnectionOptions, type Strategy } from "./presets";
import type { ClientCredential } from "./upstream";

export interface ConnectionRow {
  id: string;
  app_id: string;
  name: string;
  display_name: string;
  strategy: Strategy;
  enabled: number;
  client_id: string;
  secret: string | null;
  options: string;
  created_at: number;
  updated_at: number;
}

export interface Connection {
  id: string;
  appId: string;
  name: string;
  displayName: string;
  strategy: Strategy;
  enabled: boolean;
  clientId: string;
  /** Sealed; open with connectionCredential. */
  sealedSecret: string | null;
  options: ConnectionOptions;
  createdAt: number;
  updatedAt: number;
}

export function connectionFromRow(row: ConnectionRow): Connection {
  return {
    id: row.id,
    appId: row.app_id,
    name: row.name,
    displayName: row.display_name,
    strategy: row.strategy,
    enabled: row.enabled === 1,
    clientId: row.client_id,
    sealedSecret: row.secret,
    options: JSON.parse(row.options) as ConnectionOptions,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function newConnectionId(): string {
  return `conn_${randomId(24)}`;
}

const CACHE_TTL_MS = 30_000;
const cache = new Map<string, { list: Connection[]; until: number }>();

export function clearConnectionCache(appId?: string): void {
  if (appId) cache.delete(appId);
  else cache.clear();
}

/** Every connection of the app, oldest first (cached). */
export async function connectionsOfApp(env: Env, appId: string): Promise<Connection[]> {
  const hit = cache.get(appId);
  if (hit && hit.until > Date.now()) return hit.list;
  const { results } = await env.DB.prepare("SELECT * FROM connections WHERE app_id = ? ORDER BY created_at, id").bind(appId).all<ConnectionRow>();
  const list = results.map(connectionFromRow);
  if (cache.size > 1000) cache.clear();
  cache.set(appId, { list, until: Date.now() + CACHE_TTL_MS });
  return list;
}

export async function connectionById(env: Env, appId: string, id: string): Promise<Connection | null> {
  if (!/^conn_[a-z0-9]{1,64}$/.test(id)) return null;
  return (await connectionsOfApp(env, appId)).find((c) => c.id === id) ?? null;
}

export async function enabledConnection(env: Env, appId: string, id: string): Promise<Connection | null> {
  const connection = await connectionById(env, appId, id);
  return connection?.enabled ? connection : null;
}

/** What the button on the login page says. */
export function buttonLabel(connection: Connection): string {
  return connection.displayName || PRESET_NAMES[connection.strategy];
}

/** What a connection's sealed secret holds: the client secret, or Apple's signing key. */
interface SecretEnvelope {
  client_secret?: string;
  private_key?: string;
}

export async function sealSecret(env: Env, appId: string, connectionId: string, secret: SecretEnvelope): Promise<string> {
  return sealJwk(env, appId, `connection:${connectionId}`, secret);
}

/** How Latch authenticates at the connection's token endpoint. */
export async function connectionCredential(env: Env, connection: Connection): Promise<ClientCredential | null> {
  if (!connection.sealedSecret) return null;
  const opened = (await openJwk(env, connection.appId, `connection:${connection.id}`, connection.sealedSecret)) as SecretEnvelope;
  if (connection.strategy === "oauth2:apple") {
    const { team_id, key_id } = connection.options;
    return opened.private_key && team_id && key_id ? { kind: "apple", privateKey: opened.private_key, teamId: team_id, keyId: key_id } : null;
  }
  return typeof opened.client_secret === "string" ? { kind: "secret", secret: opened.client_secret } : null;
}

export function insertConnectionStatement(env: Env, c: Connection): D1PreparedStatement {
  return env.DB.prepare(
    "INSERT INTO connections (id, app_id, name, display_name, strategy, enabled, client_id, secret, options, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).bind(c.id, c.appId, c.name, c.displayName, c.strategy, c.enabled ? 1 : 0, c.clientId, c.sealedSecret, JSON.stringify(c.options), c.createdAt, c.updatedAt);
}

export function updateConnectionStatement(env: Env, c: Connection): D1PreparedStatement {
  return env.DB.prepare(
    "UPDATE connections SET name = ?, display_name = ?, enabled = ?, client_id = ?, secret = ?, options = ?, updated_at = ? WHERE app_id = ? AND id = ?",
  ).bind(c.name, c.displayName, c.enabled ? 1 : 0, c.clientId, c.sealedSecret, JSON.stringify(c.options), c.updatedAt, c.appId, c.id);
}

/** The connection and its sign-ins under way; its users' identities go with identity/identities.ts. */
export function deleteConnectionStatements(env: Env, appId: string, id: string): D1PreparedStatement[] {
  return [
    env.DB.prepare("DELETE FROM connections WHERE app_id = ? AND id = ?").bind(appId, id),
    env.DB.prepare("DELETE FROM upstream_states WHERE app_id = ? AND connection_id = ?").bind(appId, id),
  ];
}

export function isNameTaken(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed: connections\./.test(err.message);
}
