/**
 * The two decisions behind getAccessToken(), as pure functions (no DOM), so they are tested
 * directly: when a saved token is still good, and what a failed refresh means.
 */
export type Freshness = "fresh" | "refresh" | "expired";

/**
 * `expiresAt` and `now` in ms. A token within `leewaySeconds` of its expiry is refreshed
 * before it is handed out (the seed's 30 s), so a caller never sends one that dies in flight.
 */
export function freshness(expiresAt: number, now: number, leewaySeconds: number): Freshness {
  if (now >= expiresAt) return "expired";
  return expiresAt - now <= leewaySeconds * 1000 ? "refresh" : "fresh";
}

/**
 * What a refresh answered with `status` (null: no answer at all) means for the saved state.
 * Only a 401 is the server saying the session or chain is dead; offline, 5xx, 429, 403 and
 * 400 keep everything, and the next call retries.
 */
export function afterRefreshFailure(status: number | null): "clear" | "keep" {
  return status === 401 ? "clear" : "keep";
}

/** The refresh lifetime of a token answer: `expires_in` seconds counted from when it arrived (immune to clock skew). */
export function expiryOf(receivedAt: number, expiresIn: number): number {
  return receivedAt + expiresIn * 1000;
}
