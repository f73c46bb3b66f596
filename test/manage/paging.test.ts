import { describe, expect, it } from "vitest";
import { LatchError } from "../../worker/http/errors";
import { DEFAULT_PAGE_SIZE, encodeToken, MAX_PAGE_SIZE, pageOf, parsePage } from "../../worker/manage/paging";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof LatchError ? `${err.status} ${err.code}` : String(err);
  }
  return "no error";
};

describe("keyset paging (pure)", () => {
  it("parses page_size with its default and bounds", () => {
    expect(parsePage(undefined, undefined)).toEqual({ size: DEFAULT_PAGE_SIZE, after: null });
    expect(parsePage("3", undefined).size).toBe(3);
    expect(parsePage(String(MAX_PAGE_SIZE), undefined).size).toBe(MAX_PAGE_SIZE);
    for (const bad of ["0", "-1", "1.5", "x", String(MAX_PAGE_SIZE + 1)]) expect(code(() => parsePage(bad, undefined))).toBe("400 INVALID_REQUEST");
  });

  it("round-trips its own tokens and refuses anything else", () => {
    expect(parsePage("2", encodeToken(1700000000000, "abc")).after).toEqual({ createdAt: 1700000000000, id: "abc" });
    const forged = [btoa("[1]"), btoa('["x","y"]'), "a".repeat(600), "not base64!", btoa("{}").replace(/=/g, "")];
    for (const token of forged) expect(code(() => parsePage("2", token))).toBe("400 INVALID_NEXT_TOKEN");
  });

  it("splits a size+1 result into a page and the next token", () => {
    const rows = [1, 2, 3].map((n) => ({ id: `r${n}`, created_at: n }));
    expect(pageOf(rows.slice(0, 2), 2)).toEqual({ items: rows.slice(0, 2), nextToken: undefined });
    const page = pageOf(rows, 2);
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(parsePage("2", page.nextToken).after).toEqual({ createdAt: 2, id: "r2" });
  });
});
