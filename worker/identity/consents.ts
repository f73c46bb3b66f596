/**
 * A user's consents to third-party clients (dynamically registered or Client ID Metadata
 * Document clients): which scopes and resources the user allowed on the consent screen.
 * A later request within them is answered without asking again; one that asks for more
 * shows the screen, and allowing it widens the consent. Revoked through the management API.
 */
import type { Env } from "../env";

export interface Consent {
  clientId: string;
  scopes: string[];
  resources: string[];
  createdAt: number;
  updatedAt: number;
}

interface ConsentRow {
  client_id: string;
  scopes: string;
  resources: string;
  created_at: number;
  updated_at: number;
}

function fromRow(row: ConsentRow): Consent {
  return {
    clientId: row.client_id,
    scopes: JSON.parse(row.scopes) as string[],
    resources: JSON.parse(row.resources) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Whether `consent` already covers the request (pure). */
export function consentCovers(consent: Pick<Consent, "scopes" | "resources"> | null, scopes: string[], resources: string[]): boolean {
  if (!consent) return false;
  return scopes.every((s) => consent.scopes.includes(s)) && resources.every((r) => consent.resources.includes(r));
}

export async function consentOf(env: Env, appId: string, userId: string, clientId: string): Promise<Consent | null> {
  const row = await env.DB.prepare("SELECT * FROM consents WHERE app_id = ? AND user_id = ? AND client_id = ?").bind(appId, userId, clientId).first<ConsentRow>();
  return row ? fromRow(row) : null;
}

export async function consentsOfUser(env: Env, appId: string, userId: string): Promise<Consent[]> {
  const { results } = await env.DB.prepare("SELECT * FROM consents WHERE app_id = ? AND user_id = ? ORDER BY created_at").bind(appId, userId).all<ConsentRow>();
  return results.map(fromRow);
}

/** Records (or widens) a consent: the union of what was allowed before and now. */
export function grantConsentStatement(env: Env, appId: string, userId: string, clientId: string, scopes: string[], resources: string[], now: number): D1PreparedStatement {
  return env.DB.prepare(
    `INSERT INTO consents (app_id, user_id, client_id, scopes, resources, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT (app_id, user_id, client_id) DO UPDATE SET
       scopes = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(consents.scopes) UNION SELECT value FROM json_each(?4))),
       resources = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(consents.resources) UNION SELECT value FROM json_each(?5))),
       updated_at = ?6`,
  ).bind(appId, userId, clientId, JSON.stringify(scopes), JSON.stringify(resources), now);
}

export function revokeConsentStatement(env: Env, appId: string, userId: string, clientId: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM consents WHERE app_id = ? AND user_id = ? AND client_id = ? RETURNING client_id").bind(appId, userId, clientId);
}

/** Every user's consent to a client (the client was deleted). */
export function deleteClientConsentsStatement(env: Env, appId: string, clientId: string): D1PreparedStatement {
  return env.DB.prepare("DELETE FROM consents WHERE app_id = ? AND client_id = ?").bind(appId, clientId);
}
