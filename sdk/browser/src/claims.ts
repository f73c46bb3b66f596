/** The verified access-token claims (the seed's JWTPayload, plus Latch's access claims). */
export interface LatchUser {
  /** The user id. */
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
  /** Permission keys granted through roles and directly. */
  permissions: string[];
  roles: { id: string; key: string; name: string }[];
  /** Kinde's shape: `{code: {t: "b"|"s"|"i", v}}`. */
  feature_flags: Record<string, { t: string; v: unknown }>;
  sid?: string;
  scope?: string;
  client_id?: string;
  org_code?: string;
  [claim: string]: unknown;
}
