/** Entity CRUD protocol details (SPEC §3): _id, _kmd, Location, array POST, bodies, groups. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "../helpers";
import { count, create, data, group, ok, refused, world, type Doc } from "./helpers";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("create, read, replace, delete", () => {
  it("POST creates with a server id, server _kmd and a Location header", async () => {
    const w = await world();
    const res = await data(w, w.alice.auth, "POST", "/notes", { text: "hi", _kmd: { ect: "1999-01-01T00:00:00.000Z", authtoken: "x" } });
    expect(res.status).toBe(201);
    const doc = (await res.json()) as Doc;
    expect(doc._id).toMatch(/^[0-9a-f]{24}$/);
    expect(doc._kmd.ect).toMatch(ISO_MS);
    expect(doc._kmd.lmt).toBe(doc._kmd.ect);
    expect(doc._kmd).toEqual({ ect: doc._kmd.ect, lmt: doc._kmd.lmt });
    expect(res.headers.get("location")).toBe(`http://127.0.0.1:8787/appdata/${w.app.id}/notes/${doc._id}`);
    expect(res.headers.get("x-kinvey-request-id")).toMatch(/^[0-9a-f]{32}$/);
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/notes/${doc._id}`))).toEqual(doc);
  });

  it("honours a client _id on POST and PUT, and refuses a taken or malformed one", async () => {
    const w = await world();
    const doc = await create(w, w.alice.auth, "notes", { _id: "my-id-1", v: 1 });
    expect(doc._id).toBe("my-id-1");
    await refused(data(w, w.alice.auth, "POST", "/notes", { _id: "my-id-1", v: 2 }), 400, "BadRequest");
    for (const id of [5, "", "_count", "a/b", "x".repeat(256), "a\u0001"]) {
      await refused(data(w, w.alice.auth, "POST", "/notes", { _id: id }), 400, "BadRequest");
    }
    const put = await data(w, w.alice.auth, "PUT", "/notes/put-made", { v: 3 });
    expect(put.status).toBe(201);
    expect(put.headers.get("location")).toContain("/notes/put-made");
    await refused(data(w, w.alice.auth, "PUT", "/notes/put-made", { _id: "other", v: 4 }), 400, "BadRequest");
    expect(await count(w, w.master, "notes")).toBe(2);
  });

  it("PUT replaces the whole document, keeps ect and moves lmt", async () => {
    const w = await world();
    const doc = await create(w, w.alice.auth, "notes", { a: 1, b: 2 });
    await new Promise((r) => setTimeout(r, 5));
    const put = await ok<Doc>(data(w, w.alice.auth, "PUT", `/notes/${doc._id}`, { ...doc, a: 9, b: undefined, _kmd: { ect: "2000-01-01T00:00:00.000Z" } }));
    expect(put).toEqual({ _id: doc._id, a: 9, _acl: doc._acl, _kmd: { ect: doc._kmd.ect, lmt: put._kmd.lmt } });
    expect(put._kmd.lmt > doc._kmd.lmt).toBe(true);
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/notes/${doc._id}`))).toEqual(put);
  });

  it("DELETE answers {count: 1}, then 404; its grant rows go too", async () => {
    const w = await world();
    const doc = await create(w, w.alice.auth, "notes", { _acl: { r: [w.bob._id], groups: { w: ["g"] } } });
    const grants = () => env.DB.prepare("SELECT count(*) AS n FROM entity_grants WHERE app_id = ? AND entity_id = ?").bind(w.app.id, doc._id).first<{ n: number }>();
    expect((await grants())!.n).toBe(2);
    expect(await ok(data(w, w.alice.auth, "DELETE", `/notes/${doc._id}`))).toEqual({ count: 1 });
    await refused(data(w, w.alice.auth, "DELETE", `/notes/${doc._id}`), 404, "EntityNotFound");
    await refused(data(w, w.alice.auth, "GET", `/notes/${doc._id}`), 404, "EntityNotFound");
    expect((await grants())!.n).toBe(0);
  });

  it("keeps entity_grants in step with _acl on every write", async () => {
    const w = await world();
    const rows = async (id: string) =>
      (
        await env.DB.prepare("SELECT kind, right, principal_id FROM entity_grants WHERE app_id = ? AND entity_id = ? ORDER BY kind, right, principal_id")
          .bind(w.app.id, id)
          .all()
      ).results;
    const doc = await create(w, w.alice.auth, "notes", { _acl: { r: ["u1", "u2", "u1"], w: ["u3"], groups: { r: ["g1"], w: ["g2"] } } });
    expect(await rows(doc._id)).toEqual([
      { kind: "g", right: "r", principal_id: "g1" },
      { kind: "g", right: "w", principal_id: "g2" },
      { kind: "u", right: "r", principal_id: "u1" },
      { kind: "u", right: "r", principal_id: "u2" },
      { kind: "u", right: "w", principal_id: "u3" },
    ]);
    await ok(data(w, w.alice.auth, "PUT", `/notes/${doc._id}`, { _acl: { w: ["u9"] } }));
    expect(await rows(doc._id)).toEqual([{ kind: "u", right: "w", principal_id: "u9" }]);
    await ok(data(w, w.alice.auth, "PUT", `/notes/${doc._id}`, { x: 1 }));
    expect(await rows(doc._id)).toEqual([{ kind: "u", right: "w", principal_id: "u9" }]);
  });

  it("refuses bodies that are not JSON objects, changing nothing", async () => {
    const w = await world();
    const doc = await create(w, w.alice.auth, "notes", { v: 1 });
    await refused(call(`/appdata/${w.app.id}/notes`, { method: "POST", headers: { Authorization: w.alice.auth, "Content-Type": "application/json" }, body: "{bad" }), 400, "JSONParseError");
    await refused(data(w, w.alice.auth, "POST", "/notes", "a string"), 400, "BadRequest");
    await refused(data(w, w.alice.auth, "PUT", `/notes/${doc._id}`, [1, 2]), 400, "BadRequest");
    await refused(
      call(`/appdata/${w.app.id}/notes/${doc._id}`, { method: "PUT", headers: { Authorization: w.alice.auth, "Content-Type": "text/plain" }, body: "{}" }),
      415,
      "UnsupportedMediaType",
    );
    await refused(data(w, w.alice.auth, "GET", "/_bad"), 400, "BadRequest");
    expect(await count(w, w.master, "notes")).toBe(1);
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/notes/${doc._id}`))).toMatchObject({ v: 1 });
  });

  it("keeps the ping route working beside the data routes", async () => {
    const w = await world();
    expect(await ok(data(w, w.appCreds, "GET", ""))).toMatchObject({ kinvey: "hello Data" });
  });
});

describe("array POST", () => {
  it("answers 207 {entities, errors} at API version 5, one slot per item", async () => {
    const w = await world();
    await create(w, w.alice.auth, "notes", { _id: "taken" });
    const body = [{ v: 1 }, { _id: "taken" }, "not an object", { _id: "mine", v: 4 }, { _acl: { creator: w.bob._id } }];
    const res = await ok<{ entities: (Doc | null)[]; errors: { index: number; code: string }[] }>(
      data(w, w.alice.auth, "POST", "/notes", body, { "X-Kinvey-API-Version": "5" }),
      207,
    );
    expect(res.entities).toHaveLength(5);
    expect(res.entities[0]).toMatchObject({ v: 1, _acl: { creator: w.alice._id } });
    expect(res.entities[3]).toMatchObject({ _id: "mine", v: 4 });
    // A user's create naming another creator is created with the caller as creator.
    expect(res.entities[4]).toMatchObject({ _acl: { creator: w.alice._id } });
    expect([res.entities[1], res.entities[2]]).toEqual([null, null]);
    expect(res.errors.map((e) => [e.index, e.code])).toEqual([
      [1, "BadRequest"],
      [2, "BadRequest"],
    ]);
    expect(await count(w, w.master, "notes")).toBe(4);
  });

  it("refuses arrays below API version 5 with FeatureUnavailable, creating nothing", async () => {
    const w = await world();
    await refused(data(w, w.alice.auth, "POST", "/notes", [{ v: 1 }]), 400, "FeatureUnavailable");
    await refused(data(w, w.alice.auth, "POST", "/notes", [{ v: 1 }], { "X-Kinvey-API-Version": "4" }), 400, "FeatureUnavailable");
    await refused(data(w, w.alice.auth, "POST", "/notes", [], { "X-Kinvey-API-Version": "5" }), 400, "BadRequest");
    await refused(data(w, w.alice.auth, "POST", "/notes", Array.from({ length: 101 }, () => ({})), { "X-Kinvey-API-Version": "5" }), 400, "BadRequest");
    expect(await count(w, w.master, "notes")).toBe(0);
  });
});

describe("groups", () => {
  it("master creates, replaces and deletes; users read; app credentials and users may not mutate", async () => {
    const w = await world();
    const created = await group(w, { _id: "team", name: "Team", users: { all: false, list: [w.alice._id] }, groups: [] });
    expect(created).toMatchObject({
      _id: "team",
      name: "Team",
      users: { all: false, list: [{ _type: "KinveyRef", _collection: "user", _id: w.alice._id }] },
      groups: [],
    });
    const path = `/group/${w.app.id}/team`;
    expect(await ok(call(path, { headers: { Authorization: w.bob.auth } }))).toMatchObject({ _id: "team" });
    for (const auth of [w.alice.auth, w.appCreds]) {
      await refused(call(`/group/${w.app.id}`, { method: "POST", headers: { Authorization: auth }, json: { _id: "x" } }), 401, "InsufficientCredentials");
      await refused(call(path, { method: "PUT", headers: { Authorization: auth }, json: { users: { all: true } } }), 401, "InsufficientCredentials");
      await refused(call(path, { method: "DELETE", headers: { Authorization: auth } }), 401, "InsufficientCredentials");
    }
    await refused(call(path, { headers: { Authorization: w.appCreds } }), 401, "InsufficientCredentials");
    await refused(call(`/group/${w.app.id}`, { method: "POST", headers: { Authorization: w.master }, json: { _id: "team" } }), 400, "BadRequest");
    const replaced = await ok(call(path, { method: "PUT", headers: { Authorization: w.master }, json: { users: { all: true }, groups: ["other"] } }));
    expect(replaced).toMatchObject({ _id: "team", users: { all: true, list: [] }, groups: [{ _id: "other" }] });
    expect(replaced).not.toHaveProperty("name");
    for (const body of [{ users: [] }, { users: { all: "yes" } }, { users: { list: [5] } }, { groups: "g" }, { _id: "a b" }]) {
      await refused(call(`/group/${w.app.id}`, { method: "POST", headers: { Authorization: w.master }, json: body }), 400, "BadRequest");
    }
    expect((await call(path, { method: "DELETE", headers: { Authorization: w.master } })).status).toBe(204);
    await refused(call(path, { headers: { Authorization: w.master } }), 404, "EntityNotFound");
    await refused(call(path, { method: "DELETE", headers: { Authorization: w.master } }), 404, "EntityNotFound");
  });
});

describe("a list's documents are built in SQL", () => {
  it("renders every document exactly as a GET does (the JS renderer), in order", async () => {
    const w = await world();
    const bodies: Record<string, unknown>[] = [
      {},
      { text: "héllo \u2028 \"quoted\" \\ /slash", emoji: "🙂" },
      { n: 0, neg: -1.5, big: 1e21, tiny: 5e-324, t: true, f: false, nil: null },
      { nested: { a: [1, { b: [] }], "": "empty key" }, list: [] },
      { __proto__x: 1, "1": "numeric key", constructor: "c" },
      JSON.parse('{"__proto__": {"polluted": true}, "k": "v"}') as Record<string, unknown>,
      { _acl: { r: [w.bob._id], gr: false, groups: { r: ["g1"] } }, v: 1 },
    ];
    const created: Doc[] = [];
    for (const body of bodies) created.push(await create(w, w.alice.auth, "tricky", body));
    const listed = await ok<Doc[]>(data(w, w.alice.auth, "GET", "/tricky"));
    expect(listed.map((d) => d._id)).toEqual(created.map((d) => d._id).sort());
    for (const doc of listed) {
      expect(doc).toEqual(await ok<Doc>(data(w, w.alice.auth, "GET", `/tricky/${doc._id}`)));
      expect(Object.getPrototypeOf(doc)).toBe(Object.prototype);
    }
    // The aggregate keeps the page's order, also when it is not `_id` order.
    const byV = [];
    for (const v of [2, 5, 1, 4, 3]) byV.push(await create(w, w.alice.auth, "sorted", { v }));
    const page = await ok<Doc[]>(data(w, w.alice.auth, "GET", `/sorted?sort=${encodeURIComponent('{"v": -1}')}&limit=3&skip=1`));
    expect(page.map((d) => d.v)).toEqual([4, 3, 2]);
  });

  it("renders stored JSON with whitespace as a GET does", async () => {
    const w = await world();
    const spaced = await create(w, w.alice.auth, "spaced", { v: 1 });
    const empty = await create(w, w.alice.auth, "spaced", { v: 2 });
    const set = (id: string, data: string, acl: string) =>
      env.DB.prepare("UPDATE entities SET data = ?, acl = ? WHERE app_id = ? AND id = ?").bind(data, acl, w.app.id, id).run();
    await set(spaced._id, ' { "a" : [ 1, 2 ], "b" : { } } ', ` { "creator" : "${w.alice._id}" } `);
    await set(empty._id, "{ }", `{"creator":"${w.alice._id}"}`);
    const listed = await ok<Doc[]>(data(w, w.alice.auth, "GET", "/spaced"));
    expect(listed.map((d) => d._id).sort()).toEqual([spaced._id, empty._id].sort());
    for (const doc of listed) expect(doc).toEqual(await ok<Doc>(data(w, w.alice.auth, "GET", `/spaced/${doc._id}`)));
    expect(listed.find((d) => d._id === spaced._id)).toMatchObject({ a: [1, 2], b: {} });
  });

  it("keeps _kmd times to the millisecond, and an empty page is []", async () => {
    const w = await world();
    expect(await ok<Doc[]>(data(w, w.alice.auth, "GET", "/nothing-here"))).toEqual([]);
    const doc = await create(w, w.alice.auth, "times", { v: 1 });
    for (const ms of [0, 1, 999, 1_733_222_400_123, 253_402_300_799_998]) {
      await env.DB.prepare("UPDATE entities SET created_at = ?, updated_at = ? WHERE app_id = ? AND id = ?").bind(ms, ms + 1, w.app.id, doc._id).run();
      const listed = (await ok<Doc[]>(data(w, w.alice.auth, "GET", "/times")))[0];
      expect(listed, `at ${ms}`).toBeDefined();
      expect(listed!._kmd).toEqual({ ect: new Date(ms).toISOString(), lmt: new Date(ms + 1).toISOString() });
    }
  });
});
