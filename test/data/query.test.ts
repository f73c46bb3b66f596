/**
 * The query language through the wire (workerd, real D1): every operator, fields, sort,
 * limit, skip, the malformed cases, and injection attempts that must stay inert.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { count, create, data, list, ok, refused, world, type Doc, type World } from "./helpers";

let w: World;
const C = "books";
const docs: Record<string, Doc> = {};

const q = (query: unknown) => ({ query: JSON.stringify(query) });
async function names(query: unknown, extra: Record<string, string> = {}): Promise<string[]> {
  return (await list(w, w.alice.auth, C, { ...q(query), ...extra })).map((d) => d.name as string).sort();
}

beforeAll(async () => {
  w = await world();
  const rows: Record<string, unknown>[] = [
    { name: "alpha", n: 1, price: 9.5, tags: ["a", "b"], meta: { lang: "en", pages: 100 }, active: true, note: null },
    { name: "beta", n: 2, price: 20, tags: ["b"], meta: { lang: "fr", pages: 250 }, active: false },
    { name: "gamma", n: 3, tags: ["c", "a"], meta: { lang: "en", pages: 50 }, active: true, title: "Gamma's \"quoted\" -- title" },
    { name: "delta", n: "3", tags: [], meta: { lang: "de" }, nested: [{ k: 1 }, { k: 2 }] },
    { name: "epsilon", n: 10, tags: ["b", "c"], obj: { x: 1, y: [1, 2] } },
  ];
  for (const row of rows) docs[row.name as string] = await create(w, w.alice.auth, C, row);
});

describe("operators", () => {
  it("equality on strings, numbers, booleans, null/missing, nested paths and arrays (any element)", async () => {
    expect(await names({ name: "beta" })).toEqual(["beta"]);
    expect(await names({ n: 3 })).toEqual(["gamma"]); // the string "3" is another type
    expect(await names({ n: "3" })).toEqual(["delta"]);
    expect(await names({ active: true })).toEqual(["alpha", "gamma"]);
    expect(await names({ active: false })).toEqual(["beta"]);
    expect(await names({ note: null })).toEqual(["alpha", "beta", "delta", "epsilon", "gamma"]);
    expect(await names({ "meta.lang": "en" })).toEqual(["alpha", "gamma"]);
    expect(await names({ tags: "a" })).toEqual(["alpha", "gamma"]);
    expect(await names({ tags: ["b"] })).toEqual(["beta"]);
    expect(await names({ tags: [] })).toEqual(["delta"]);
    expect(await names({ obj: { x: 1, y: [1, 2] } })).toEqual(["epsilon"]);
    expect(await names({ "nested.k": 2 })).toEqual([]); // dotted paths do not fan out through arrays
    expect(await names({ "nested.1.k": 2 })).toEqual(["delta"]); // numeric segments index arrays
    expect(await names({ name: { $eq: "alpha" } })).toEqual(["alpha"]);
    expect(await names({ _id: docs.beta!._id })).toEqual(["beta"]);
    expect(await names({ "_acl.creator": w.alice._id })).toHaveLength(5);
  });

  it("$ne and $nin match missing fields too", async () => {
    expect(await names({ "meta.lang": { $ne: "en" } })).toEqual(["beta", "delta", "epsilon"]);
    expect(await names({ tags: { $ne: "b" } })).toEqual(["delta", "gamma"]);
    expect(await names({ name: { $nin: ["alpha", "beta"] } })).toEqual(["delta", "epsilon", "gamma"]);
    expect(await names({ active: { $ne: true } })).toEqual(["beta", "delta", "epsilon"]);
  });

  it("$in and $all", async () => {
    expect(await names({ name: { $in: ["alpha", "gamma", "zeta"] } })).toEqual(["alpha", "gamma"]);
    expect(await names({ tags: { $in: ["c"] } })).toEqual(["epsilon", "gamma"]);
    expect(await names({ n: { $in: [1, "3"] } })).toEqual(["alpha", "delta"]);
    expect(await names({ name: { $in: [] } })).toEqual([]);
    expect(await names({ tags: { $all: ["a", "b"] } })).toEqual(["alpha"]);
    expect(await names({ tags: { $all: ["b"] } })).toEqual(["alpha", "beta", "epsilon"]);
    expect(await names({ _id: { $in: [docs.alpha!._id, docs.delta!._id] } })).toEqual(["alpha", "delta"]);
  });

  it("$gt $gte $lt $lte compare within a type", async () => {
    expect(await names({ n: { $gt: 2 } })).toEqual(["epsilon", "gamma"]);
    expect(await names({ n: { $gte: 2, $lt: 10 } })).toEqual(["beta", "gamma"]);
    expect(await names({ n: { $lte: 1 } })).toEqual(["alpha"]);
    expect(await names({ price: { $lt: 10 } })).toEqual(["alpha"]);
    expect(await names({ name: { $gt: "c" } })).toEqual(["delta", "epsilon", "gamma"]);
    expect(await names({ "meta.pages": { $gte: 100 } })).toEqual(["alpha", "beta"]);
    expect(await names({ "_kmd.ect": { $gte: docs.gamma!._kmd.ect } })).toEqual(expect.arrayContaining(["gamma", "delta", "epsilon"]));
    expect(await names({ "_kmd.lmt": { $lt: "2000-01-01T00:00:00.000Z" } })).toEqual([]);
  });

  it("$exists", async () => {
    expect(await names({ price: { $exists: true } })).toEqual(["alpha", "beta"]);
    expect(await names({ note: { $exists: true } })).toEqual(["alpha"]); // present, even if null
    expect(await names({ "meta.pages": { $exists: false } })).toEqual(["delta", "epsilon"]);
  });

  it("$regex: anchored literal prefixes", async () => {
    expect(await names({ name: { $regex: "^ga" } })).toEqual(["gamma"]);
    expect(await names({ name: { $regex: "^a.*" } })).toEqual(["alpha"]);
    expect(await names({ title: { $regex: "^Gamma's \"quoted\"" } })).toEqual(["gamma"]);
    expect(await names({ tags: { $regex: "^c" } })).toEqual(["epsilon", "gamma"]);
    expect(await names({ name: { $regex: "^A" } })).toEqual([]); // case-sensitive
    expect(await names({ _id: { $regex: `^${docs.beta!._id.slice(0, 20)}` } })).toEqual(["beta"]);
  });

  it("$and, $or, $nor", async () => {
    expect(await names({ $or: [{ name: "alpha" }, { n: 10 }] })).toEqual(["alpha", "epsilon"]);
    expect(await names({ $and: [{ tags: "b" }, { active: true }] })).toEqual(["alpha"]);
    expect(await names({ $nor: [{ tags: "b" }, { name: "gamma" }] })).toEqual(["delta"]);
    expect(await names({ "meta.lang": "en", $or: [{ n: 1 }, { n: 3 }] })).toEqual(["alpha", "gamma"]);
  });

  it("counts with a query", async () => {
    expect(await count(w, w.alice.auth, C, { tags: "b" })).toBe(3);
    expect(await count(w, w.alice.auth, C, {})).toBe(5);
  });
});

describe("fields, sort, limit, skip", () => {
  it("fields keeps the named fields plus _id, _acl and _kmd", async () => {
    const [doc] = await list(w, w.alice.auth, C, { ...q({ name: "alpha" }), fields: "name,meta.lang" });
    expect(doc).toEqual({ _id: docs.alpha!._id, name: "alpha", meta: { lang: "en" }, _acl: docs.alpha!._acl, _kmd: docs.alpha!._kmd });
    const one = await ok<Doc>(data(w, w.alice.auth, "GET", `/${C}/${docs.beta!._id}?fields=n`));
    expect(Object.keys(one).sort()).toEqual(["_acl", "_id", "_kmd", "n"]);
  });

  it("sort by one or more fields, either direction; _id and _kmd columns too", async () => {
    const byName = await list(w, w.alice.auth, C, { sort: JSON.stringify({ name: -1 }) });
    expect(byName.map((d) => d.name)).toEqual(["gamma", "epsilon", "delta", "beta", "alpha"]);
    const byLang = await list(w, w.alice.auth, C, { sort: JSON.stringify({ "meta.lang": 1, name: -1 }) });
    expect(byLang.map((d) => d.name)).toEqual(["epsilon", "delta", "gamma", "alpha", "beta"]);
    const byEct = await list(w, w.alice.auth, C, { sort: JSON.stringify({ "_kmd.ect": 1 }) });
    expect(byEct.map((d) => d.name)).toEqual(["alpha", "beta", "gamma", "delta", "epsilon"]);
    const byId = await list(w, w.alice.auth, C, { sort: JSON.stringify({ _id: 1 }) });
    expect(byId.map((d) => d._id)).toEqual(byId.map((d) => d._id).sort());
  });

  it("limit and skip page in a stable order", async () => {
    const sort = JSON.stringify({ name: 1 });
    const page = async (skip: number, limit: number) => (await list(w, w.alice.auth, C, { sort, skip: String(skip), limit: String(limit) })).map((d) => d.name);
    expect(await page(0, 2)).toEqual(["alpha", "beta"]);
    expect(await page(2, 2)).toEqual(["delta", "epsilon"]);
    expect(await page(4, 2)).toEqual(["gamma"]);
    expect(await page(0, 0)).toEqual([]);
    const unsorted = (await list(w, w.alice.auth, C, { limit: "2", skip: "1" })).map((d) => d.name);
    expect(unsorted).toEqual(["beta", "gamma"]); // insertion order by default
  });

  it("caps limit at 10000 with ResultSetSizeExceeded", async () => {
    await refused(data(w, w.alice.auth, "GET", `/${C}?limit=10001`), 400, "ResultSetSizeExceeded");
    expect(await list(w, w.alice.auth, C, { limit: "10000" })).toHaveLength(5);
  });
});

describe("size limits", () => {
  it("a long $in costs one parameter; a query too large for D1 is InvalidQuerySyntax", async () => {
    const many = Array.from({ length: 1000 }, (_, i) => `name${i}`).concat(["beta"]);
    expect(await names({ name: { $in: many.slice(-1000) } })).toEqual(["beta"]);
    expect(await names({ n: { $nin: Array.from({ length: 1000 }, (_, i) => i + 100) } })).toHaveLength(5);
    const wide = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, { $exists: false }]));
    expect(await names(wide)).toHaveLength(5);
    const huge = { $or: Array.from({ length: 120 }, (_, i) => ({ name: `v${i}` })) };
    await refused(data(w, w.alice.auth, "GET", `/${C}?query=${encodeURIComponent(JSON.stringify(huge))}`), 400, "InvalidQuerySyntax");
    const long = { $or: Array.from({ length: 250 }, () => ({ "meta.lang": { $gte: "a", $lte: "z" } })) };
    await refused(data(w, w.alice.auth, "GET", `/${C}?query=${encodeURIComponent(JSON.stringify(long))}`), 400, "InvalidQuerySyntax");
    await refused(data(w, w.alice.auth, "DELETE", `/${C}?query=${encodeURIComponent(JSON.stringify(long))}`), 400, "InvalidQuerySyntax");
    expect(await count(w, w.master, C)).toBe(5);
  });

  it("a list without limit past 10000 readable entities is ResultSetSizeExceeded; with a limit it pages", async () => {
    const v = await world();
    await env.DB.prepare(
      `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 10000)
       INSERT INTO entities (app_id, collection, id, creator, acl, data, created_at, updated_at)
       SELECT ?1, 'big', printf('b%05d', i), ?2, json_object('creator', ?2), '{}', 0, 0 FROM s`,
    )
      .bind(v.app.id, v.alice._id)
      .run();
    await refused(data(v, v.alice.auth, "GET", "/big"), 400, "ResultSetSizeExceeded");
    expect(await list(v, v.alice.auth, "big", { limit: "3", skip: "9999" })).toHaveLength(2);
    expect(await count(v, v.alice.auth, "big")).toBe(10001);
  });
});

describe("malformed input is InvalidQuerySyntax (400), never a 500", () => {
  const bad: [string, string][] = [
    ["query not JSON", "query=%7Bname"],
    ["query an array", `query=${encodeURIComponent("[1]")}`],
    ["query a string", `query=${encodeURIComponent('"x"')}`],
    ["unknown operator", `query=${encodeURIComponent(JSON.stringify({ n: { $where: "1" } }))}`],
    ["$where at top level", `query=${encodeURIComponent(JSON.stringify({ $where: "sleep(1)" }))}`],
    ["$not", `query=${encodeURIComponent(JSON.stringify({ n: { $not: { $gt: 1 } } }))}`],
    ["$elemMatch", `query=${encodeURIComponent(JSON.stringify({ tags: { $elemMatch: { $eq: "a" } } }))}`],
    ["mixed operator object", `query=${encodeURIComponent(JSON.stringify({ n: { $gt: 1, x: 2 } }))}`],
    ["$or not an array", `query=${encodeURIComponent(JSON.stringify({ $or: { a: 1 } }))}`],
    ["$or empty", `query=${encodeURIComponent(JSON.stringify({ $or: [] }))}`],
    ["$in not an array", `query=${encodeURIComponent(JSON.stringify({ n: { $in: 1 } }))}`],
    ["$gt with an object", `query=${encodeURIComponent(JSON.stringify({ n: { $gt: { a: 1 } } }))}`],
    ["$gt with a boolean", `query=${encodeURIComponent(JSON.stringify({ n: { $gt: true } }))}`],
    ["$exists not boolean", `query=${encodeURIComponent(JSON.stringify({ n: { $exists: 1 } }))}`],
    ["unanchored $regex", `query=${encodeURIComponent(JSON.stringify({ name: { $regex: "alp" } }))}`],
    ["$regex class", `query=${encodeURIComponent(JSON.stringify({ name: { $regex: "^a[lp]" } }))}`],
    ["$regex with $options", `query=${encodeURIComponent(JSON.stringify({ name: { $regex: "^a", $options: "i" } }))}`],
    ["_kmd other than ect/lmt", `query=${encodeURIComponent(JSON.stringify({ "_kmd.authtoken": "x" }))}`],
    ["_acl other than creator", `query=${encodeURIComponent(JSON.stringify({ "_acl.r": "x" }))}`],
    ["_kmd time not ISO", `query=${encodeURIComponent(JSON.stringify({ "_kmd.ect": { $gt: 5 } }))}`],
    ["empty field name", `query=${encodeURIComponent(JSON.stringify({ "": 1 }))}`],
    ["empty path segment", `query=${encodeURIComponent(JSON.stringify({ "a..b": 1 }))}`],
    ["deep nesting", `query=${encodeURIComponent(JSON.stringify(Array.from({ length: 12 }).reduce<object>((acc) => ({ $and: [acc] }), { a: 1 })))}`],
    ["sort not JSON", "sort=name"],
    ["sort direction 2", `sort=${encodeURIComponent(JSON.stringify({ name: 2 }))}`],
    ["sort direction string", `sort=${encodeURIComponent(JSON.stringify({ name: "asc" }))}`],
    ["sort an array", `sort=${encodeURIComponent(JSON.stringify(["name"]))}`],
    ["sort bad field", `sort=${encodeURIComponent(JSON.stringify({ "a'b": 1 }))}`],
    ["fields bad name", "fields=name,a%27b"],
    ["fields empty item", "fields=name,,n"],
    ["limit negative", "limit=-1"],
    ["limit not a number", "limit=ten"],
    ["limit fractional", "limit=1.5"],
    ["skip negative", "skip=-5"],
    ["skip not a number", "skip=1e3"],
  ];
  for (const [what, qs] of bad) {
    it(what, async () => {
      await refused(data(w, w.alice.auth, "GET", `/${C}?${qs}`), 400, "InvalidQuerySyntax");
    });
  }
  it("applies to counts and delete-by-query too, deleting nothing", async () => {
    await refused(data(w, w.alice.auth, "GET", `/${C}/_count?query=%7Bx`), 400, "InvalidQuerySyntax");
    await refused(data(w, w.alice.auth, "DELETE", `/${C}?query=${encodeURIComponent(JSON.stringify({ $where: "1" }))}`), 400, "InvalidQuerySyntax");
    expect(await count(w, w.alice.auth, C)).toBe(5);
  });
});

describe("injection attempts stay inert", () => {
  it("quotes, parentheses and comments in values are data", async () => {
    for (const value of ["' OR 1=1 --", '") OR 1=1 --', "x'); DROP TABLE entities; --", "*/ OR /*", "\u0000"]) {
      expect(await names({ name: value })).toEqual([]);
      expect(await names({ name: { $in: [value] } })).toEqual([]);
      expect(await names({ name: { $gt: value } })).toEqual(expect.any(Array));
      expect(await names({ name: { $regex: `^${value.replace(/[()*\\]/g, "\\$&")}` } })).toEqual([]);
    }
    expect(await names({ title: "Gamma's \"quoted\" -- title" })).toEqual(["gamma"]);
    expect(await count(w, w.master, C)).toBe(5);
  });

  it("field names cannot break out of the JSON path or the SQL", async () => {
    const attempts = [
      "name') OR 1=1 --",
      'name" OR 1=1 --',
      "name'",
      'a"."b',
      "$.name",
      "name[0]",
      "name.$",
      "a.#",
      "a) OR (1=1",
      "tags[#-1]",
      "meta.lang' --",
      "name\u0000",
      "a b",
    ];
    for (const field of attempts) {
      await refused(data(w, w.alice.auth, "GET", `/${C}?query=${encodeURIComponent(JSON.stringify({ [field]: "x" }))}`), 400, "InvalidQuerySyntax");
      await refused(data(w, w.alice.auth, "GET", `/${C}?sort=${encodeURIComponent(JSON.stringify({ [field]: 1 }))}`), 400, "InvalidQuerySyntax");
    }
  });

  it("operator names cannot smuggle SQL", async () => {
    for (const op of ["$gt) OR (1=1", "$eq'", "$in --", "$or", "$ GT", "$$gt"]) {
      await refused(data(w, w.alice.auth, "GET", `/${C}?query=${encodeURIComponent(JSON.stringify({ n: { [op]: 1 } }))}`), 400, "InvalidQuerySyntax");
    }
  });

  it("a query never widens the ACL: $or with a match-all term still returns only readable entities", async () => {
    await data(w, w.master, "PUT", "/secret/_permissions", { level: "private" });
    await create(w, w.bob.auth, "secret", { name: "bobs" });
    const mine = await create(w, w.alice.auth, "secret", { name: "alices" });
    const all = await list(w, w.alice.auth, "secret", q({ $or: [{ name: { $exists: true } }, { name: { $exists: false } }] }));
    expect(all.map((d) => d._id)).toEqual([mine._id]);
    expect(await count(w, w.alice.auth, "secret", { $nor: [{ name: "nope" }] })).toBe(1);
    const del = await ok(data(w, w.alice.auth, "DELETE", `/secret?query=${encodeURIComponent(JSON.stringify({ $or: [{ name: "bobs" }, { name: "alices" }] }))}`));
    expect(del).toEqual({ count: 1 });
    expect(await count(w, w.master, "secret")).toBe(1);
  });
});
