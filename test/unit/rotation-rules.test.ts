import { describe, expect, it } from "vitest";
import { decideRotation, scopeWithin, type ChainState, type RotationSettings } from "../../worker/chains/rules";

const H = (c: string) => c.repeat(64);
const settings: RotationSettings = { refresh_token_ttl: 100, refresh_absolute_ttl: 1000, refresh_overlap: 10 };
const T0 = 1_700_000_000_000;

function chain(overrides: Partial<ChainState> = {}): ChainState {
  return {
    clientId: "c1",
    currentHash: H("c"),
    previousHash: H("b"),
    createdAt: T0,
    lastUsedAt: T0 + 50_000,
    rotatedAt: T0 + 50_000,
    successorRecoverable: true,
    endedAt: null,
    endReason: null,
    scope: "openid email offline",
    ...overrides,
  };
}
const older = new Set([H("a")]);
const presented = (hash: string, clientId = "c1") => ({ hash, clientId, isOlder: (h: string) => older.has(h) });

describe("decideRotation", () => {
  it("rotates the current token", () => {
    expect(decideRotation(chain(), presented(H("c")), T0 + 51_000, settings)).toEqual({ action: "rotate" });
  });

  it("replays the successor for the previous token inside the window", () => {
    expect(decideRotation(chain(), presented(H("b")), T0 + 59_999, settings)).toEqual({ action: "overlap" });
  });

  it("treats the previous token at or after the window's end as reuse", () => {
    expect(decideRotation(chain(), presented(H("b")), T0 + 60_000, settings)).toEqual({ action: "reuse" });
  });

  it("treats the previous token as reuse when the successor is no longer recoverable", () => {
    expect(decideRotation(chain({ successorRecoverable: false }), presented(H("b")), T0 + 51_000, settings)).toEqual({ action: "reuse" });
  });

  it("treats the previous token as reuse when overlap is disabled", () => {
    expect(decideRotation(chain(), presented(H("b")), T0 + 50_001, { ...settings, refresh_overlap: 0 })).toEqual({ action: "reuse" });
  });

  it("treats any older token as reuse, even inside the window", () => {
    expect(decideRotation(chain(), presented(H("a")), T0 + 50_001, settings)).toEqual({ action: "reuse" });
  });

  it("refuses a hash the chain never issued as unknown", () => {
    expect(decideRotation(chain(), presented(H("f")), T0 + 51_000, settings)).toEqual({ action: "refuse", reason: "unknown" });
  });

  it("refuses another client without deciding anything else", () => {
    expect(decideRotation(chain(), presented(H("c"), "c2"), T0 + 51_000, settings)).toEqual({ action: "refuse", reason: "client_mismatch" });
    expect(decideRotation(chain(), presented(H("a"), "c2"), T0 + 51_000, settings)).toEqual({ action: "refuse", reason: "client_mismatch" });
  });

  it("refuses an ended chain as revoked, or expired when it ended by expiry", () => {
    expect(decideRotation(chain({ endedAt: T0 + 1, endReason: "reused" }), presented(H("c")), T0 + 51_000, settings)).toEqual({
      action: "refuse",
      reason: "revoked",
    });
    expect(decideRotation(chain({ endedAt: T0 + 1, endReason: "expired" }), presented(H("c")), T0 + 51_000, settings)).toEqual({
      action: "refuse",
      reason: "expired",
    });
  });

  it("expires at the idle lifetime since the last rotation", () => {
    expect(decideRotation(chain(), presented(H("c")), T0 + 149_999, settings)).toEqual({ action: "rotate" });
    expect(decideRotation(chain(), presented(H("c")), T0 + 150_000, settings)).toEqual({ action: "expired", lifetime: "idle" });
  });

  it("expires at the absolute lifetime since the start, however recently used", () => {
    const recent = chain({ lastUsedAt: T0 + 990_000, rotatedAt: T0 + 990_000 });
    expect(decideRotation(recent, presented(H("c")), T0 + 999_999, settings)).toEqual({ action: "rotate" });
    expect(decideRotation(recent, presented(H("c")), T0 + 1_000_000, settings)).toEqual({ action: "expired", lifetime: "absolute" });
  });

  it("expiry wins over reuse detection for an expired chain", () => {
    expect(decideRotation(chain(), presented(H("a")), T0 + 200_000, settings)).toEqual({ action: "expired", lifetime: "idle" });
  });

  it("has no previous token before the first rotation", () => {
    const fresh = chain({ previousHash: null, rotatedAt: null, successorRecoverable: false });
    expect(decideRotation(fresh, presented(H("c")), T0 + 51_000, settings)).toEqual({ action: "rotate" });
    expect(decideRotation(fresh, presented(H("b")), T0 + 51_000, settings)).toEqual({ action: "refuse", reason: "unknown" });
  });

  it("refuses a widened scope before rotating, for the current and the previous token alike", () => {
    const widen = (hash: string) => ({ ...presented(hash), scope: ["openid", "admin"] });
    expect(decideRotation(chain(), widen(H("c")), T0 + 51_000, settings)).toEqual({ action: "refuse", reason: "invalid_scope" });
    expect(decideRotation(chain(), widen(H("b")), T0 + 51_000, settings)).toEqual({ action: "refuse", reason: "invalid_scope" });
    expect(decideRotation(chain(), { ...presented(H("c")), scope: ["email"] }, T0 + 51_000, settings)).toEqual({ action: "rotate" });
  });

  it("still detects reuse when the reused token asks for a wider scope", () => {
    expect(decideRotation(chain(), { ...presented(H("a")), scope: ["admin"] }, T0 + 51_000, settings)).toEqual({ action: "reuse" });
  });
});

describe("scopeWithin", () => {
  it("is true for a subset or nothing asked, false for anything not granted", () => {
    expect(scopeWithin("openid offline", [])).toBe(true);
    expect(scopeWithin("openid offline", undefined)).toBe(true);
    expect(scopeWithin("openid offline", ["offline"])).toBe(true);
    expect(scopeWithin("openid offline", ["offline", "profile"])).toBe(false);
    expect(scopeWithin("", ["openid"])).toBe(false);
  });
});
