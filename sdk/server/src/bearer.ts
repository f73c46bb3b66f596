/**
 * RFC 6750 for resource servers, framework-free: read `Authorization: Bearer`, verify, and
 * say what to answer when that fails (status, `WWW-Authenticate`, JSON body). The Hono
 * middleware and the protected-resource helper are thin layers over `authenticate`.
 */
import type { LatchClaims } from "./claims.js";
import { LatchAuthError } from "./verify.js";

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The bearer token of an Authorization header; null when there is none; "malformed" for a Bearer header without a well-formed token. */
export function bearerToken(header: string | null | undefined): string | null | "malformed" {
  if (!header) return null;
  const match = /^([A-Za-z]+) +(.*)$/.exec(header.trim()) ?? /^([A-Za-z]+)$/.exec(header.trim());
  if (!match || match[1]!.toLowerCase() !== "bearer") return null;
  const token = (match[2] ?? "").trim();
  return token && B64TOKEN.test(token) ? token : "malformed";
}

export interface ChallengeParams {
  realm?: string;
  /** RFC 9728 §5.1: where clients find the protected resource's metadata. */
  resourceMetadata?: string;
  error?: "invalid_request" | "invalid_token" | "insufficient_scope";
  description?: string;
  scope?: string;
}

/** A quoted-string of RFC 6750's allowed characters (%x20-21 / %x23-5B / %x5D-7E). */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "").slice(0, 300)}"`;
}

/** The `WWW-Authenticate` value for a Bearer challenge. */
export function bearerChallenge(p: ChallengeParams): string {
  const parts: string[] = [];
  if (p.realm) parts.push(`realm=${quoted(p.realm)}`);
  if (p.resourceMetadata) parts.push(`resource_metadata=${quoted(p.resourceMetadata)}`);
  if (p.error) parts.push(`error=${quoted(p.error)}`);
  if (p.error && p.description) parts.push(`error_description=${quoted(p.description)}`);
  if (p.scope) parts.push(`scope=${quoted(p.scope)}`);
  return parts.length ? `Bearer ${parts.join(", ")}` : "Bearer";
}

export type AuthResult =
  | { ok: true; token: string; claims: LatchClaims }
  | {
      ok: false;
      /** 400 malformed request, 401 no or bad token, 503 the JWKS is unreachable. */
      status: 400 | 401 | 503;
      headers: Record<string, string>;
      body: { error: string; error_description: string };
      /** Why, for logs (never sent beyond the description above). */
      reason: LatchAuthError["reason"];
    };

/**
 * Authenticates an Authorization header with `verify`. RFC 6750 §3.1: a request without
 * credentials gets a bare challenge (no error code); a malformed one 400 invalid_request;
 * a bad token 401 invalid_token.
 */
export async function authenticate(
  header: string | null | undefined,
  verify: (token: string) => Promise<LatchClaims>,
  challenge: Pick<ChallengeParams, "realm" | "resourceMetadata"> = {},
): Promise<AuthResult> {
  const token = bearerToken(header);
  if (token === null) {
    return {
      ok: false,
      status: 401,
      reason: "missing",
      headers: { "WWW-Authenticate": bearerChallenge(challenge) },
      body: { error: "unauthorized", error_description: "A bearer access token is required." },
    };
  }
  if (token === "malformed") {
    const description = "The Authorization header is not a well-formed Bearer token.";
    return {
      ok: false,
      status: 400,
      reason: "malformed",
      headers: { "WWW-Authenticate": bearerChallenge({ ...challenge, error: "invalid_request", description }) },
      body: { error: "invalid_request", error_description: description },
    };
  }
  try {
    return { ok: true, token, claims: await verify(token) };
  } catch (err) {
    const e = err instanceof LatchAuthError ? err : new LatchAuthError("malformed", "The access token could not be verified.");
    if (e.status === 503) {
      return { ok: false, status: 503, reason: e.reason, headers: { "Retry-After": "5" }, body: { error: "temporarily_unavailable", error_description: e.message } };
    }
    return {
      ok: false,
      status: 401,
      reason: e.reason,
      headers: { "WWW-Authenticate": bearerChallenge({ ...challenge, error: "invalid_token", description: e.message }) },
      body: { error: "invalid_token", error_description: e.message },
    };
  }
}
