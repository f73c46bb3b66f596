/** The `passkeys` table: one row per WebAuthn credential, id = the credential id (base64url). */
import type { Env } from "../env";

export interface PasskeyRow {
  id: string;
  app_id: string;
  user_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of transports. */
  transports: string;
  device_type: string | null;
  backed_up: number;
  name: string | null;
  created_at: number;
  last_used_at: number | null;
}

/** What the API and pages show of a passkey: never the key itself. */
export function passkeyView(row: PasskeyRow) {
  return {
    id: row.id,
    name: row.name,
    device_type: row.device_type,
    backed_up: row.backed_up === 1,
    transports: JSON.parse(row.transports) as string[],
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: row.last_used_at === null ? null : new Date(row.last_used_at).toISOString(),
  };
}

export const MAX_PASSKEYS_PER_USER = 20;
export const MAX_NAME_LENGTH = 64;

export async function passkeysOfUser(env: Env, appId: string, userId: string): Promise<PasskeyRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM passkeys WHERE app_id = ? AND user_id = ? ORDER BY created_at").bind(appId, userId).all<PasskeyRow>();
  return results;
}

export async function passkeyCount(env: Env, appId: string, userId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM passkeys WHERE app_id = ? AND user_id = ?").bind(appId, userId).first<{ n: number }>();
  return row?.n ?? 0;
}

export function passkeyById(env: Env, appId: string, id: string): Promise<PasskeyRow | null> {
  return env.DB.prepare("SELECT * FROM passkeys WHERE app_id = ? AND id = ?").bind(appId, id).first<PasskeyRow>();
}

export function insertPasskeyStatement(
  env: Env,
  row: Omit<PasskeyRow, "last_used_at">,
): D1PreparedStatement {
  return env.DB.prepare(
    "INSERT INTO passkeys (id, app_id, user_id, public_key, counter, transports, device_type, backed_up, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
  ).bind(row.id, row.app_id, row.user_id, row.public_key, row.counter, row.transports, row.device_type, row.backed_up, row.name, row.created_at);
}

/**
 * Records a use. The counter moves only from the value the verification saw, so of two
 * concurrent assertions carrying the same counter only one is accepted.
 */
export async function recordUse(
  env: Env,
  appId: string,
  id: string,
  use: { previousCounter: number; newCounter: number; backedUp: boolean; now: number },
): Promise<boolean> {
  const res = await env.DB.prepare("UPDATE passkeys SET counter = ?, backed_up = ?, last_used_at = ? WHERE app_id = ? AND id = ? AND counter = ?")
    .bind(use.newCounter, use.backedUp ? 1 : 0, use.now, appId, id, use.previousCounter)
    .run();
  return res.meta.changes === 1;
}

export function renamePasskeyStatement(env: Env, appId: string, userId: string, id: string, name: string | null): D1PreparedStatement {
  return env.DB.prepare("UPDATE passkeys SET name = ? WHERE app_id = ? AND user_id = ? AND id = ?").bind(name, appId, userId, id);
}

export function deletePasskeyStatement(env: Env, appId: string, userId: string, id: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM passkeys WHERE app_id = ? AND user_id = ? AND id = ?").bind(appId, userId, id);
}

export function deleteUserPasskeysStatement(env: Env, appId: string, userId: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM passkeys WHERE app_id = ? AND user_id = ?").bind(appId, userId);
}

/** A display name: trimmed, 1–64 characters, no control characters; null when unusable. */
export function cleanName(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const name = value.trim();
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) return null;
  return name;
}
