/**
 * Talking to an upstream provider: discovery, the authorization URL, the code exchange,
 * the ID token's verification against the provider's JWKS (jose), userinfo, GitHub's email
 * lookup and Apple's client-secret JWT. Every request goes through `UpstreamIO` (a fetch and
 * a time limit), so tests run the same code against loopback stubs. Any failure is an
 * UpstreamError, which the face turns into its hosted error page, never a 500.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, importPKCS8, jwtVerify, SignJWT, type JSONWebKeySet, type JWTPayload } from "jose";
import { APPLE, GOOGLE, expectedIssuer, type Mapping, type Protocol } from "./presets";

export type UpstreamFailure =
  /** The user (or the provider) said no: `error=access_denied` and the like. */
  | "denied"
  /** The provider did not answer, answered 5xx, or too slowly. */
  | "unavailable"
  /** The provider answered something Latch cannot use (a bad token response, a profile without an id). */
  | "invalid_response"
  /** The ID token failed verification: signature, issuer, audience, nonce or expiry. */
  | "invalid_token"
  /** The connection's own configuration is unusable (discovery mismatch, an http URL in production). */
  | "misconfigured";

export class UpstreamError extends Error {
  constructor(readonly failure: UpstreamFailure, message: string) {
    super(message);
  }
}

export interface UpstreamIO {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  /** Per request. */
  timeoutMs: number;
  /** Whether http:// upstream URLs on loopback are allowed (local development and tests only). */
  allowLoopbackHttp: boolean;
  /** ms; defaults to the clock. */
  now?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** Upstream answers larger than this are not read. */
const MAX_RESPONSE_BYTES = 256 * 1024;

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "127.0.0.1" || hostname === "[::1]";
}

/** An upstream URL: https, or http on loopback where `allowLoopbackHttp` (development). Null when refused. */
export function upstreamUrlProblem(value: string, allowLoopbackHttp: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `not an absolute URL: ${value}`;
  }
  if (url.username || url.password || url.hash) return `URLs may not carry credentials or a fragment: ${value}`;
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && allowLoopbackHttp && isLoopback(url.hostname)) return null;
  return `upstream URLs must be https: ${value}`;
}

function checkUrl(io: UpstreamIO, value: string | undefined, what: string): string {
  if (!value) throw new UpstreamError("misconfigured", `The connection has no ${what}.`);
  const problem = upstreamUrlProblem(value, io.allowLoopbackHttp);
  if (problem) throw new UpstreamError("misconfigured", problem);
  return value;
}

/** One request to the provider, bounded in time and size; 5xx and network failures are `unavailable`. */
async function call(io: UpstreamIO, url: string, init: RequestInit, what: string): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await io.fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(io.timeoutMs) });
  } catch {
    throw new UpstreamError("unavailable", `The identity provider did not answer the ${what} request.`);
  }
  if (res.status >= 500) throw new UpstreamError("unavailable", `The identity provider answered the ${what} request with ${res.status}.`);
  const text = await res.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new UpstreamError("invalid_response", `The identity provider's ${what} answer is too large.`);
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // GitHub answers its token endpoint with a form unless asked for JSON; asked, it is JSON.
    body = null;
  }
  return { status: res.status, body };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---- discovery ------------------------------------------------------------------------

const DISCOVERY_TTL_MS = 10 * 60_000;
const discoveryCache = new Map<string, { protocol: Protocol; until: number }>();

/** Fills a generic OIDC connection's endpoints from its issuer's discovery document (cached per isolate). */
export async function discovered(io: UpstreamIO, protocol: Protocol): Promise<Protocol> {
  if (!protocol.discover) return protocol;
  const issuer = checkUrl(io, protocol.issuer, "issuer");
  const now = (io.now ?? Date.now)();
  const key = JSON.stringify([issuer, protocol.authorization, protocol.token, protocol.userinfo, protocol.jwks]);
  const hit = discoveryCache.get(key);
  if (hit && hit.until > now) return hit.protocol;
  const { status, body } = await call(io, `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, { headers: { Accept: "application/json" } }, "discovery");
  if (status !== 200 || !isObject(body)) throw new UpstreamError("unavailable", `The issuer's discovery document could not be read (${status}).`);
  // OIDC Discovery §4.3: the document's issuer must be the one it was fetched for.
  if (body.issuer !== issuer) throw new UpstreamError("misconfigured", "The discovery document names another issuer.");
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const filled: Protocol = {
    ...protocol,
    discover: false,
    authorization: protocol.authorization || str(body.authorization_endpoint) || "",
    token: protocol.token || str(body.token_endpoint) || "",
    userinfo: protocol.userinfo ?? str(body.userinfo_endpoint),
    jwks: protocol.jwks ?? str(body.jwks_uri),
  };
  const methods = Array.isArray(body.token_endpoint_auth_methods_supported) ? body.token_endpoint_auth_methods_supported : ["client_secret_basic"];
  if (!methods.includes(filled.tokenAuth) && methods.includes("client_secret_post")) filled.tokenAuth = "client_secret_post";
  for (const [what, url] of [["authorization endpoint", filled.authorization], ["token endpoint", filled.token], ["JWKS", filled.jwks]] as const) checkUrl(io, url, what);
  if (discoveryCache.size > 500) discoveryCache.clear();
  discoveryCache.set(key, { protocol: filled, until: now + DISCOVERY_TTL_MS });
  return filled;
}

export function clearUpstreamCaches(): void {
  discoveryCache.clear();
  jwksCache.clear();
}

// ---- the authorization request ----------------------------------------------------------

export interface AuthorizationInput {
  clientId: string;
  redirectUri: string;
  state: string;
  nonce: string;
  codeChallenge: string;
}

/** Where the browser goes to sign in at the provider. */
export function authorizationUrl(protocol: Protocol, input: AuthorizationInput): string {
  const url = new URL(protocol.authorization);
  const set = (k: string, v: string) => url.searchParams.set(k, v);
  set("response_type", "code");
  set("client_id", input.clientId);
  set("redirect_uri", input.redirectUri);
  if (protocol.scopes.length) set("scope", protocol.scopes.join(" "));
  set("state", input.state);
  if (protocol.kind === "oidc") set("nonce", input.nonce);
  if (protocol.pkce) {
    set("code_challenge", input.codeChallenge);
    set("code_challenge_method", "S256");
  }
  for (const [k, v] of Object.entries(protocol.params)) set(k, v);
  return url.toString();
}

// ---- the code exchange -------------------------------------------------------------------

/** What authenticates Latch at the provider's token endpoint. */
export type ClientCredential = { kind: "secret"; secret: string } | { kind: "apple"; privateKey: string; teamId: string; keyId: string };

/** Apple's `client_secret`: an ES256 JWT from the team, for the Services ID, short-lived (Apple allows up to six months). */
export async function appleClientSecret(input: { teamId: string; keyId: string; clientId: string; privateKey: string; now: number }): Promise<string> {
  let key: CryptoKey;
  try {
    key = await importPKCS8(input.privateKey, "ES256");
  } catch {
    throw new UpstreamError("misconfigured", "The Apple private key is not a PKCS#8 P-256 key.");
  }
  const iat = Math.floor(input.now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: input.keyId })
    .setIssuer(input.teamId)
    .setSubject(input.clientId)
    .setAudience(APPLE.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .sign(key);
}

export interface TokenSet {
  accessToken: string | null;
  idToken: string | null;
}

export async function exchangeCode(
  io: UpstreamIO,
  protocol: Protocol,
  client: { clientId: string; credential: ClientCredential },
  input: { code: string; redirectUri: string; codeVerifier: string },
): Promise<TokenSet> {
  const url = checkUrl(io, protocol.token, "token endpoint");
  const form = new URLSearchParams({ grant_type: "authorization_code", code: input.code, redirect_uri: input.redirectUri });
  if (protocol.pkce) form.set("code_verifier", input.codeVerifier);
  const secret =
    client.credential.kind === "apple"
      ? await appleClientSecret({ ...client.credential, clientId: client.clientId, now: (io.now ?? Date.now)() })
      : client.credential.secret;
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" };
  if (protocol.tokenAuth === "client_secret_basic") {
    // RFC 6749 §2.3.1: both halves form-encoded before base64.
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
    headers.Authorization = `Basic ${btoa(`${enc(client.clientId)}:${enc(secret)}`)}`;
  } else {
    form.set("client_id", client.clientId);
    form.set("client_secret", secret);
  }
  const { status, body } = await call(io, url, { method: "POST", headers, body: form.toString() }, "token");
  if (status !== 200 || !isObject(body) || typeof body.error === "string") {
    const error = isObject(body) && typeof body.error === "string" ? body.error : `status ${status}`;
    throw new UpstreamError("invalid_response", `The identity provider refused the code exchange (${error.slice(0, 64)}).`);
  }
  const accessToken = typeof body.access_token === "string" ? body.access_token : null;
  const idToken = typeof body.id_token === "string" ? body.id_token : null;
  if (protocol.kind === "oidc" && !idToken) throw new UpstreamError("invalid_response", "The identity provider returned no ID token.");
  if (protocol.kind === "oauth2" && !accessToken) throw new UpstreamError("invalid_response", "The identity provider returned no access token.");
  return { accessToken, idToken };
}

// ---- the ID token ---------------------------------------------------------------------

const JWKS_TTL_MS = 10 * 60_000;
const jwksCache = new Map<string, { jwks: JSONWebKeySet; until: number }>();

async function loadJwks(io: UpstreamIO, uri: string, fresh: boolean): Promise<JSONWebKeySet> {
  const now = (io.now ?? Date.now)();
  const hit = jwksCache.get(uri);
  if (!fresh && hit && hit.until > now) return hit.jwks;
  const { status, body } = await call(io, uri, { headers: { Accept: "application/json" } }, "JWKS");
  if (status !== 200 || !isObject(body) || !Array.isArray(body.keys)) throw new UpstreamError("unavailable", `The identity provider's keys could not be read (${status}).`);
  const jwks = body as unknown as JSONWebKeySet;
  if (jwksCache.size > 500) jwksCache.clear();
  jwksCache.set(uri, { jwks, until: now + JWKS_TTL_MS });
  return jwks;
}

/** Asymmetric algorithms only: an HS256 token "signed" with the client secret proves nothing to a third party, and is refused. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/**
 * Verifies the ID token against the provider's JWKS: signature (asymmetric only), `iss`
 * (tenant-aware for Microsoft), `aud` = our client id, `exp`/`iat`, and `nonce` = the one
 * this browser's sign-in sent. A key id the cached JWKS lacks refetches it once (rotation).
 */
export async function verifyIdToken(io: UpstreamIO, protocol: Protocol, idToken: string, expected: { clientId: string; nonce: string }): Promise<JWTPayload> {
  const uri = checkUrl(io, protocol.jwks, "JWKS");
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(idToken);
    // Read before verification only to pick the issuer to verify against (Microsoft's `tid`).
    unverified = decodeJwt(idToken);
  } catch {
    throw new UpstreamError("invalid_token", "The ID token is malformed.");
  }
  if (typeof header.alg !== "string" || !ALGORITHMS.includes(header.alg)) throw new UpstreamError("invalid_token", "The ID token's algorithm is not accepted.");
  const issuer = expectedIssuer(protocol, unverified);
  if (!issuer) throw new UpstreamError("invalid_token", "The ID token names no acceptable issuer.");
  const issuers = issuer === GOOGLE.issuer ? [GOOGLE.issuer, "accounts.google.com"] : [issuer];
  const now = (io.now ?? Date.now)();
  const verify = async (fresh: boolean) =>
    jwtVerify(idToken, createLocalJWKSet(await loadJwks(io, uri, fresh)), {
      algorithms: ALGORITHMS,
      issuer: issuers,
      audience: expected.clientId,
      currentDate: new Date(now),
      clockTolerance: 60,
      requiredClaims: ["sub", "iat", "exp"],
    });
  let payload: JWTPayload;
  try {
    try {
      ({ payload } = await verify(false));
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      ({ payload } = await verify(true));
    }
  } catch (err) {
    if (err instanceof UpstreamError) throw err;
    if (err instanceof errors.JWTExpired) throw new UpstreamError("invalid_token", "The ID token expired.");
    if (err instanceof errors.JWTClaimValidationFailed) throw new UpstreamError("invalid_token", `The ID token's ${err.claim} claim is not valid.`);
    throw new UpstreamError("invalid_token", "The ID token's signature does not verify against the provider's keys.");
  }
  if (payload.nonce !== expected.nonce) throw new UpstreamError("invalid_token", "The ID token's nonce is not the one this sign-in sent.");
  // OIDC Core §3.1.3.7: with several audiences, azp must be us.
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== expected.clientId) throw new UpstreamError("invalid_token", "The ID token's azp claim is not this client.");
  return payload;
}

// ---- the profile ------------------------------------------------------------------------

async function bearerGet(io: UpstreamIO, url: string, accessToken: string, what: string): Promise<unknown> {
  const { status, body } = await call(
    io,
    checkUrl(io, url, what),
    // GitHub refuses requests without a User-Agent.
    { headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json", "User-Agent": "Latch" } },
    what,
  );
  if (status !== 200) throw new UpstreamError("invalid_response", `The identity provider refused the ${what} request (${status}).`);
  return body;
}

export async function userinfo(io: UpstreamIO, protocol: Protocol, accessToken: string): Promise<Record<string, unknown>> {
  const body = await bearerGet(io, protocol.userinfo ?? "", accessToken, "userinfo");
  if (!isObject(body)) throw new UpstreamError("invalid_response", "The identity provider's profile is not a JSON object.");
  return body;
}

/** GitHub: the primary email, and whether GitHub verified it (`GET /user/emails`). */
export async function githubPrimaryEmail(io: UpstreamIO, url: string, accessToken: string): Promise<{ email: string; verified: boolean } | null> {
  const body = await bearerGet(io, url, accessToken, "emails");
  if (!Array.isArray(body)) throw new UpstreamError("invalid_response", "GitHub's email list is not an array.");
  const primary = body.find((e) => isObject(e) && e.primary === true && typeof e.email === "string") as { email: string; verified?: unknown } | undefined;
  return primary ? { email: primary.email, verified: primary.verified === true } : null;
}

export interface UpstreamProfile {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  picture?: string;
}

function pick(source: Record<string, unknown>, path: string | undefined): unknown {
  if (!path) return undefined;
  let value: unknown = source;
  for (const part of path.split(".")) value = isObject(value) ? value[part] : undefined;
  return value;
}

/** The profile Latch keeps, read through the connection's mapping. Apple sends `email_verified` as a string. */
export function mapProfile(source: Record<string, unknown>, mapping: Mapping): UpstreamProfile {
  const subject = pick(source, mapping.subject);
  if ((typeof subject !== "string" && typeof subject !== "number") || String(subject) === "" || String(subject).length > 255) {
    throw new UpstreamError("invalid_response", "The identity provider's profile has no usable subject.");
  }
  const email = pick(source, mapping.email);
  const verified = pick(source, mapping.email_verified);
  const profile: UpstreamProfile = {
    subject: String(subject),
    email: typeof email === "string" && email.length <= 320 && email.includes("@") ? email : null,
    emailVerified: verified === true || verified === "true",
  };
  for (const field of ["name", "given_name", "family_name", "picture"] as const) {
    const v = pick(source, mapping[field]);
    if (typeof v === "string" && v.length <= 2048) profile[field] = v;
  }
  if (!profile.email) profile.emailVerified = false;
  return profile;
}

/**
 * The whole back channel after the callback: exchange the code, then read who signed in
 * (the verified ID token, or for OAuth2 the profile endpoint; GitHub's email list).
 */
export async function completeUpstream(
  io: UpstreamIO,
  protocol: Protocol,
  client: { clientId: string; credential: ClientCredential },
  input: { code: string; redirectUri: string; codeVerifier: string; nonce: string },
): Promise<UpstreamProfile> {
  const tokens = await exchangeCode(io, protocol, client, input);
  if (protocol.kind === "oidc") {
    const claims = await verifyIdToken(io, protocol, tokens.idToken!, { clientId: client.clientId, nonce: input.nonce });
    return mapProfile(claims, protocol.mapping);
  }
  const source = await userinfo(io, protocol, tokens.accessToken!);
  const profile = mapProfile(source, protocol.mapping);
  if (protocol.emails) {
    const primary = await githubPrimaryEmail(io, protocol.emails, tokens.accessToken!);
    profile.email = primary?.email ?? null;
    profile.emailVerified = primary?.verified ?? false;
  }
  return profile;
}
