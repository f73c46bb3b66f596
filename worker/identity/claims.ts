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
import { parseProfile, type UserRow } from "./users";

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
 * Roles, permissions and flags as three JSON columns over the users row `u`, so the user and
 * its whole claims snapshot are ONE statement (and one row) wherever they are read.
 */
const CLAIM_COLUMNS = `
  (SELECT json_group_array(json_array(id, key, name)) FROM (
     SELECT r.id, r.key, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id AND r.app_id = ur.app_id
      WHERE ur.app_id = u.app_id AND ur.user_id = u.id ORDER BY r.key)) AS claims_roles,
  (SELECT json_group_array(key) FROM (
     SELECT p.key FROM permissions p
      WHERE p.app_id = u.app_id
        AND (p.id IN (SELECT permission_id FROM user_permissions WHERE app_id = u.app_id AND user_id = u.id)
             OR p.id IN (SELECT rp.permission_id FROM role_permissions rp JOIN user_roles ur ON ur.role_id = rp.role_id
                          WHERE ur.app_id = u.app_id AND ur.user_id = u.id))
      ORDER BY p.key)) AS claims_permissions,
  (SELECT json_group_array(json_array(key, type, default_value, value)) FROM (
     SELECT f.key, f.type, f.default_value, uf.value FROM feature_flags f
       LEFT JOIN user_feature_flags uf ON uf.app_id = f.app_id AND uf.key = f.key AND uf.user_id = u.id
      WHERE f.app_id = u.app_id ORDER BY f.key)) AS claims_flags`;

export interface UserClaimsRead {
  /** SQL naming the user over ?1 (app id) and ?2 (`value`); default `?2`, the id itself. */
  idSql?: string;
  /** Only an active user yields a row. */
  activeOnly?: boolean;
  /** More columns (`expr AS x_name`), over ?1, ?2 and `extraParams` from ?3 on. */
  extraColumns?: string;
  extraParams?: unknown[];
}

/** The user row and its claims (and any extra columns) in one statement; see claimsOfRow. */
export function userClaimsStatement(env: Env, appId: string, value: string, read: UserClaimsRead = {}): D1PreparedStatement {
  return env.DB.prepare(
    `SELECT u.*, ${CLAIM_COLUMNS}${read.extraColumns ? `, ${read.extraColumns}` : ""}
       FROM users u WHERE u.app_id = ?1 AND u.id = ${read.idSql ?? "?2"}${read.activeOnly ? " AND u.status = 'active'" : ""}`,
  ).bind(appId, value, ...(read.extraParams ?? []));
}

type ClaimsRow = UserRow & { claims_roles: string; claims_permissions: string; claims_flags: string } & Record<`x_${string}`, unknown>;

/** The user, its snapshot and the extra columns of a userClaimsStatement row (pure); null for no row. */
export function claimsOfRow(row: unknown): { user: UserRow; claims: UserClaims; extra: Record<string, unknown> } | null {
  if (!row) return null;
  const { claims_roles, claims_permissions, claims_flags, ...rest } = row as ClaimsRow;
  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(rest)) {
    if (key.startsWith("x_")) {
      extra[key.slice(2)] = (rest as Record<string, unknown>)[key];
      delete (rest as Record<string, unknown>)[key];
    }
  }
  const user = rest as UserRow;
  const featureFlags: Record<string, FlagClaim> = {};
  for (const [key, type, defaultValue, value] of JSON.parse(claims_flags) as [string, string, string, string | null][]) {
    const flag = (value !== null ? flagValue(type, value) : undefined) ?? flagValue(type, defaultValue);
    if (flag) featureFlags[key] = flag;
  }
  const claims: UserClaims = {
    ...profileClaims(user),
    permissions: JSON.parse(claims_permissions) as string[],
    roles: (JSON.parse(claims_roles) as [string, string, string][]).map(([id, key, name]) => ({ id, key, name })),
    feature_flags: featureFlags,
  };
  return { user, claims, extra };
}

/**
 * The user's current claims, read together with the user in one statement (the
 * stale-claims refresh path); null when the user is gone or not active.
 */
export async function activeUserClaims(env: Env, app: App, userId: string): Promise<UserClaims | null> {
  return claimsOfRow(await userClaimsStatement(env, app.id, userId, { activeOnly: true }).first())?.claims ?? null;
}

/** The snapshot of `user` (one statement). */
export async function buildClaims(env: Env, app: App, user: UserRow): Promise<UserClaims> {
  const read = claimsOfRow(await userClaimsStatement(env, app.id, user.id).first());
  if (!read) throw new Error(`no user ${user.id}`);
  const { permissions, roles, feature_flags } = read.claims;
  return { ...profileClaims(user), permissions, roles, feature_flags };
}
