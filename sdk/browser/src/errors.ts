/** Every failure the SDK reports is a LatchError; `code` says what kind, `retryable` whether the next call may succeed. */
export type LatchErrorCode =
  /** The request never got an answer (offline, blocked, DNS, CORS refusal). State is kept. */
  | "network"
  /** Latch answered 5xx or another status that is not "the session is dead". State is kept. */
  | "server"
  /** Latch answered 429. State is kept. */
  | "rate_limited"
  /** An answer that is not what the protocol says (not JSON, missing fields). */
  | "invalid_response"
  /** The redirect back from the hosted pages does not belong to a sign-in this tab started. */
  | "state_mismatch"
  /** The authorization server redirected back with `?error=` (for example `access_denied`). */
  | "authorization_error"
  /** The code exchange was refused. */
  | "exchange_failed"
  /** An access token failed verification against the issuer's JWKS. */
  | "invalid_token";

export class LatchError extends Error {
  override readonly name = "LatchError";
  constructor(
    readonly code: LatchErrorCode,
    message: string,
    /** The HTTP status, when Latch answered. */
    readonly status?: number,
    /** The OAuth error code Latch sent (`invalid_grant`, `access_denied`…), when it sent one. */
    readonly error?: string,
  ) {
    super(message);
  }

  /** True when calling again later may succeed: nothing was cleared. */
  get retryable(): boolean {
    return this.code === "network" || this.code === "server" || this.code === "rate_limited";
  }
}
