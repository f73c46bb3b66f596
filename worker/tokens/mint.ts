/**
 * Minting access tokens (RFC 9068, SPEC §4) and ID tokens (OIDC Core §2, §3.1.3.6).
 * Claims come from the snapshot (identity/claims.ts) so minting never reads D1.
 */
import type { Env } from "../env";
import type { UserClaims } from "../identity/claims";
import { OAuthError } from "../http/errors";
import { signJwt } from "../keys/sign";
import { methodSatisfies, PASSKEY_REQUIRED_MESSAGE } from "../identity/auth-policy";
import { activeKey } from "../keys/store";
import type { App } from "../tenancy/apps";
import { base64url, randomId } from "../util/crypto";

export interface UserTokenInput {
  issuer: string;
  userId: string;
  clientId: string;
  scope: string[];
  /** Requested audiences; empty means the client id. */
  audience: string[];
  sessionId: string | null;
  authTime: number;
  authMethod: string;
  claims: UserClaims;
}

export interface Minted {
  token: string;
  expiresIn: number;
}

function audienceClaim(values: string[], fallback: string): string | string[] {
  if (values.length === 0) return fallback;
  return values.length === 1 ? values[0]! : values;
}

/** The access-token payload for a user (pure, given the time and jti). */
export function userAccessPayload(app: App, input: UserTokenInput, now: number, jti: string): Record<string, unknown> {
  const c = input.claims;
  const payload: Record<string, unknown> = {
    iss: input.issuer,
    sub: input.userId,
    aud: audienceClaim(input.audience, input.clientId),
    azp: input.clientId,
    client_id: input.clientId,
    exp: now + app.settings.access_token_ttl,
    iat: now,
    jti,
    scope: input.scope.join(" "),
    scp: input.scope,
    auth_time: input.authTime,
  };
  if (input.sessionId) payload.sid = input.sessionId;
  if (c.email !== undefined) payload.email = c.email;
  payload.emailVerified = c.email_verified;
  if (c.name !== undefined) payload.name = c.name;
  payload.app_id = app.id;
  payload.app_slug = app.slug;
  payload.auth_method = input.authMethod;
  payload.permissions = c.permissions ?? [];
  payload.roles = c.roles ?? [];
  payload.feature_flags = c.feature_flags ?? {};
  if (c.org_code !== undefined) payload.org_code = c.org_code;
  return payload;
}

export async function mintUserAccessToken(env: Env, app: App, input: UserTokenInput): Promise<Minted> {
  // Every caller checks the auth policy first; this is the backstop (SPEC §8).
  if (!methodSatisfies(app.settings.auth_policy, input.authMethod)) throw new OAuthError("invalid_grant", PASSKEY_REQUIRED_MESSAGE);
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(env, app, { typ: "at+jwt" }, userAccessPayload(app, input, now, randomId(24)));
  return { token, expiresIn: app.settings.access_token_ttl };
}

/** client_credentials: the client is the subject; no user claims. */
export async function mintClientAccessToken(env: Env, app: App, issuer: string, clientId: string, scope: string[], audience: string[]): Promise<Minted> {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: issuer,
    sub: clientId,
    aud: audienceClaim(audience, `${issuer}/api`),
    azp: clientId,
    client_id: clientId,
    exp: now + app.settings.access_token_ttl,
    iat: now,
    jti: randomId(24),
    scope: scope.join(" "),
    scp: scope,
    gty: ["client_credentials"],
    app_id: app.id,
    app_slug: app.slug,
  };
  return { token: await signJwt(env, app, { typ: "at+jwt" }, payload), expiresIn: app.settings.access_token_ttl };
}

/** Left half of the hash of the access token, hash chosen by the signing alg (OIDC §3.1.3.6). */
export async function atHash(accessToken: string, alg: string): Promise<string> {
  const hash = alg === "EdDSA" ? "SHA-512" : "SHA-256";
  const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(accessToken)));
  return base64url(digest.slice(0, digest.length / 2));
}

/** ID-token claims by scope: profile fields with `profile`, email fields with `email`. */
export function idTokenUserClaims(claims: UserClaims, scope: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (scope.includes("email")) {
    if (claims.email !== undefined) out.email = claims.email;
    out.email_verified = claims.email_verified;
  }
  if (scope.includes("profile")) {
    for (const key of ["name", "given_name", "family_name", "picture", "preferred_username", "updated_at"] as const) {
      if (claims[key] !== undefined) out[key] = claims[key];
    }
  }
  if (claims.org_code !== undefined) out.org_code = claims.org_code;
  return out;
}

export async function mintIdToken(
  env: Env,
  app: App,
  input: UserTokenInput & { nonce: string | null; accessToken: string },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const key = await activeKey(env, app);
  const payload: Record<string, unknown> = {
    iss: input.issuer,
    sub: input.userId,
    aud: input.clientId,
    azp: input.clientId,
    exp: now + app.settings.access_token_ttl,
    iat: now,
    auth_time: input.authTime,
    at_hash: await atHash(input.accessToken, key.alg),
    ...idTokenUserClaims(input.claims, input.scope),
  };
  if (input.nonce !== null) payload.nonce = input.nonce;
  if (input.sessionId) payload.sid = input.sessionId;
  return signJwt(env, app, { typ: "JWT" }, payload);
}
