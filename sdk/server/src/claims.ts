/** What a verified Latch access token says (SPEC §4), and the checks apps make on it. */

/** The seed's JWTPayload, plus Latch's access claims. */
export interface LatchClaims {
  /** The user id (for a client_credentials token, the client id). */
  sub: string;
  email?: string;
  emailVerified?: boolean;
  name?: string | null;
  app_id?: string;
  app_slug?: string;
  /** How the session began: "password", "passkey", … */
  auth_method?: string;
  iss: string;
  aud: string | string[];
  exp: number;
  iat: number;
  /** Permission keys, from the user's roles and direct grants. */
  permissions: string[];
  roles: { id: string; key: string; name: string }[];
  /** Kinde's shape: `{code: {t: "b" | "s" | "i", v}}`. */
  feature_flags: Record<string, { t: string; v: unknown }>;
  /** The client the token was issued to. */
  client_id?: string;
  azp?: string;
  scope?: string;
  sid?: string;
  jti?: string;
  org_code?: string;
  [claim: string]: unknown;
}

export function hasPermission(claims: Pick<LatchClaims, "permissions">, permission: string): boolean {
  return Array.isArray(claims.permissions) && claims.permissions.includes(permission);
}

/** By role key (`admin`), as roles are named in the management API. */
export function hasRole(claims: Pick<LatchClaims, "roles">, role: string): boolean {
  return Array.isArray(claims.roles) && claims.roles.some((r) => r.key === role);
}

/** A feature flag's value, or `fallback` when the token does not carry it. */
export function getFlag<T extends boolean | string | number>(claims: Pick<LatchClaims, "feature_flags">, code: string, fallback: T): T {
  const flag = claims.feature_flags?.[code];
  if (!flag || typeof flag !== "object" || !("v" in flag)) return fallback;
  return typeof flag.v === typeof fallback ? (flag.v as T) : fallback;
}

/** The space-separated `scope` claim as a list. */
export function scopesOf(claims: Pick<LatchClaims, "scope">): string[] {
  return typeof claims.scope === "string" ? claims.scope.split(" ").filter(Boolean) : [];
}
