/**
 * An upstream sign-in under way (`upstream_states`): the `state` Latch sends the provider,
 * bound to the browser's pre-login cookie (sessions/csrf.ts), single use, ten minutes.
 * The PKCE verifier and the OIDC nonce are HMACs of the state and that cookie under a key
 * derived from the deployment secret, so nothing secret is stored and neither can be
 * recomputed without the browser's own cookie: a state carried to another browser is useless.
 */
import type { Env } from "../env";
import { base64url, derivedHmacKey, hmacSha256, randomToken, sha256Hex } from "../util/crypto";

export const STATE_TTL_MS = 10 * 60_000;
const STATE = /^[A-Za-z0-9_-]{43}$/;

async function mac(env: Env, text: string): Promise<string> {
  return base64url(await hmacSha256(await derivedHmacKey(env.KEY_ENCRYPTION_SECRET, "latch/upstream/v1"), text));
}

export interface FlowSecrets {
  codeVerifier: string;
  codeChallenge: string;
  nonce: string;
}

/** The verifier, its S256 challenge and the nonce of one sign-in, from its state and the browser's cookie. */
export async function flowSecrets(env: Env, appId: string, state: string, preLogin: string): Promise<FlowSecrets> {
  const codeVerifier = await mac(env, `pkce.${appId}.${state}.${preLogin}`);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier));
  return { codeVerifier, codeChallenge: base64url(new Uint8Array(digest)), nonce: await mac(env, `nonce.${appId}.${state}.${preLogin}`) };
}

export interface StateRow {
  state_hash: string;
  app_id: string;
  connection_id: string;
  binding_hash: string;
  fields: string;
  expires_at: number;
}

export function bindingHash(preLogin: string): Promise<string> {
  return sha256Hex(`upstream-binding.${preLogin}`);
}

/** A new state and the statement that records it (expired ones go with the scheduled purge, worker/ops). */
export async function newState(env: Env, appId: string, connectionId: string, preLogin: string, fields: [string, string][], now = Date.now()) {
  const state = randomToken();
  const statements = [
    env.DB.prepare("INSERT INTO upstream_states (state_hash, app_id, connection_id, binding_hash, fields, expires_at) VALUES (?, ?, ?, ?, ?, ?)").bind(
      await sha256Hex(state),
      appId,
      connectionId,
      await bindingHash(preLogin),
      JSON.stringify(fields),
      now + STATE_TTL_MS,
    ),
  ];
  return { state, statements };
}

/** Takes the state (deleting it in the same statement, so a second use finds nothing); null when unknown or expired. */
export async function takeState(env: Env, appId: string, state: string | null | undefined, now = Date.now()): Promise<StateRow | null> {
  if (!state || !STATE.test(state)) return null;
  const row = await env.DB.prepare("DELETE FROM upstream_states WHERE state_hash = ? AND app_id = ? RETURNING *").bind(await sha256Hex(state), appId).first<StateRow>();
  return row && row.expires_at > now ? row : null;
}

export function stateFields(row: StateRow): [string, string][] {
  try {
    const value = JSON.parse(row.fields) as unknown;
    return Array.isArray(value) ? (value.filter((p) => Array.isArray(p) && p.length === 2 && p.every((s) => typeof s === "string")) as [string, string][]) : [];
  } catch {
    return [];
  }
}
