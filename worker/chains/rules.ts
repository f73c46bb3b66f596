/**
 * The rotation decision, free of storage and clocks: given what the object holds for a
 * chain and what was presented, say what must happen. The object applies the outcome.
 */
import type { AppSettings } from "../tenancy/settings";

export type RotationSettings = Pick<AppSettings, "refresh_token_ttl" | "refresh_absolute_ttl" | "refresh_overlap">;

/** One chain as the object stores it (times in ms since epoch). */
export interface ChainState {
  clientId: string;
  currentHash: string;
  /** Hash of the token the current one replaced; null before the first rotation. */
  previousHash: string | null;
  createdAt: number;
  /** Start or last rotation: the idle lifetime counts from here. */
  lastUsedAt: number;
  /** When the current token was issued by a rotation; null before the first one. */
  rotatedAt: number | null;
  /** Whether the successor of the previous token can still be recovered (see object.ts). */
  successorRecoverable: boolean;
  endedAt: number | null;
  endReason: string | null;
  /** The granted scopes, space separated. */
  scope: string;
}

export type Outcome =
  | { action: "rotate" }
  | { action: "overlap" }
  | { action: "reuse" }
  | { action: "expired"; lifetime: "idle" | "absolute" }
  | { action: "refuse"; reason: "unknown" | "revoked" | "expired" | "client_mismatch" | "invalid_scope" };

export interface Presented {
  hash: string;
  clientId: string;
  /** True when the hash is one of the chain's tokens older than the previous one. */
  isOlder: (hash: string) => boolean;
  /** Scopes the request asks for; empty or absent means all that were granted. */
  scope?: string[];
}

/** Constant-time equality for two hex digests of equal length. */
function sameHash(a: string, b: string | null): boolean {
  if (b === null || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function overlapOpen(chain: Pick<ChainState, "rotatedAt">, now: number, settings: RotationSettings): boolean {
  return settings.refresh_overlap > 0 && chain.rotatedAt !== null && now - chain.rotatedAt < settings.refresh_overlap * 1000;
}

export function expiryOf(chain: Pick<ChainState, "createdAt" | "lastUsedAt">, settings: RotationSettings): { idle: number; absolute: number } {
  return { idle: chain.lastUsedAt + settings.refresh_token_ttl * 1000, absolute: chain.createdAt + settings.refresh_absolute_ttl * 1000 };
}

export function decideRotation(chain: ChainState, presented: Presented, now: number, settings: RotationSettings): Outcome {
  const isCurrent = sameHash(presented.hash, chain.currentHash);
  const isPrevious = !isCurrent && sameHash(presented.hash, chain.previousHash);
  // A token this chain never issued proves nothing about the chain: refuse, change nothing.
  if (!isCurrent && !isPrevious && !presented.isOlder(presented.hash)) return { action: "refuse", reason: "unknown" };
  // Another client holding this client's token is refused without touching the chain,
  // so a client cannot end a chain it does not own by presenting its tokens.
  if (presented.clientId !== chain.clientId) return { action: "refuse", reason: "client_mismatch" };
  if (chain.endedAt !== null) return { action: "refuse", reason: chain.endReason === "expired" ? "expired" : "revoked" };
  const expiry = expiryOf(chain, settings);
  if (now >= expiry.absolute) return { action: "expired", lifetime: "absolute" };
  if (now >= expiry.idle) return { action: "expired", lifetime: "idle" };
  const usable = isCurrent || (isPrevious && chain.successorRecoverable && overlapOpen(chain, now, settings));
  if (!usable) return { action: "reuse" };
  // Decided before anything is written: a refused widening must not use up the token
  // (with overlap 0 the client's next, legitimate retry would otherwise read as reuse).
  if (!scopeWithin(chain.scope, presented.scope)) return { action: "refuse", reason: "invalid_scope" };
  return isCurrent ? { action: "rotate" } : { action: "overlap" };
}

/** True when every requested scope was granted (nothing requested: the grant as it is). */
export function scopeWithin(granted: string, requested: string[] | undefined): boolean {
  if (!requested || requested.length === 0) return true;
  const have = new Set(granted.split(" ").filter(Boolean));
  return requested.every((s) => have.has(s));
}
