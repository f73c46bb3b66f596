/**
 * Verifying Latch access tokens (for userinfo, introspection, the management API).
 * Only the app's own published keys, only the alg each key was made for: `alg: none`,
 * HS256 keyed with a public key, and other apps' tokens all fail here.
 */
import { compactVerify, errors, jwtVerify, type JWTPayload } from "jose";
import type { Env } from "../env";
import { SIGNING_ALGS } from "../tenancy/settings";
import { OAuthError, oauthErrorText } from "../http/errors";
import { keyByKid, verifierOf } from "../keys/store";
import type { App } from "../tenancy/apps";
import { fromBase64url } from "../util/crypto";

export interface AccessTokenPayload extends JWTPayload {
  sub: string;
  client_id: string;
  scope?: string;
  app_id: string;
}

export interface VerifyOptions {
  /** When given, `iss` must equal it. */
  issuer?: string;
  /** When given, `aud` must contain it. */
  audience?: string;
  /** `WWW-Authenticate` realm for the error. */
  realm?: string;
}

export function invalidToken(description: string, realm?: string): OAuthError {
  const challenge = `Bearer ${realm ? `realm="${realm}", ` : ""}error="invalid_token", error_description="${oauthErrorText(description)}"`;
  return new OAuthError("invalid_token", description, 401, { "WWW-Authenticate": challenge });
}

function header(token: string): Record<string, unknown> | null {
  const [first] = token.split(".");
  try {
    const value = JSON.parse(new TextDecoder().decode(fromBase64url(first ?? ""))) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export async function verifyAccessToken(env: Env, app: App, token: string, options: VerifyOptions = {}): Promise<AccessTokenPayload> {
  const bad = (d: string) => invalidToken(d, options.realm);
  if (typeof token !== "string" || token.length > 16_384 || token.split(".").length !== 3) throw bad("The access token is malformed.");
  const h = header(token);
  if (!h) throw bad("The access token is malformed.");
  if (typeof h.alg !== "string" || !(SIGNING_ALGS as readonly string[]).includes(h.alg)) throw bad("The access token's algorithm is not accepted.");
  if (typeof h.typ !== "string" || !["at+jwt", "application/at+jwt"].includes(h.typ.toLowerCase())) throw bad("The token is not an access token.");
  if (typeof h.kid !== "string") throw bad("The access token names no key.");
  const key = await keyByKid(env, app.id, h.kid);
  if (!key || key.alg !== h.alg) throw bad("The access token was not signed by this issuer.");
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, await verifierOf(key), {
      algorithms: [key.alg],
      ...(options.issuer ? { issuer: options.issuer } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
      requiredClaims: ["exp", "iat", "sub", "client_id"],
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw bad("The access token expired.");
    if (err instanceof errors.JWTClaimValidationFailed) throw bad(`The access token's ${err.claim} claim is not valid here.`);
    throw bad("The access token signature is not valid.");
  }
  if (payload.app_id !== app.id) throw bad("The access token belongs to another app.");
  if (typeof payload.sub !== "string" || typeof payload.client_id !== "string") throw bad("The access token is malformed.");
  return payload as AccessTokenPayload;
}

/** What a valid `id_token_hint` says: whom it was issued for and to. */
export interface IdTokenHint {
  sub: string;
  /** The audiences: the client the ID token was issued to (and any others it names). */
  aud: string[];
  azp: string | null;
  sid: string | null;
}

/**
 * Validates an `id_token_hint` (OIDC RP-Initiated Logout §2): an ID token this issuer
 * signed, with one of the app's published keys and that key's own algorithm (no `none`,
 * no other key), `iss` this issuer, a subject and an audience. It may have expired: a hint
 * names a sign-in, it grants nothing. Access tokens (`typ: at+jwt`, or any token with
 * RFC 9068's `client_id`) are not ID tokens. Null for anything else, never an error.
 */
export async function verifyIdTokenHint(env: Env, app: App, hint: string, issuer: string): Promise<IdTokenHint | null> {
  if (typeof hint !== "string" || hint.length > 16_384 || hint.split(".").length !== 3) return null;
  const h = header(hint);
  if (!h || typeof h.alg !== "string" || !(SIGNING_ALGS as readonly string[]).includes(h.alg) || typeof h.kid !== "string") return null;
  if (typeof h.typ === "string" && h.typ.toLowerCase() !== "jwt") return null;
  const key = await keyByKid(env, app.id, h.kid);
  if (!key || key.alg !== h.alg) return null;
  let claims: Record<string, unknown>;
  try {
    const { payload } = await compactVerify(hint, await verifierOf(key), { algorithms: [key.alg] });
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null || claims.iss !== issuer || claims.client_id !== undefined) return null;
  if (typeof claims.sub !== "string" || !claims.sub) return null;
  const aud = typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === "string") : [];
  if (aud.length === 0) return null;
  return { sub: claims.sub, aud, azp: typeof claims.azp === "string" ? claims.azp : null, sid: typeof claims.sid === "string" ? claims.sid : null };
}

/** The bearer token of a request (RFC 6750 §2.1), or null when none is presented. */
export function bearerToken(headers: Headers): string | null {
  const value = headers.get("authorization");
  if (!value) return null;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(value);
  return match ? match[1]! : "";
}
