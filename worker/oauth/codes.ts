/**
 * Authorization codes (SPEC §4): 256 random bits, stored as SHA-256, single use (consumed
 * by one conditional UPDATE, so two concurrent exchanges cannot both win), valid 60 s,
 * bound to client, redirect URI, PKCE challenge, nonce and session. A consumed row stays
 * until the scheduled purge (an hour past expiry, ops/rules.ts) so that a replay can be
 * recognised and what the code issued revoked.
 */
import type { Env } from "../env";
import { randomToken, sha256Hex } from "../util/crypto";

export const CODE_TTL_MS = 60_000;

export interface CodeGrant {
  clientId: string;
  userId: string;
  sessionId: string;
  redirectUri: string;
  codeChallenge: string | null;
  scope: string[];
  nonce: string | null;
  audience: string[];
  /** Seconds since the epoch. */
  authTime: number;
  authMethod: string;
}

interface CodeRow {
  code_hash: string;
  client_id: string;
  user_id: string;
  session_id: string;
  redirect_uri: string;
  code_challenge: string | null;
  scope: string;
  nonce: string | null;
  audience: string;
  auth_time: number;
  auth_method: string;
  issued: string | null;
  expires_at: number;
  consumed_at: number | null;
}

export interface Issued {
  chainId: string;
}

export type ConsumedCode =
  | { ok: true; codeHash: string; grant: CodeGrant; expiresAt: number }
  | { ok: false; reason: "unknown" }
  | { ok: false; reason: "replayed"; userId: string; clientId: string; codeChallenge: string | null; issued: Issued | null };

export async function issueCode(env: Env, appId: string, grant: CodeGrant, now = Date.now()): Promise<string> {
  const code = randomToken();
  await env.DB.prepare(
    `INSERT INTO auth_codes (code_hash, app_id, client_id, user_id, session_id, redirect_uri, code_challenge, scope, nonce, audience, auth_time, auth_method, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).bind(
    await sha256Hex(code),
    appId,
    grant.clientId,
    grant.userId,
    grant.sessionId,
    grant.redirectUri,
    grant.codeChallenge,
    grant.scope.join(" "),
    grant.nonce,
    JSON.stringify(grant.audience),
    grant.authTime,
    grant.authMethod,
    now + CODE_TTL_MS,
  ).run();
  return code;
}

/** The stored hash of a well-formed code; null for anything that cannot be a code. */
export async function codeHashOf(code: string): Promise<string | null> {
  return /^[A-Za-z0-9_-]{43}$/.test(code) ? sha256Hex(code) : null;
}

/**
 * Consumes the code atomically: the only statement that can turn an unused code into a
 * used one. Batched by the exchange with its reads (see USER_OF_CODE), so a code exchange
 * is one D1 round trip before the tokens are signed.
 */
export function consumeStatement(env: Env, appId: string, codeHash: string, now: number): D1PreparedStatement {
  return env.DB.prepare("UPDATE auth_codes SET consumed_at = ? WHERE code_hash = ? AND app_id = ? AND consumed_at IS NULL RETURNING *").bind(now, codeHash, appId);
}

/** SQL for "the user of the code", with ?1 = app id and ?2 = code hash. */
export const USER_OF_CODE = "(SELECT user_id FROM auth_codes WHERE code_hash = ?2 AND app_id = ?1)";
export const SESSION_OF_CODE = "(SELECT session_id FROM auth_codes WHERE code_hash = ?2 AND app_id = ?1)";

/** What consumeStatement returned: the code's grant, or why there is none. */
export async function consumedResult(env: Env, appId: string, codeHash: string, result: D1Result | undefined): Promise<ConsumedCode> {
  const row = result?.results[0] as CodeRow | undefined;
  if (row) {
    return {
      ok: true,
      codeHash,
      expiresAt: row.expires_at,
      grant: {
        clientId: row.client_id,
        userId: row.user_id,
        sessionId: row.session_id,
        redirectUri: row.redirect_uri,
        codeChallenge: row.code_challenge,
        scope: row.scope ? row.scope.split(" ") : [],
        nonce: row.nonce,
        audience: JSON.parse(row.audience) as string[],
        authTime: row.auth_time,
        authMethod: row.auth_method,
      },
    };
  }
  const used = await env.DB.prepare("SELECT user_id, client_id, code_challenge, issued FROM auth_codes WHERE code_hash = ? AND app_id = ?")
    .bind(codeHash, appId)
    .first<Pick<CodeRow, "user_id" | "client_id" | "code_challenge" | "issued">>();
  if (!used) return { ok: false, reason: "unknown" };
  return {
    ok: false,
    reason: "replayed",
    userId: used.user_id,
    clientId: used.client_id,
    codeChallenge: used.code_challenge,
    issued: used.issued ? (JSON.parse(used.issued) as Issued) : null,
  };
}

/** Records what an exchange issued, for revocation on replay. */
export function recordIssuedStatement(env: Env, codeHash: string, issued: Issued): D1PreparedStatement {
  return env.DB.prepare("UPDATE auth_codes SET issued = ? WHERE code_hash = ?").bind(JSON.stringify(issued), codeHash);
}
