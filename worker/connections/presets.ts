/**
 * What each kind of connection talks to, pure. A strategy is Kinde's name for a provider
 * (`oauth2:google`, …) or Latch's generic `oidc:custom` / `oauth2:custom`. Presets carry the
 * providers' documented endpoints; generic OIDC finds its endpoints by issuer discovery
 * (discovery.ts), generic OAuth2 takes them from the connection's options.
 */

export const STRATEGIES = ["oidc:custom", "oauth2:custom", "oauth2:google", "oauth2:microsoft", "oauth2:apple", "oauth2:github"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Profile fields Latch reads, each from a claim (or profile field) the mapping names. */
export const PROFILE_FIELDS = ["subject", "email", "email_verified", "name", "given_name", "family_name", "picture"] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type Mapping = Partial<Record<ProfileField, string>>;

export type TokenAuth = "client_secret_basic" | "client_secret_post";

/** The non-secret configuration stored with a connection (`options`). */
export interface ConnectionOptions {
  /** oidc:custom: the issuer, whose discovery document names the endpoints. */
  issuer?: string;
  /** oauth2:custom (and overrides of discovery for oidc:custom). */
  authorization_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  scopes?: string[];
  /** Latch field → claim (OIDC) or profile field (OAuth2), e.g. `{ "subject": "id" }`. */
  claim_mapping?: Mapping;
  token_endpoint_auth_method?: TokenAuth;
  /** oauth2:microsoft: `common` (default), `organizations`, `consumers` or a tenant id. */
  tenant?: string;
  /** oauth2:apple: the Apple developer team id and the id of the key that signs client secrets. */
  team_id?: string;
  key_id?: string;
}

/** How a sign-in through a connection runs, resolved from its strategy and options. */
export interface Protocol {
  kind: "oidc" | "oauth2";
  /** oidc: the expected `iss`; for Microsoft's multi-tenant endpoints, a template with `{tenantid}`. */
  issuer?: string;
  /** oidc:custom: discover the endpoints below from `{issuer}/.well-known/openid-configuration`. */
  discover: boolean;
  authorization: string;
  token: string;
  userinfo?: string;
  jwks?: string;
  scopes: string[];
  mapping: Required<Pick<Mapping, "subject">> & Mapping;
  tokenAuth: TokenAuth;
  /** Providers that do not document PKCE get state and nonce only. */
  pkce: boolean;
  /** Apple posts the code back (`response_mode=form_post`). */
  formPost: boolean;
  /** GitHub: the primary verified email comes from `/user/emails`. */
  emails?: string;
  /** Apple signs a fresh `client_secret` JWT for each token request. */
  clientSecretJwt: boolean;
  /** Extra authorization parameters. */
  params: Record<string, string>;
}

const OIDC_MAPPING = { subject: "sub", email: "email", email_verified: "email_verified", name: "name", given_name: "given_name", family_name: "family_name", picture: "picture" };

export const GOOGLE = {
  issuer: "https://accounts.google.com",
  authorization: "https://accounts.google.com/o/oauth2/v2/auth",
  token: "https://oauth2.googleapis.com/token",
  userinfo: "https://openidconnect.googleapis.com/v1/userinfo",
  jwks: "https://www.googleapis.com/oauth2/v3/certs",
};

export const MICROSOFT_LOGIN = "https://login.microsoftonline.com";
/** The tenant id of personal Microsoft accounts, which the `consumers` endpoints issue for. */
export const MICROSOFT_CONSUMERS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";
const MULTI_TENANT = new Set(["common", "organizations", "consumers"]);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function validTenant(tenant: string): boolean {
  return MULTI_TENANT.has(tenant) || GUID.test(tenant);
}

export const APPLE = {
  issuer: "https://appleid.apple.com",
  authorization: "https://appleid.apple.com/auth/authorize",
  token: "https://appleid.apple.com/auth/token",
  jwks: "https://appleid.apple.com/auth/keys",
};

export const GITHUB = {
  authorization: "https://github.com/login/oauth/authorize",
  token: "https://github.com/login/oauth/access_token",
  user: "https://api.github.com/user",
  emails: "https://api.github.com/user/emails",
};

/** Display names of the presets, for buttons when a connection names none. */
export const PRESET_NAMES: Record<Strategy, string> = {
  "oidc:custom": "OpenID Connect",
  "oauth2:custom": "OAuth",
  "oauth2:google": "Google",
  "oauth2:microsoft": "Microsoft",
  "oauth2:apple": "Apple",
  "oauth2:github": "GitHub",
};

function scopes(options: ConnectionOptions, fallback: string[]): string[] {
  return options.scopes && options.scopes.length ? options.scopes : fallback;
}

function mapping(options: ConnectionOptions, base: Protocol["mapping"]): Protocol["mapping"] {
  return { ...base, ...(options.claim_mapping ?? {}) };
}

/** The protocol of a connection; generic OIDC still needs discovery (discovery.ts) to fill its endpoints. */
export function protocolOf(strategy: Strategy, options: ConnectionOptions): Protocol {
  const common = { params: {}, clientSecretJwt: false, formPost: false, pkce: true, discover: false };
  switch (strategy) {
    case "oidc:custom":
      return {
        ...common,
        kind: "oidc",
        issuer: options.issuer,
        discover: true,
        authorization: options.authorization_endpoint ?? "",
        token: options.token_endpoint ?? "",
        userinfo: options.userinfo_endpoint,
        scopes: scopes(options, ["openid", "email", "profile"]),
        mapping: mapping(options, OIDC_MAPPING),
        tokenAuth: options.token_endpoint_auth_method ?? "client_secret_basic",
      };
    case "oauth2:custom":
      return {
        ...common,
        kind: "oauth2",
        authorization: options.authorization_endpoint ?? "",
        token: options.token_endpoint ?? "",
        userinfo: options.userinfo_endpoint,
        scopes: scopes(options, []),
        mapping: mapping(options, { subject: "id", email: "email", email_verified: "email_verified", name: "name", picture: "picture" }),
        tokenAuth: options.token_endpoint_auth_method ?? "client_secret_post",
      };
    case "oauth2:google":
      return {
        ...common,
        kind: "oidc",
        ...GOOGLE,
        scopes: scopes(options, ["openid", "email", "profile"]),
        mapping: mapping(options, OIDC_MAPPING),
        tokenAuth: "client_secret_post",
      };
    case "oauth2:microsoft": {
      const tenant = options.tenant ?? "common";
      const base = `${MICROSOFT_LOGIN}/${tenant}`;
      return {
        ...common,
        kind: "oidc",
        // Multi-tenant endpoints issue for the signing-in user's own tenant (the `tid` claim).
        issuer: `${MICROSOFT_LOGIN}/${MULTI_TENANT.has(tenant) ? "{tenantid}" : tenant}/v2.0`,
        authorization: `${base}/oauth2/v2.0/authorize`,
        token: `${base}/oauth2/v2.0/token`,
        jwks: `${base}/discovery/v2.0/keys`,
        scopes: scopes(options, ["openid", "email", "profile"]),
        // Entra ID does not verify `email`; `xms_edov` (an optional claim) says the domain owner did.
        mapping: mapping(options, { ...OIDC_MAPPING, email_verified: "xms_edov" }),
        tokenAuth: "client_secret_post",
      };
    }
    case "oauth2:apple":
      return {
        ...common,
        kind: "oidc",
        ...APPLE,
        scopes: scopes(options, ["name", "email"]),
        mapping: mapping(options, { subject: "sub", email: "email", email_verified: "email_verified" }),
        tokenAuth: "client_secret_post",
        // Apple documents neither PKCE nor a GET callback once name or email is asked for.
        pkce: false,
        formPost: true,
        clientSecretJwt: true,
        params: { response_mode: "form_post" },
      };
    case "oauth2:github":
      return {
        ...common,
        kind: "oauth2",
        authorization: GITHUB.authorization,
        token: GITHUB.token,
        userinfo: GITHUB.user,
        emails: GITHUB.emails,
        scopes: scopes(options, ["read:user", "user:email"]),
        mapping: mapping(options, { subject: "id", name: "name", picture: "avatar_url" }),
        tokenAuth: "client_secret_post",
      };
  }
}

/** `auth_method` of a sign-in through a connection: `oidc:google`, `oauth2:github`, … */
export function authMethodOf(strategy: Strategy, name: string): string {
  return `${protocolOf(strategy, {}).kind}:${name}`;
}

/** The `iss` a Microsoft ID token must carry: its own tenant's, and the configured one's when pinned. */
export function expectedIssuer(protocol: Protocol, claims: Record<string, unknown>): string | null {
  if (!protocol.issuer) return null;
  if (!protocol.issuer.includes("{tenantid}")) return protocol.issuer;
  const tid = claims.tid;
  if (typeof tid !== "string" || !GUID.test(tid)) return null;
  return protocol.issuer.replace("{tenantid}", tid);
}
