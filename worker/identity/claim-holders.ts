/**
 * Claims freshness (SPEC §7): a management change that alters what a user's tokens say
 * bumps `users.claims_version` in the change's own batch (the user store's statements) and, once committed, tells each
 * affected user's refresh-chain object to rebuild its claims snapshot on the next refresh.
 * Access tokens already issued are not touched: they run out naturally.
 *
 * App-wide feature-flag defaults are deliberately not fanned out (as in Kinde): that
 * would wake every user's object; `POST /users/{id}/refresh_claims` covers it.
 */
import type { Env } from "../env";
import { invalidateUserClaims } from "../chains/api";

export { bumpClaimsWhereStatement as bumpClaimsStatement, bumpUserClaimsStatement } from "./users";

const FAN_OUT = 16;

/** Invalidates the claims snapshot of every chain of these users (after the D1 commit). */
export async function invalidateClaims(env: Env, appId: string, userIds: Iterable<string>): Promise<void> {
  const ids = [...new Set(userIds)];
  for (let i = 0; i < ids.length; i += FAN_OUT) {
    await Promise.all(ids.slice(i, i + FAN_OUT).map((id) => invalidateUserClaims(env, appId, id)));
  }
}

/** Users holding a role. */
export async function usersWithRole(env: Env, appId: string, roleId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT user_id FROM user_roles WHERE app_id = ? AND role_id = ?").bind(appId, roleId).all<{ user_id: string }>();
  return results.map((r) => r.user_id);
}

/** Users holding a permission directly or through one of their roles. */
export async function usersWithPermission(env: Env, appId: string, permissionId: string): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `SELECT user_id FROM user_permissions WHERE app_id = ?1 AND permission_id = ?2
     UNION
     SELECT ur.user_id FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id
      WHERE ur.app_id = ?1 AND rp.permission_id = ?2`,
  )
    .bind(appId, permissionId)
    .all<{ user_id: string }>();
  return results.map((r) => r.user_id);
}

/** SQL conditions on `users` for the holders of a role or of a permission (bound: appId, id). */
export const HOLDS_ROLE = "id IN (SELECT user_id FROM user_roles WHERE app_id = ?2 AND role_id = ?3)";
export const HOLDS_PERMISSION =
  "id IN (SELECT user_id FROM user_permissions WHERE app_id = ?2 AND permission_id = ?3 UNION SELECT ur.user_id FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id WHERE ur.app_id = ?2 AND rp.permission_id = ?3)";
