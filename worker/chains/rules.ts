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
}

export type Outcome =
  | { action: "rotate" }
  | { action: "overlap" }
  | { action: "reuse" }
  | { action: "expired"; lifetime: "idle" | "absolute" }
  | { action: "refuse"; reason: "unknown" | "revoked" | "expired" | "client_mismatch" };

export interface Presented {
  hash: string;
  clientId: string;
  /** True when the hash is one of the chain's tokens older than the previous one. */
  isOlder: (hash: string) => boolean;
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
  if (isCurrent) return { action: "rotate" };
  if (isPrevious && chain.successorRecoverable && overlapOpen(chain, now, settings)) return { action: "overlap" };
  return { action: "reuse" };
}
