import { describe, expect, it } from "vitest";
import { chainIdAuthentic, formatRefreshToken, newChainId, parseRefreshToken, routingKey } from "../../worker/chains/token";
import { randomToken } from "../../worker/util/crypto";

describe("refresh token format", () => {
  it("round-trips routing data and secret", () => {
    const secret = randomToken();
    const token = formatRefreshToken("kid_abc", "0123456789abcdef01234567", "abcdefabcdefabcdefabcdef", secret);
    expect(parseRefreshToken(token)).toEqual({ appId: "kid_abc", userId: "0123456789abcdef01234567", chainId: "abcdefabcdefabcdefabcdef", secret });
  });

  it("refuses anything malformed", () => {
    const secret = randomToken();
    const good = formatRefreshToken("kid_abc", "user1", "abcdefabcdefabcdefabcdef", secret);
    for (const bad of [
      "",
      "abc",
      good + ".x",
      good.slice(0, -1),
      good.replace("abcdefabcdefabcdefabcdef", "ABCDEFABCDEFABCDEFABCDEF"),
      `.${good.split(".").slice(1).join(".")}`,
      `a+b.${good.split(".").slice(1).join(".")}`,
      "x".repeat(700),
      // Same bytes, non-canonical last character.
      good.slice(0, -1) + (good.endsWith("A") ? "B" : String.fromCharCode(good.charCodeAt(good.length - 1) ^ 1)),
    ]) {
      expect(parseRefreshToken(bad), bad).toBeNull();
    }
  });

  it("chain ids authenticate their app and user: made-up or moved ids are refused", () => {
    const key = routingKey("deployment secret");
    const id = newChainId(key, "kid_abc", "user1");
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(chainIdAuthentic(key, "kid_abc", "user1", id)).toBe(true);
    expect(chainIdAuthentic(key, "kid_abc", "user2", id)).toBe(false);
    expect(chainIdAuthentic(key, "kid_xyz", "user1", id)).toBe(false);
    expect(chainIdAuthentic(routingKey("another secret"), "kid_abc", "user1", id)).toBe(false);
    expect(chainIdAuthentic(key, "kid_abc", "user1", "0".repeat(24))).toBe(false);
  });
});

