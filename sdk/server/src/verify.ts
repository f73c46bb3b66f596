/**
 * verifyToken: a Latch access token (RFC 9068 JWT) checked against its issuer's JWKS with
 * jose: signature (RS256, ES256 or EdDSA; never `none`), `typ: at+jwt`, `iss`, `aud`, `exp`.
 *
 * Keys come from `createRemoteJWKSet`, one shared cache per issuer: fetched on first use,
 * kept 10 minutes, and refetched when a token names a `kid` the cache lacks (a rotation),
 * at most once per 30 s cooldown. Latch publishes its next key before it signs with it, so
 * rotations normally never even miss.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { LatchClaims } from "./claims.js";

export type JwksSource = JWTVerifyGetKey;

export const ALGORITHMS = ["RS256", "ES256", "EdDSA"];

export interface VerifyOptions {
  /** The Latch issuer, e.g. `https://acme.latch.example` (no trailing slash). */
  issuer: string;
  /** What `aud` must contain: your client id, an API audience, or a resource URL. One match suffices. */
  audience: string | string[];
  /** Keys to verify with; default the shared remote JWKS of `issuer` (see remoteJwks). */
  jwks?: JwksSource;
  /** Seconds of clock skew tolerated on `exp`/`iat`. Default 0. */
  clockTolerance?: number;
  /** Verify as of this instant (tests, replays). Default now. */
  currentDate?: Date;
}

/** Why a token was refused. `status` is what a resource server should answer. */
export type AuthFailure = "missing" | "malformed" | "expired" | "issuer" | "audience" | "type" | "signature" | "algorithm" | "unknown_key" | "claims" | "jwks_unavailable";

export class LatchAuthError extends Error {
  override readonly name = "LatchAuthError";
  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
  }

  /** 401 for a bad token; 503 when the JWKS could not be fetched (not the caller's fault). */
  get status(): 401 | 503 {
    return this.reason === "jwks_unavailable" ? 503 : 401;
  }
}

export interface RemoteJwksOptions {
  /** Default `{issuer}/.well-known/jwks.json`. */
  jwksUri?: string;
  /** ms between refetches for unknown keys; default 30 s. */
  cooldownDuration?: number;
  /** ms a fetched key set is trusted; default 10 minutes. */
  cacheMaxAge?: number;
  /** ms before a JWKS fetch gives up; default 5 s. */
  timeoutDuration?: number;
}

const shared = new Map<string, JwksSource>();

/**
 * A key set for `issuer`. Without options it is the process-wide shared cache (what
 * verifyToken uses by default); with options it is a new cache of its own.
 */
export function remoteJwks(issuer: string, options?: RemoteJwksOptions): JwksSource {
  const make = () => createRemoteJWKSet(new URL(options?.jwksUri ?? `${issuer}/.well-known/jwks.json`), options);
  if (options) return make();
  let set = shared.get(issuer);
  if (!set) {
    // Bounded: a process verifying for many issuers forgets the oldest.
    if (shared.size >= 100) shared.delete(shared.keys().next().value as string);
    set = make();
    shared.set(issuer, set);
  }
  return set;
}

function failure(err: unknown): LatchAuthError {
  if (err instanceof LatchAuthError) return err;
  if (err instanceof errors.JWTExpired) return new LatchAuthError("expired", "The access token has expired.");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "iss") return new LatchAuthError("issuer", "The access token was issued by another issuer.");
    if (err.claim === "aud") return new LatchAuthError("audience", "The access token is not meant for this audience.");
    if (err.claim === "typ") return new LatchAuthError("type", "The token is not an access token (typ at+jwt).");
    return new LatchAuthError("claims", `The access token's ${err.claim} claim is invalid.`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return new LatchAuthError("algorithm", "The access token's algorithm is not accepted.");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new LatchAuthError("signature", "The access token's signature does not verify.");
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return new LatchAuthError("unknown_key", "The access token names no key of the issuer.");
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return new LatchAuthError("malformed", "The access token is not a valid signed JWT.");
  // A fetch that failed, timed out or answered badly: the resource server's problem, not the caller's.
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || !(err instanceof errors.JOSEError) || err.code === "ERR_JOSE_GENERIC") {
    return new LatchAuthError("jwks_unavailable", "The issuer's keys could not be fetched.");
  }
  return new LatchAuthError("malformed", "The access token could not be verified.");
}

/** The verified claims of `token`, or a LatchAuthError saying why not. */
export async function verifyToken(token: string, options: VerifyOptions): Promise<LatchClaims> {
  if (typeof token !== "string" || token.split(".").length !== 3) throw new LatchAuthError("malformed", "The access token is not a signed JWT.");
  const jwks = options.jwks ?? remoteJwks(options.issuer);
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: options.issuer,
      audience: options.audience,
      typ: "at+jwt",
      algorithms: ALGORITHMS,
      requiredClaims: ["sub", "exp", "iat"],
      clockTolerance: options.clockTolerance ?? 0,
      ...(options.currentDate ? { currentDate: options.currentDate } : {}),
    });
    return {
      ...payload,
      permissions: Array.isArray(payload.permissions) ? (payload.permissions as string[]) : [],
      roles: Array.isArray(payload.roles) ? (payload.roles as LatchClaims["roles"]) : [],
      feature_flags: typeof payload.feature_flags === "object" && payload.feature_flags !== null ? (payload.feature_flags as LatchClaims["feature_flags"]) : {},
    } as LatchClaims;
  } catch (err) {
    throw failure(err);
  }
}
