/**
 * Access tokens for the browser endpoints, minted by the OAuth face's signer so that a
 * token from `/session/token` or `/refresh` is the same kind of JWT as one from
 * `/oauth2/token` (SPEC §4): same keys, same claims, verifiable against the same JWKS.
 */
import type { Env } from "../env";
import type { UserRow } from "../identity/users";
import type { App } from "../tenancy/apps";

export interface MintInput {
  /** The user, when the caller has the row (cookie mode); else `userId` with `claims`. */
  user?: UserRow;
  userId?: string;
  /** Claims snapshot (exchange mode: from the chain). */
  claims?: Record<string, unknown>;
  clientId: string | null;
  scope: string;
  sessionId: string | null;
  authMethod: string;
  authTime: number;
}

export interface Minted {
  accessToken: string;
  expiresIn: number;
}

export async function mintAccessToken(_env: Env, _app: App, _issuer: string, _input: MintInput): Promise<Minted> {
  throw new Error("mintAccessToken: waiting for the oauth branch's signer");
}

/** Current claims for a chain whose snapshot went stale; null when the user is no longer active. */
export async function freshClaims(_env: Env, _app: App, _userId: string): Promise<Record<string, unknown> | null> {
  throw new Error("freshClaims: waiting for the oauth branch's claims builder");
}
