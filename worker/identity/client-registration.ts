/**
 * Client metadata (RFC 7591 §2) as a third-party client presents it: in a dynamic
 * registration request (RFC 7591/7592) or in a Client ID Metadata Document. Pure: the
 * metadata Latch keeps, or the RFC 7591 §3.2.2 error that refuses it. Metadata Latch does
 * not understand is ignored (RFC 7591 §2); metadata it understands but cannot honour
 * (another grant type, private_key_jwt) is refused, never silently dropped.
 */
import { validTarget } from "../tenancy/settings";

export type AuthMethod = "none" | "client_secret_basic" | "client_secret_post";
export const AUTH_METHODS: readonly AuthMethod[] = ["none", "client_secret_basic", "client_secret_post"];
export type GrantType = "authorization_code" | "refresh_token";
const GRANT_TYPES: readonly GrantType[] = ["authorization_code", "refresh_token"];

/** What a third-party client registered: stored in `clients.metadata` and echoed by RFC 7592. */
export interface ClientMetadata {
  redirect_uris: string[];
  client_name?: string;
  grant_types: GrantType[];
  response_types: ["code"];
  token_endpoint_auth_method: AuthMethod;
  scope?: string;
  client_uri?: string;
  logo_uri?: string;
  tos_uri?: string;
  policy_uri?: string;
  contacts?: string[];
  software_id?: string;
  software_version?: string;
}

export type MetadataError = "invalid_redirect_uri" | "invalid_client_metadata";
export type MetadataCheck = { ok: true; metadata: ClientMetadata } | { ok: false; error: MetadataError; description: string };

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const NOT_REDIRECTABLE = new Set(["javascript:", "data:", "file:", "vbscript:", "blob:", "about:", "ftp:", "ws:", "wss:"]);

/**
 * Why a third-party redirect URI is refused, or null: https; http only on a loopback
 * address or `localhost` (RFC 8252 §7.3, §8.3: any port); or a reverse-domain private-use
 * scheme for native apps (RFC 8252 §7.1). Never a fragment (RFC 6749 §3.1.2).
 */
export function redirectUriProblem(value: unknown): string | null {
  if (typeof value !== "string" || !value || value.length > 2048 || CONTROL.test(value)) return "redirect URIs must be strings of at most 2048 characters";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `not an absolute URI: ${value}`;
  }
  if (value.includes("#")) return `redirect URIs may not have a fragment: ${value}`;
  if (NOT_REDIRECTABLE.has(url.protocol)) return `scheme not allowed: ${url.protocol}`;
  if (url.protocol === "https:") return url.hostname ? null : `no host: ${value}`;
  if (url.protocol === "http:") {
    return ["127.0.0.1", "[::1]", "localhost"].includes(url.hostname) ? null : `http redirect URIs are allowed on loopback only (127.0.0.1, [::1], localhost): ${value}`;
  }
  if (!/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol)) return `private-use schemes must be reverse domain names (RFC 8252 section 7.1): ${value}`;
  return null;
}

function optionalText(input: Record<string, unknown>, key: string, max: number): string | undefined | Error {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || !v.trim() || v.length > max || CONTROL.test(v)) return new Error(`${key} must be a string of at most ${max} characters without control characters`);
  return v.trim();
}

function optionalHttpsUrl(input: Record<string, unknown>, key: string): string | undefined | Error {
  const v = optionalText(input, key, 2048);
  if (v === undefined || v instanceof Error) return v;
  try {
    if (new URL(v).protocol === "https:") return v;
  } catch {
    /* fall through */
  }
  return new Error(`${key} must be an https URL`);
}

function stringArray(value: unknown, key: string, max: number): string[] | undefined | Error {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > max || value.some((v) => typeof v !== "string")) return new Error(`${key} must be an array of at most ${max} strings`);
  return [...new Set(value as string[])];
}

export interface MetadataRules {
  /** Scopes a client may register (the user-facing ones). */
  knownScopes: readonly string[];
  /** A Client ID Metadata Document: no shared secret is possible, so `none` is the default and the only method. */
  document: boolean;
}

export function parseClientMetadata(input: Record<string, unknown>, rules: MetadataRules): MetadataCheck {
  const bad = (description: string): MetadataCheck => ({ ok: false, error: "invalid_client_metadata", description });

  const uris = stringArray(input.redirect_uris, "redirect_uris", 20);
  if (uris instanceof Error) return { ok: false, error: "invalid_redirect_uri", description: uris.message };
  if (!uris || uris.length === 0) return { ok: false, error: "invalid_redirect_uri", description: "redirect_uris needs at least one URI." };
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) return { ok: false, error: "invalid_redirect_uri", description: problem };
  }

  const method = input.token_endpoint_auth_method ?? (rules.document ? "none" : "client_secret_basic");
  if (!AUTH_METHODS.includes(method as AuthMethod)) return bad(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(", ")}.`);
  if (rules.document && method !== "none") return bad("A client metadata document cannot use a shared secret: token_endpoint_auth_method must be none.");
  if (rules.document && (input.client_secret !== undefined || input.client_secret_expires_at !== undefined)) return bad("A client metadata document may not contain a client_secret.");

  const grants = stringArray(input.grant_types, "grant_types", 5) ?? ["authorization_code"];
  if (grants instanceof Error) return bad(grants.message);
  const unsupported = grants.filter((g) => !GRANT_TYPES.includes(g as GrantType));
  if (unsupported.length) return bad(`Unsupported grant_types: ${unsupported.join(", ")} (authorization_code and refresh_token only).`);
  if (!grants.includes("authorization_code")) return bad("grant_types must include authorization_code.");
  const responses = stringArray(input.response_types, "response_types", 5) ?? ["code"];
  if (responses instanceof Error) return bad(responses.message);
  if (responses.length !== 1 || responses[0] !== "code") return bad("response_types must be [\"code\"].");

  const metadata: ClientMetadata = {
    redirect_uris: uris,
    grant_types: grants as GrantType[],
    response_types: ["code"],
    token_endpoint_auth_method: method as AuthMethod,
  };

  const scope = optionalText(input, "scope", 1024);
  if (scope instanceof Error) return bad(scope.message);
  if (scope !== undefined) {
    const scopes = [...new Set(scope.split(" ").filter(Boolean))];
    const unknown = scopes.filter((s) => !rules.knownScopes.includes(s));
    if (unknown.length) return bad(`Unknown scope: ${unknown.join(" ")}.`);
    metadata.scope = scopes.join(" ");
  }
  for (const key of ["client_name", "software_id", "software_version"] as const) {
    const v = optionalText(input, key, key === "client_name" ? 128 : 256);
    if (v instanceof Error) return bad(v.message);
    if (v !== undefined) metadata[key] = v;
  }
  for (const key of ["client_uri", "logo_uri", "tos_uri", "policy_uri"] as const) {
    const v = optionalHttpsUrl(input, key);
    if (v instanceof Error) return bad(v.message);
    if (v !== undefined) metadata[key] = v;
  }
  const contacts = stringArray(input.contacts, "contacts", 10);
  if (contacts instanceof Error) return bad(contacts.message);
  if (contacts) {
    if (contacts.some((c) => !validTarget(c) || c.length > 256)) return bad("contacts must be e-mail addresses or URIs.");
    metadata.contacts = contacts;
  }
  return { ok: true, metadata };
}

/** The scopes a third-party client registered, or null: it did not say, so any known scope. */
export function registeredScopes(metadata: Pick<ClientMetadata, "scope">): string[] | null {
  return metadata.scope === undefined ? null : metadata.scope.split(" ").filter(Boolean);
}
