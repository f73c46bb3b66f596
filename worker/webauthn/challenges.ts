/**
 * WebAuthn challenges (SPEC §8): single use, five minutes, bound to the browser that asked
 * for them. A challenge is consumed by one conditional UPDATE … RETURNING in D1, so two
 * concurrent verifications cannot both win and a replayed response finds nothing.
 * The binding is a hash of the hosted pages' pre-login cookie, which every hosted page sets.
 */
import type { Env } from "../env";
import { randomId, sha256Hex } from "../util/crypto";

/** Expired challenges are removed by the scheduled purge (worker/ops). */
export const CHALLENGE_TTL_MS = 5 * 60_000;

export type ChallengeKind = "register" | "authenticate";

export interface ConsumedChallenge {
  challenge: string;
  userId: string | null;
}

/** The stored binding for a browser's pre-login cookie value. */
export function bindingHash(preLoginCookie: string): Promise<string> {
  return sha256Hex(`latch/webauthn/v1:${preLoginCookie}`);
}

export async function storeChallenge(
  env: Env,
  appId: string,
  input: { kind: ChallengeKind; challenge: string; binding: string; userId: string | null },
  now = Date.now(),
): Promise<string> {
  const id = `wac_${randomId(24)}`;
  await env.DB.prepare("INSERT INTO webauthn_challenges (id, app_id, binding_hash, kind, challenge, user_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(id, appId, input.binding, input.kind, input.challenge, input.userId, now + CHALLENGE_TTL_MS)
    .run();
  return id;
}

/** Consumes the challenge if it is this browser's, of this kind, unused and unexpired; else null. */
export async function consumeChallenge(
  env: Env,
  appId: string,
  input: { id: string; kind: ChallengeKind; binding: string },
  now = Date.now(),
): Promise<ConsumedChallenge | null> {
  if (!/^wac_[0-9a-z]{24}$/.test(input.id)) return null;
  const row = await env.DB.prepare(
    `UPDATE webauthn_challenges SET consumed_at = ?
      WHERE id = ? AND app_id = ? AND binding_hash = ? AND kind = ? AND consumed_at IS NULL AND expires_at > ?
      RETURNING challenge, user_id`,
  )
    .bind(now, input.id, appId, input.binding, input.kind, now)
    .first<{ challenge: string; user_id: string | null }>();
  return row ? { challenge: row.challenge, userId: row.user_id } : null;
}
