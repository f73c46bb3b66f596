/**
 * Issue 18 hardening of the data API: non-finite numbers in queries are refused, and a create
 * whose `_id` belongs to an entity the caller cannot read answers like a write to it (404).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { errorOf } from "../helpers";
import { count, create, data, ok, refused, setLevel, world, type World } from "./helpers";

let w: World;

beforeAll(async () => {
  w = await world();
  await create(w, w.alice.auth, "books", { name: "alpha", n: 1, obj: { x: 1 } });
});

describe("a query holding a non-finite number is InvalidQuerySyntax", () => {
  // Raw text: JSON.stringify cannot write these; JSON.parse reads 1e999 as Infinity.
  const queries: [string, string][] = [
    ["$gt -1e999", '{"n":{"$gt":-1e999}}'],
    ["$gte", '{"n":{"$gte":1e999}}'],
    ["$lt", '{"n":{"$lt":1e999}}'],
    ["$lte", '{"n":{"$lte":-1e999}}'],
    ["equality", '{"n":1e999}'],
    ["$eq", '{"n":{"$eq":1e999}}'],
    ["$ne", '{"n":{"$ne":1e999}}'],
    ["$in array", '{"n":{"$in":[1,1e999]}}'],
    ["$nin array", '{"n":{"$nin":[-1e999]}}'],
    ["$all array", '{"n":{"$all":[1e999]}}'],
    ["inside an object value", '{"obj":{"x":1e999}}'],
    ["inside an array value", '{"obj":[1,[2,-1e999]]}'],
    ["nested $and/$or", '{"$and":[{"$or":[{"name":"alpha"},{"n":{"$gt":1e999}}]}]}'],
    ["$nor", '{"$nor":[{"n":1e999}]}'],
  ];
  for (const [what, text] of queries) {
    it(what, async () => {
      await refused(data(w, w.alice.auth, "GET", `/books?query=${encodeURIComponent(text)}`), 400, "InvalidQuerySyntax");
    });
  }

  it("on counts and delete-by-query too, deleting nothing", async () => {
    const text = encodeURIComponent('{"n":{"$gt":-1e999}}');
    await refused(data(w, w.alice.auth, "GET", `/books/_count?query=${text}`), 400, "InvalidQuerySyntax");
    await refused(data(w, w.alice.auth, "DELETE", `/books?query=${text}`), 400, "InvalidQuerySyntax");
    expect(await count(w, w.alice.auth, "books")).toBe(1);
  });

  it("large finite numbers still work", async () => {
    expect(await count(w, w.alice.auth, "books", { n: { $gt: -1e300, $lt: 1e300 } })).toBe(1);
  });
});

describe("a create with the _id of an entity the caller cannot read", () => {
  it("answers exactly as a write to that entity: 404 EntityNotFound, and writes nothing", async () => {
    await setLevel(w, "secrets", "private");
    await create(w, w.alice.auth, "secrets", { _id: "alice-private", v: 1 });
    const asGet = await errorOf(await data(w, w.bob.auth, "GET", "/secrets/alice-private"));
    const asPut = await errorOf(await data(w, w.bob.auth, "PUT", "/secrets/alice-private", { v: 2 }));
    const asPost = await errorOf(await data(w, w.bob.auth, "POST", "/secrets", { _id: "alice-private", v: 3 }));
    expect(asPut).toMatchObject({ status: 404, error: "EntityNotFound" });
    expect(asPost).toEqual(asPut);
    expect(asGet).toEqual(asPut);
    expect((await ok<{ v: number }>(data(w, w.alice.auth, "GET", "/secrets/alice-private"))).v).toBe(1);
  });

  it("per item in an array POST", async () => {
    const res = await ok<{ entities: unknown[]; errors: { index: number; code: string; errmsg: string }[] }>(
      data(w, w.bob.auth, "POST", "/secrets", [{ v: 1 }, { _id: "alice-private" }], { "X-Kinvey-API-Version": "5" }),
      207,
    );
    const asPut = await errorOf(await data(w, w.bob.auth, "PUT", "/secrets/alice-private", { v: 2 }));
    expect(res.entities[0]).toMatchObject({ v: 1 });
    expect(res.entities[1]).toBeNull();
    expect(res.errors).toEqual([{ index: 1, code: "EntityNotFound", errmsg: asPut.body.description }]);
  });

  it("a caller that may read it still hears that it exists", async () => {
    await create(w, w.alice.auth, "shared", { _id: "visible" });
    await refused(data(w, w.bob.auth, "POST", "/shared", { _id: "visible" }), 400, "BadRequest");
    const res = await ok<{ errors: { code: string }[] }>(data(w, w.bob.auth, "POST", "/shared", [{ _id: "visible" }], { "X-Kinvey-API-Version": "5" }), 207);
    expect(res.errors.map((e) => e.code)).toEqual(["BadRequest"]);
    await refused(data(w, w.master, "POST", "/secrets", { _id: "alice-private" }), 400, "BadRequest");
  });
});
