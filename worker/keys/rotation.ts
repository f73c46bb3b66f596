/**
 * Scheduled key rotation (README "Scheduled work"): every app's active key is rotated once
 * it has signed for the app's `signing_key_rotation_days`, by the same rotateKeys the
 * operator route uses. The promoted key has been in the JWKS since the previous rotation,
 * so every verifier already has it; the retired one stays published until its last token
 * has expired (store.ts retirementMs).
 */
import type { Env } from "../env";
import { appFromRow } from "../tenancy/apps";
import { DEFAULT_SETTINGS, type AppSettings } from "../tenancy/settings";
import { rotateKeys } from "./store";

const DAY_MS = 24 * 3600_000;

/** Apps rotated per run at most; the rest are due again on the next run (every 10 minutes). */
export const ROTATIONS_PER_RUN = 25;

/** Whether the app's active key is due for rotation at `now`. Pure. */
export function rotationDue(key: { status: string; activatedAt: number | null }, settings: Pick<AppSettings, "signing_key_rotation_days">, now: number): boolean {
  const days = settings.signing_key_rotation_days;
  if (key.status !== "active" || key.activatedAt === null || days <= 0) return false;
  return now >= key.activatedAt + days * DAY_MS;
}

/**
 * The apps whose active key (of their signing alg) is due, oldest first: the same rule as
 * rotationDue, in SQL, so that the run reads only what it rotates.
 */
function dueStatement(env: Env, now: number, limit: number): D1PreparedStatement {
  const days = `coalesce(json_extract(a.settings, '$.signing_key_rotation_days'), ?1)`;
  return env.DB.prepare(
    `SELECT a.*, k.activated_at AS key_activated_at
       FROM signing_keys k JOIN apps a ON a.id = k.app_id
      WHERE k.status = 'active' AND k.activated_at IS NOT NULL
        AND k.alg = coalesce(json_extract(a.settings, '$.signing_alg'), ?2)
        AND ${days} > 0 AND k.activated_at + ${days} * ${DAY_MS} <= ?3
      ORDER BY k.activated_at LIMIT ?4`,
  ).bind(DEFAULT_SETTINGS.signing_key_rotation_days, DEFAULT_SETTINGS.signing_alg, now, limit);
}

export interface RotationRun {
  rotated: { appId: string; kid: string; retiredKid: string }[];
  failed: { appId: string; error: string }[];
}

/** Rotates the keys of at most `limit` due apps; one app's failure does not stop the others. */
export async function rotateDueKeys(env: Env, now: number, limit = ROTATIONS_PER_RUN): Promise<RotationRun> {
  const { results } = await dueStatement(env, now, limit).all<Parameters<typeof appFromRow>[0] & { key_activated_at: number }>();
  const run: RotationRun = { rotated: [], failed: [] };
  for (const row of results) {
    const app = appFromRow(row);
    if (!rotationDue({ status: "active", activatedAt: row.key_activated_at }, app.settings, now)) continue;
    try {
      const { kid, retired_kid } = await rotateKeys(env, app, now);
      run.rotated.push({ appId: app.id, kid, retiredKid: retired_kid });
    } catch (err) {
      run.failed.push({ appId: app.id, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return run;
}
