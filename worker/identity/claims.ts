/**
 * The claims snapshot of a user (SPEC §4, §7): profile, roles, permissions, feature flags.
 * Built once per login (and again when the user's claims are invalidated), then carried
 * by the refresh chain so a refresh reads nothing from D1.
 *
 * Shape (also what access tokens, ID tokens and userinfo draw from):
 *   email?, email_verified, name?, given_name?, family_name?, picture?, preferred_username,
 *   org_code?, updated_at (seconds), permissions: string[], roles: {id,key,name}[],
 *   feature_flags: {[key]: {t: "b"|"s"|"i", v}}
 */
import type { Env } from "../env";
import type { App } from "../tenancy/apps";
import { parseProfile, userByIdStatement, type UserRow } from "./users";

export interface RoleClaim {
  id: string;
  key: string;
  name: string;
}
export type FlagClaim = { t: "b"; v: boolean } | { t: "s"; v: string } | { t: "i"; v: number };

export interface ProfileClaims {
  email?: string;
  email_verified: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
  preferred_username: string;
  org_code?: string;
  updated_at: number;
}

export interface UserClaims extends ProfileClaims {
  [claim: string]: unknown;
  permissions: string[];
  roles: RoleClaim[];
  feature_flags: Record<string, FlagClaim>;
}

/** Self-writable profile fields that become claims; operator-owned ones come from columns. */
const PROFILE_STRINGS = ["name", "given_name", "family_name", "picture"] as const;

/** Kinde's typed flag value from its stored text; undefined when the text does not fit the type. */
export function flagValue(type: string, text: string): FlagClaim | undefined {
  switch (type) {
    case "b":
      return text === "true" || text === "false" ? { t: "b", v: text === "true" } : undefined;
    case "i": {
      const n = Number(text);
      return Number.isInteger(n) ? { t: "i", v: n } : undefined;
    }
    case "s":
      return { t: "s", v: text };
    default:
      return undefined;
  }
}

/** Profile claims from the user row alone (pure). */
export function profileClaims(user: UserRow): ProfileClaims {
  const profile = parseProfile(user);
  const out: ProfileClaims = {
    email_verified: Boolean(user.email_verified),
    preferred_username: user.username,
    updated_at: Math.floor(user.updated_at / 1000),
  };
  if (user.email) out.email = user.email;
  if (user.org_code) out.org_code = user.org_code;
  for (const key of PROFILE_STRINGS) {
    const value = profile[key];
    if (typeof value === "string" && value) out[key] = value;
  }
  return out;
}

/**
 * The three reads behind roles, permissions and flags, so a caller can batch them with
 * its own reads (the code exchange reads the user and session in the same round trip).
 */
export function claimsQueries(env: Env, appId: string, userId: string, userSql = "?2"): D1PreparedStatement[] {
  // `userSql` lets a caller name the user by an expression over ?1 (app id) and ?2 (the
  // bound value), such as the user of an authorization code consumed in the same batch.
  const u = userSql;
  return [
    env.DB.prepare(
      `SELECT r.id, r.key, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id AND r.app_id = ur.app_id WHERE ur.app_id = ?1 AND ur.user_id = ${u} ORDER BY r.key`,
    ).bind(appId, userId),
    env.DB.prepare(
      `SELECT p.key FROM permissions p
        WHERE p.app_id = ?1
          AND (p.id IN (SELECT permission_id FROM user_permissions WHERE app_id = ?1 AND user_id = ${u})
               OR p.id IN (SELECT rp.permission_id FROM role_permissions rp JOIN user_roles ur ON ur.role_id = rp.role_id
                            WHERE ur.app_id = ?1 AND ur.user_id = ${u}))
        ORDER BY p.key`,
    ).bind(appId, userId),
    env.DB.prepare(
      `SELECT f.key, f.type, f.default_value, uf.value FROM feature_flags f
         LEFT JOIN user_feature_flags uf ON uf.app_id = f.app_id AND uf.key = f.key AND uf.user_id = ${u}
        WHERE f.app_id = ?1 ORDER BY f.key`,
    ).bind(appId, userId),
  ];
}

/** Assembles the snapshot from the user row and the results of claimsQueries (pure). */
export function assembleClaims(user: UserRow, results: D1Result[]): UserClaims {
  const [roles, permissions, flags] = results;
  const featureFlags: Record<string, FlagClaim> = {};
  for (const row of (flags?.results ?? []) as { key: string; type: string; default_value: string; value: string | null }[]) {
    const flag = (row.value !== null ? flagValue(row.type, row.value) : undefined) ?? flagValue(row.type, row.default_value);
    if (flag) featureFlags[row.key] = flag;
  }
  return {
    ...profileClaims(user),
    permissions: ((permissions?.results ?? []) as { key: string }[]).map((r) => r.key),
    roles: ((roles?.results ?? []) as RoleClaim[]).map((r) => ({ id: r.id, key: r.key, name: r.name })),
    feature_flags: featureFlags,
  };
}

/** The full snapshot: one D1 batch for roles, permissions and flags. */
/**
 * The user's current claims, read together with the user in one D1 round trip (the
 * stale-claims refresh path); null when the user is gone or not active.
 */
export async function activeUserClaims(env: Env, app: App, userId: string): Promise<UserClaims | null> {
  const [users, ...rest] = await env.DB.batch([
    userByIdStatement(env, app.id, userId),
    ...claimsQueries(env, app.id, userId),
  ]);
  const user = users?.results[0] as UserRow | undefined;
  if (!user || user.status !== "active") return null;
  return assembleClaims(user, rest);
}

export async function buildClaims(env: Env, app: App, user: UserRow): Promise<UserClaims> {
  return assembleClaims(user, await env.DB.batch(claimsQueries(env, app.id, user.id)));
}
