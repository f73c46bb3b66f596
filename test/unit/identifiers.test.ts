/** Identifier keys (worker/identity/identifiers.ts): one key per way of writing a name. */
import { describe, expect, it } from "vitest";
import { displayEmail, identifierKey } from "../../worker/identity/identifiers";

describe("identifier keys", () => {
  it.each([
    ["Demo", "demo"],
    ["DEMO", "demo"],
    ["jos\u00e9", "jose\u0301"], // NFC beside NFD
    ["m\u0430llory", "mallory"], // Cyrillic а
    ["\u0440aypal", "paypal"], // Cyrillic р
    ["stra\u00dfe", "STRASSE"], // ß folds to ss
    ["\uff41lice", "alice"], // fullwidth a (NFKC)
    ["  bob  ", "bob"],
    ["Ada@Example.COM", "ada@example.com"],
  ])("%s and %s share a key", (a, b) => {
    expect(identifierKey(a)).toBe(identifierKey(b));
  });

  it.each([
    ["alice", "alicia"],
    ["bob", "b0b"],
    ["a@example.com", "b@example.com"],
  ])("%s and %s do not", (a, b) => {
    expect(identifierKey(a)).not.toBe(identifierKey(b));
  });

  it("stores emails trimmed, NFC and lower-cased", () => {
    expect(displayEmail("  Ada@Example.COM ")).toBe("ada@example.com");
    expect(displayEmail("jose\u0301@example.com")).toBe("jos\u00e9@example.com");
  });
});
