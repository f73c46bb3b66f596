/**
 * Ending a user's chains from outside the refresh path (password change, logout,
 * user deletion, token revocation). The object is the truth; the D1 index is updated
 * after it, so a crash in between leaves the index showing a chain the object already
 * refuses (listing is stale, security is not).
 */
import type { Env } from "../env";

export function chainsStub(env: Env, appId: string, userId: string) {
  return env.CHAINS.get(env.CHAINS.idFromName(`${appId}:${userId}`));
}

export async function endUserChains(env: Env, appId: string, userId: string, reason: string, now = Date.now()): Promise<number> {
  const live = await env.DB.prepare("SELECT count(*) AS n FROM chains WHERE app_id = ? AND user_id = ? AND ended_at IS NULL")
    .bind(appId, userId)
    .first<number>("n");
  if (!live) return 0;
  const ended = await chainsStub(env, appId, userId).revokeAll(reason, now);
  await env.DB.prepare("UPDATE chains SET ended_at = ? WHERE app_id = ? AND user_id = ? AND ended_at IS NULL").bind(now, appId, userId).run();
  return ended.length;
}
