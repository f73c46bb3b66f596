/** query.ts directly: what SQL and parameters each construct compiles to, and what it refuses. */
import { describe, expect, it } from "vitest";
import { KinveyError } from "../../worker/http/errors";
import { numbered } from "../../worker/data/sql";
import { compileQuery, compileSort, parseFields, parseLimit, parseQueryParam, parseSkip, project, regexPrefix, target } from "../../worker/data/query";

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof KinveyError) return err.code;
    throw err;
  }
  return "accepted";
}

const placeholders = (text: string) => (text.match(/\?/g) ?? []).length;

describe("compileQuery", () => {
  it("binds every value and path; placeholders match parameters", () => {
    const cases: unknown[] = [
      {},
      { a: "x" },
      { a: 1, b: true, c: null, d: { e: 1 }, f: [1] },
      { "a.b.0": { $gt: 1, $lte: 5 } },
      { a: { $in: ["x", 2, null] }, b: { $nin: [] }, c: { $all: ["x", "y"] } },
      { $or: [{ a: 1 }, { $and: [{ b: 2 }, { $nor: [{ c: 3 }] }] }] },
      { a: { $regex: "^pre" }, _id: { $regex: "^x" } },
      { "_kmd.ect": { $gt: "2024-01-01T00:00:00.000Z" }, "_acl.creator": "u", a: { $exists: false } },
    ];
    for (const query of cases) {
      const q = compileQuery(query);
      expect(placeholders(q.text), JSON.stringify(query)).toBe(q.params.length);
    }
  });

  it("numbers placeholders once per distinct value, for D1's parameter limit", () => {
    const q = numbered(compileQuery({ a: "x", b: "x", c: { $gt: 1, $lt: 1 } }));
    expect(q.params).toEqual(['$."a"', "x", '$."b"', '$."c"', 1]);
    expect(q.text).not.toMatch(/\?(?!\d)/);
    expect(Math.max(...[...q.text.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])))).toBe(5);
  });

  it("a long query of few distinct values still compiles to more SQL than D1 takes", () => {
    const long = { $or: Array.from({ length: 250 }, () => ({ "meta.lang": { $gte: "a", $lte: "z" } })) };
    const q = numbered(compileQuery(long));
    expect(q.params).toHaveLength(3);
    expect(q.text.length).toBeGreaterThan(50_000); // twice that with both ACL arms: refused before D1
  });

  it("never puts query text into the SQL", () => {
    const q = compileQuery({ "a-b": "' OR 1=1 --", c: { $in: ["); DROP TABLE x; --"] } });
    expect(q.text).not.toContain("OR 1=1");
    expect(q.text).not.toContain("DROP");
    expect(q.text).not.toContain("a-b");
    expect(q.params).toContain("' OR 1=1 --");
    expect(q.params).toContain('$."a-b"');
  });

  it("maps lifted fields to their columns", () => {
    expect(compileQuery({ _id: "x" }).text).toContain("e.id = ?");
    expect(compileQuery({ "_acl.creator": "x" }).text).toContain("e.creator = ?");
    const t = compileQuery({ "_kmd.lmt": { $lt: "2024-01-01T00:00:00.000Z" } });
    expect(t.text).toContain("e.updated_at < ?");
    expect(t.params).toEqual([Date.parse("2024-01-01T00:00:00.000Z")]);
  });

  it("refuses what it does not support", () => {
    for (const query of [
      [],
      "x",
      { $where: "1" },
      { a: { $not: 1 } },
      { a: { $size: 1 } },
      { a: { $gt: 1, b: 1 } },
      { $or: [] },
      { $or: [1] },
      { a: { $in: Array.from({ length: 1001 }, (_, i) => i) } },
      { a: { $regex: "x" } },
      { a: { $regex: "^a\\d" } },
      { a: { $options: "i" } },
      { "_kmd.x": 1 },
      { "_acl.gr": true },
      { "a'": 1 },
      { "a..b": 1 },
    ]) {
      expect(refusal(() => compileQuery(query)), JSON.stringify(query)).toBe("InvalidQuerySyntax");
    }
  });

  it("bounds size and depth", () => {
    const deep = Array.from({ length: 10 }).reduce<object>((acc) => ({ $and: [acc] }), { a: 1 });
    expect(refusal(() => compileQuery(deep))).toBe("InvalidQuerySyntax");
    const wide = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, i]));
    expect(refusal(() => compileQuery(wide))).toBe("InvalidQuerySyntax");
    expect(refusal(() => parseQueryParam(JSON.stringify({ a: "x".repeat(20_000) })))).toBe("InvalidQuerySyntax");
  });
});

describe("paths", () => {
  it("quotes each segment and turns numeric ones into array indexes", () => {
    expect(target("a.b")).toEqual({ kind: "json", path: '$."a"."b"' });
    expect(target("tags.0")).toEqual({ kind: "json", path: '$."tags"[0]' });
    expect(target("_id")).toMatchObject({ kind: "column", expr: "e.id" });
  });
  it("refuses characters that could end a quote or start a path step", () => {
    for (const f of ['a"', "a'", "a[0]", "a.$", "$", "a b", "a\\b", "a#", "", "a.", ".a", "a".repeat(65)]) {
      expect(refusal(() => target(f)), f).toBe("InvalidQuerySyntax");
    }
  });
});

describe("regexPrefix", () => {
  it("takes anchored literal prefixes", () => {
    expect(regexPrefix("^abc")).toBe("abc");
    expect(regexPrefix("^a\\.b")).toBe("a.b");
    expect(regexPrefix("^ab.*")).toBe("ab");
    expect(regexPrefix("^")).toBe("");
  });
  it("refuses everything else", () => {
    for (const p of ["abc", "^a.c", "^a+", "^(a)", "^a|b", "^a\\d", "^a$", "^[a]", "^a\\"]) expect(refusal(() => regexPrefix(p)), p).toBe("InvalidQuerySyntax");
  });
});

describe("sort, fields, limit, skip", () => {
  it("sort compiles to bound ORDER BY terms", () => {
    expect(compileSort(undefined)).toBeNull();
    const s = compileSort(JSON.stringify({ a: 1, _id: -1 }))!;
    expect(s.text).toBe("json_extract(e.data, ?) ASC, e.id DESC");
    expect(s.params).toEqual(['$."a"']);
    for (const bad of ["x", "[1]", '{"a":0}', '{"a":"1"}', '{"a b":1}']) expect(refusal(() => compileSort(bad)), bad).toBe("InvalidQuerySyntax");
  });
  it("fields and project", () => {
    expect(parseFields("a,b.c")).toEqual([["a"], ["b", "c"]]);
    expect(refusal(() => parseFields("a,,b"))).toBe("InvalidQuerySyntax");
    const doc = { _id: "1", a: 1, b: { c: 2, d: 3 }, e: 4, _acl: { creator: "u" }, _kmd: {} };
    expect(project(doc, [["a"], ["b", "c"], ["zz"]])).toEqual({ _id: "1", a: 1, b: { c: 2 }, _acl: { creator: "u" }, _kmd: {} });
    const tricky = JSON.parse('{"_id":"2","__proto__":{"x":1},"_acl":{},"_kmd":{}}') as Record<string, unknown>;
    const picked = project(tricky, [["__proto__", "x"], ["constructor"], ["toString"]]);
    expect(Object.getPrototypeOf(picked)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(picked))).toEqual(JSON.parse('{"_id":"2","__proto__":{"x":1},"_acl":{},"_kmd":{}}'));
  });
  it("limit: integer up to 10000, then ResultSetSizeExceeded; skip: integer", () => {
    expect(parseLimit(undefined)).toBeNull();
    expect(parseLimit("10000")).toBe(10000);
    expect(refusal(() => parseLimit("10001"))).toBe("ResultSetSizeExceeded");
    for (const bad of ["-1", "1.5", "x", " 1"]) expect(refusal(() => parseLimit(bad)), bad).toBe("InvalidQuerySyntax");
    expect(parseSkip("20")).toBe(20);
    for (const bad of ["-1", "1e3", "x"]) expect(refusal(() => parseSkip(bad)), bad).toBe("InvalidQuerySyntax");
  });
});
