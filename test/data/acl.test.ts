/**
 * SPEC §3 ACL rules through the wire (workerd, real D1): each rule with its refused case.
 * Single-entity answers come from acl.ts; lists, counts and delete-by-query from acl-sql.ts.
 */
import { describe, expect, it } from "vitest";
import { call } from "../helpers";
import { count, create, data, group, ids, list, ok, refused, setLevel, world, type Doc, type World } from "./helpers";

async function visible(w: World, auth: string, coll: string): Promise<{ list: string[]; count: number }> {
  return { list: ids(await list(w, auth, coll)), count: await count(w, auth, coll) };
}

describe("credentials (rule 1)", () => {
  it("refuses app credentials on every data route with InsufficientCredentials", async () => {
    const w = await world();
    const doc = await create(w, w.alice.auth, "things", { a: 1 });
    const attempts: [string, string, unknown?][] = [
      ["GET", "/things"],
      ["GET", "/things/_count"],
      ["POST", "/things", { a: 2 }],
      ["DELETE", "/things?query=%7B%7D"],
      ["GET", `/things/${doc._id}`],
      ["PUT", `/things/${doc._id}`, { a: 3 }],
      ["DELETE", `/things/${doc._id}`],
      ["GET", "/things/_permissions"],
      ["PUT", "/things/_permissions", { level: "full" }],
    ];
    for (const [method, path, body] of attempts) await refused(data(w, w.appCreds, method, path, body), 401, "InsufficientCredentials");
    // Nothing changed.
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/things/${doc._id}`))).toMatchObject({ a: 1 });
    expect(await count(w, w.master, "things")).toBe(1);
  });

  it("refuses a request without Authorization with InvalidCredentials, and a bad token likewise", async () => {
    const w = await world();
    await refused(call(`/appdata/${w.app.id}/things`), 401, "InvalidCredentials");
    await refused(data(w, "Kinvey notarealtokennotarealtoken", "GET", "/things"), 401, "InvalidCredentials");
  });

  it("checks the session inside each read: a logged-out token reads nothing at once, and a bad token beats a bad query", async () => {
    const w = await world();
    await setLevel(w, "open", "shared");
    const doc = await create(w, w.alice.auth, "open", { a: 1 });
    const reads = [`/open`, `/open/_count`, `/open/${doc._id}`];
    for (const path of reads) await ok(data(w, w.alice.auth, "GET", path));
    const res = await call(`/user/${w.app.id}/_logout`, { method: "POST", headers: { Authorization: w.alice.auth } });
    expect(res.status).toBe(204);
    // Shared data is readable by any user, so rows exist for the statement; the dead session still refuses them.
    for (const path of reads) await refused(data(w, w.alice.auth, "GET", path), 401, "InvalidCredentials");
    await refused(data(w, w.alice.auth, "GET", `/open?query=${encodeURIComponent("{not json")}`), 401, "InvalidCredentials");
    await refused(data(w, w.bob.auth, "GET", `/open?query=${encodeURIComponent("{not json")}`), 400, "InvalidQuerySyntax");
  });

  it("lets master read and write everything, ignoring the ACL", async () => {
    const w = await world();
    await setLevel(w, "secrets", "private");
    const doc = await create(w, w.alice.auth, "secrets", { s: 1, _acl: { gr: false, gw: false } });
    expect(await ok<Doc>(data(w, w.master, "GET", `/secrets/${doc._id}`))).toMatchObject({ s: 1 });
    expect(ids(await list(w, w.master, "secrets"))).toEqual([doc._id]);
    await ok(data(w, w.master, "PUT", `/secrets/${doc._id}`, { s: 2 }));
    expect(await ok(data(w, w.master, "DELETE", `/secrets/${doc._id}`))).toEqual({ count: 1 });
  });

  it("lets only master read or set collection levels", async () => {
    const w = await world();
    await refused(data(w, w.alice.auth, "PUT", "/c/_permissions", { level: "full" }), 401, "InsufficientCredentials");
    await refused(data(w, w.alice.auth, "GET", "/c/_permissions"), 401, "InsufficientCredentials");
    expect(await ok(data(w, w.master, "GET", "/c/_permissions"))).toEqual({ collection: "c", level: "shared" });
    await refused(data(w, w.master, "PUT", "/c/_permissions", { level: "everyone" }), 400, "BadRequest");
    expect(await ok(data(w, w.master, "PUT", "/c/_permissions", { level: "private" }))).toEqual({ collection: "c", level: "private" });
    expect(await ok(data(w, w.master, "GET", "/c/_permissions"))).toEqual({ collection: "c", level: "private" });
  });
});

describe("creator (rule 2)", () => {
  it("sets the creator to the caller, and the creator always reads, writes and deletes", async () => {
    const w = await world();
    await setLevel(w, "mine", "private");
    const doc = await create(w, w.alice.auth, "mine", { n: 1, _acl: { gr: false, gw: false } });
    expect(doc._acl).toEqual({ creator: w.alice._id, gr: false, gw: false });
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/mine/${doc._id}`))).toMatchObject({ n: 1 });
    expect(await visible(w, w.alice.auth, "mine")).toEqual({ list: [doc._id], count: 1 });
    expect(await ok<Doc>(data(w, w.alice.auth, "PUT", `/mine/${doc._id}`, { n: 2 }))).toMatchObject({ n: 2 });
    expect(await ok(data(w, w.alice.auth, "DELETE", `/mine/${doc._id}`))).toEqual({ count: 1 });
  });

  it("a user's create naming another creator is created with the caller as creator (201), by POST and by PUT", async () => {
    const w = await world();
    await setLevel(w, "c", "private");
    const posted = await create(w, w.alice.auth, "c", { n: 1, _acl: { creator: w.bob._id, r: [w.bob._id] } });
    expect(posted._acl).toEqual({ creator: w.alice._id, r: [w.bob._id] });
    const put = await data(w, w.alice.auth, "PUT", "/c/x1", { n: 2, _acl: { creator: w.bob._id } });
    expect(put.status).toBe(201);
    expect(((await put.json()) as Doc)._acl).toEqual({ creator: w.alice._id });
    const batch = await data(w, w.alice.auth, "POST", "/c", [{ n: 3, _acl: { creator: w.bob._id } }], { "X-Kinvey-API-Version": "5" });
    expect(batch.status).toBe(207);
    expect(((await batch.json()) as { entities: Doc[] }).entities[0]!._acl.creator).toBe(w.alice._id);
    // Bob owns none of them: he reads only the one that lists him.
    expect(await visible(w, w.bob.auth, "c")).toEqual({ list: [posted._id], count: 1 });
    await refused(data(w, w.bob.auth, "PUT", `/c/${posted._id}`, { n: 9 }), 401, "InsufficientCredentials");
  });

  it("refuses a user changing the creator of an existing entity", async () => {
    const w = await world();
    const doc = await create(w, w.alice.auth, "c", {});
    await refused(data(w, w.alice.auth, "PUT", `/c/${doc._id}`, { _acl: { creator: w.bob._id } }), 401, "InsufficientCredentials");
    expect((await ok<Doc>(data(w, w.alice.auth, "GET", `/c/${doc._id}`)))._acl.creator).toBe(w.alice._id);
    expect(await count(w, w.master, "c")).toBe(1);
  });

  it("lets master set the creator on create and change it later", async () => {
    const w = await world();
    await setLevel(w, "p", "private");
    const doc = await create(w, w.master, "p", { v: 1, _acl: { creator: w.bob._id } });
    expect(doc._acl.creator).toBe(w.bob._id);
    expect(await ok<Doc>(data(w, w.bob.auth, "GET", `/p/${doc._id}`))).toMatchObject({ v: 1 });
    await refused(data(w, w.alice.auth, "GET", `/p/${doc._id}`), 404, "EntityNotFound");
    await ok(data(w, w.master, "PUT", `/p/${doc._id}`, { v: 2, _acl: { creator: w.alice._id } }));
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/p/${doc._id}`))).toMatchObject({ v: 2 });
    await refused(data(w, w.bob.auth, "GET", `/p/${doc._id}`), 404, "EntityNotFound");
    expect(await visible(w, w.bob.auth, "p")).toEqual({ list: [], count: 0 });
  });

  it("gives master-created entities the app as creator, so no user owns them", async () => {
    const w = await world();
    await setLevel(w, "p", "private");
    const doc = await create(w, w.master, "p", {});
    expect(doc._acl.creator).toBe(w.app.id);
    await refused(data(w, w.alice.auth, "GET", `/p/${doc._id}`), 404, "EntityNotFound");
  });
});

describe("collection levels (rule 3)", () => {
  it("Shared (default): everyone reads, only the creator writes; others get 401 on writes", async () => {
    const w = await world();
    const doc = await create(w, w.alice.auth, "shared", { v: 1 });
    expect(await ok<Doc>(data(w, w.bob.auth, "GET", `/shared/${doc._id}`))).toMatchObject({ v: 1 });
    expect(await visible(w, w.bob.auth, "shared")).toEqual({ list: [doc._id], count: 1 });
    await refused(data(w, w.bob.auth, "PUT", `/shared/${doc._id}`, { v: 2 }), 401, "InsufficientCredentials");
    await refused(data(w, w.bob.auth, "DELETE", `/shared/${doc._id}`), 401, "InsufficientCredentials");
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/shared/${doc._id}`))).toMatchObject({ v: 1 });
    // Users create in Shared collections.
    await create(w, w.bob.auth, "shared", { v: 3 });
  });

  it("Private: others neither see nor write; the 404 hides existence", async () => {
    const w = await world();
    await setLevel(w, "priv", "private");
    const a = await create(w, w.alice.auth, "priv", { v: 1 });
    const b = await create(w, w.bob.auth, "priv", { v: 2 });
    await refused(data(w, w.bob.auth, "GET", `/priv/${a._id}`), 404, "EntityNotFound");
    await refused(data(w, w.bob.auth, "PUT", `/priv/${a._id}`, { v: 9 }), 404, "EntityNotFound");
    await refused(data(w, w.bob.auth, "DELETE", `/priv/${a._id}`), 404, "EntityNotFound");
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [b._id], count: 1 });
    expect(await visible(w, w.alice.auth, "priv")).toEqual({ list: [a._id], count: 1 });
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/priv/${a._id}`))).toMatchObject({ v: 1 });
  });

  it("Read Only: users read but create nothing (POST nor PUT); master creates", async () => {
    const w = await world();
    await setLevel(w, "ro", "readonly");
    await refused(data(w, w.alice.auth, "POST", "/ro", { v: 1 }), 401, "InsufficientCredentials");
    await refused(data(w, w.alice.auth, "PUT", "/ro/new1", { v: 1 }), 401, "InsufficientCredentials");
    await refused(data(w, w.alice.auth, "POST", "/ro", [{ v: 1 }], { "X-Kinvey-API-Version": "5" }), 401, "InsufficientCredentials");
    const doc = await create(w, w.master, "ro", { v: 1 });
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/ro/${doc._id}`))).toMatchObject({ v: 1 });
    expect(await visible(w, w.alice.auth, "ro")).toEqual({ list: [doc._id], count: 1 });
    await refused(data(w, w.alice.auth, "PUT", `/ro/${doc._id}`, { v: 2 }), 401, "InsufficientCredentials");
    await refused(data(w, w.alice.auth, "DELETE", `/ro/${doc._id}`), 401, "InsufficientCredentials");
    expect(await count(w, w.master, "ro")).toBe(1);
  });

  it("Full: every user reads, writes and deletes every entity", async () => {
    const w = await world();
    await setLevel(w, "full", "full");
    const doc = await create(w, w.alice.auth, "full", { v: 1 });
    expect(await ok<Doc>(data(w, w.bob.auth, "PUT", `/full/${doc._id}`, { v: 2 }))).toMatchObject({ v: 2 });
    expect(await visible(w, w.carol.auth, "full")).toEqual({ list: [doc._id], count: 1 });
    expect(await ok(data(w, w.carol.auth, "DELETE", `/full/${doc._id}`))).toEqual({ count: 1 });
  });
});

describe("entity overrides (rule 4)", () => {
  it("gr: true opens a Private entity to reading; gr: false closes a Shared one", async () => {
    const w = await world();
    await setLevel(w, "priv", "private");
    const open = await create(w, w.alice.auth, "priv", { _acl: { gr: true } });
    const closed = await create(w, w.alice.auth, "pub", { _acl: { gr: false } });
    const plainPub = await create(w, w.alice.auth, "pub", {});
    expect(await ok<Doc>(data(w, w.bob.auth, "GET", `/priv/${open._id}`))).toMatchObject({ _id: open._id });
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [open._id], count: 1 });
    // Readable but not writable: 401 on writes.
    await refused(data(w, w.bob.auth, "PUT", `/priv/${open._id}`, {}), 401, "InsufficientCredentials");
    await refused(data(w, w.bob.auth, "GET", `/pub/${closed._id}`), 404, "EntityNotFound");
    await refused(data(w, w.bob.auth, "PUT", `/pub/${closed._id}`, {}), 404, "EntityNotFound");
    expect(await visible(w, w.bob.auth, "pub")).toEqual({ list: [plainPub._id], count: 1 });
  });

  it("gw: true opens a Shared entity to writing; gw: false closes a Full one", async () => {
    const w = await world();
    await setLevel(w, "full", "full");
    const open = await create(w, w.alice.auth, "pub", { v: 1, _acl: { gw: true } });
    const closed = await create(w, w.alice.auth, "full", { v: 1, _acl: { gw: false } });
    expect(await ok<Doc>(data(w, w.bob.auth, "PUT", `/pub/${open._id}`, { v: 2 }))).toMatchObject({ v: 2 });
    await refused(data(w, w.bob.auth, "PUT", `/full/${closed._id}`, { v: 2 }), 401, "InsufficientCredentials");
    await refused(data(w, w.bob.auth, "DELETE", `/full/${closed._id}`), 401, "InsufficientCredentials");
    expect(await ok(data(w, w.bob.auth, "DELETE", `/pub/${open._id}`))).toEqual({ count: 1 });
  });

  it("r lists readers; users not listed see nothing", async () => {
    const w = await world();
    await setLevel(w, "priv", "private");
    const doc = await create(w, w.alice.auth, "priv", { _acl: { r: [w.bob._id] } });
    expect(await ok<Doc>(data(w, w.bob.auth, "GET", `/priv/${doc._id}`))).toMatchObject({ _id: doc._id });
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [doc._id], count: 1 });
    await refused(data(w, w.bob.auth, "PUT", `/priv/${doc._id}`, {}), 401, "InsufficientCredentials");
    await refused(data(w, w.carol.auth, "GET", `/priv/${doc._id}`), 404, "EntityNotFound");
    expect(await visible(w, w.carol.auth, "priv")).toEqual({ list: [], count: 0 });
  });

  it("w without read: PUT and DELETE work, GET is 404, lists and counts leave it out (rule 5)", async () => {
    const w = await world();
    await setLevel(w, "priv", "private");
    const doc = await create(w, w.alice.auth, "priv", { v: 1, _acl: { w: [w.bob._id] } });
    await refused(data(w, w.bob.auth, "GET", `/priv/${doc._id}`), 404, "EntityNotFound");
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [], count: 0 });
    const put = await ok<Doc>(data(w, w.bob.auth, "PUT", `/priv/${doc._id}`, { v: 2, _acl: doc._acl }));
    expect(put).toMatchObject({ v: 2, _acl: { creator: w.alice._id, w: [w.bob._id] } });
    await refused(data(w, w.carol.auth, "PUT", `/priv/${doc._id}`, { v: 3 }), 404, "EntityNotFound");
    await refused(data(w, w.carol.auth, "DELETE", `/priv/${doc._id}`), 404, "EntityNotFound");
    expect(await ok(data(w, w.bob.auth, "DELETE", `/priv/${doc._id}`))).toEqual({ count: 1 });
    expect(await count(w, w.master, "priv")).toBe(0);
  });

  it("groups.r and groups.w grant through group membership only", async () => {
    const w = await world();
    await setLevel(w, "priv", "private");
    await group(w, { _id: "readers", users: { list: [w.bob._id] } });
    await group(w, { _id: "writers", users: { list: [w.carol._id] } });
    const doc = await create(w, w.alice.auth, "priv", { v: 1, _acl: { groups: { r: ["readers"], w: ["writers"] } } });
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [doc._id], count: 1 });
    await ok(data(w, w.bob.auth, "GET", `/priv/${doc._id}`));
    await refused(data(w, w.bob.auth, "PUT", `/priv/${doc._id}`, {}), 401, "InsufficientCredentials");
    await refused(data(w, w.carol.auth, "GET", `/priv/${doc._id}`), 404, "EntityNotFound");
    expect(await visible(w, w.carol.auth, "priv")).toEqual({ list: [], count: 0 });
    await ok(data(w, w.carol.auth, "PUT", `/priv/${doc._id}`, { v: 2 }));
    // Membership changes take effect at once.
    await ok(call(`/group/${w.app.id}/readers`, { method: "PUT", headers: { Authorization: w.master }, json: { users: { list: [] } } }));
    await refused(data(w, w.bob.auth, "GET", `/priv/${doc._id}`), 404, "EntityNotFound");
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [], count: 0 });
  });

  it("nested groups: members of a child group hold the parent's grants, through cycles too", async () => {
    const w = await world();
    await setLevel(w, "priv", "private");
    await group(w, { _id: "leaf", users: { list: [{ _type: "KinveyRef", _collection: "user", _id: w.bob._id }] } });
    await group(w, { _id: "mid", groups: [{ _type: "KinveyRef", _collection: "group", _id: "leaf" }] });
    await group(w, { _id: "top", groups: ["mid"] });
    await ok(call(`/group/${w.app.id}/leaf`, { method: "PUT", headers: { Authorization: w.master }, json: { users: { list: [w.bob._id] }, groups: ["top"] } }));
    const doc = await create(w, w.alice.auth, "priv", { _acl: { groups: { r: ["top"], w: ["top"] } } });
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [doc._id], count: 1 });
    await ok(data(w, w.bob.auth, "GET", `/priv/${doc._id}`));
    await ok(data(w, w.bob.auth, "PUT", `/priv/${doc._id}`, { x: 1 }));
    expect(await visible(w, w.carol.auth, "priv")).toEqual({ list: [], count: 0 });
    await refused(data(w, w.carol.auth, "GET", `/priv/${doc._id}`), 404, "EntityNotFound");
  });

  it("users.all: a group containing every user, directly or nested", async () => {
    const w = await world();
    await setLevel(w, "priv", "private");
    await group(w, { _id: "everyone", users: { all: true } });
    await group(w, { _id: "wrapper", groups: ["everyone"] });
    await group(w, { _id: "nobody", users: { all: false } });
    const a = await create(w, w.alice.auth, "priv", { _acl: { groups: { r: ["wrapper"] } } });
    const b = await create(w, w.alice.auth, "priv", { _acl: { groups: { r: ["nobody"] } } });
    for (const u of [w.bob, w.carol]) {
      expect(await visible(w, u.auth, "priv")).toEqual({ list: [a._id], count: 1 });
      await refused(data(w, u.auth, "GET", `/priv/${b._id}`), 404, "EntityNotFound");
    }
  });

  it("stores and echoes gr/gw only when a client set them", async () => {
    const w = await world();
    const plain = await create(w, w.alice.auth, "c", {});
    expect(plain._acl).toEqual({ creator: w.alice._id });
    const got = await ok<Doc>(data(w, w.alice.auth, "GET", `/c/${plain._id}`));
    expect(got._acl).toEqual({ creator: w.alice._id });
    const flagged = await create(w, w.alice.auth, "c", { _acl: { gr: false, gw: true } });
    expect((await ok<Doc>(data(w, w.alice.auth, "GET", `/c/${flagged._id}`)))._acl).toEqual({ creator: w.alice._id, gr: false, gw: true });
  });
});

describe("changing _acl", () => {
  it("lets the creator change the ACL and refuses a writer who is not the creator", async () => {
    const w = await world();
    await setLevel(w, "priv", "private");
    const doc = await create(w, w.alice.auth, "priv", { v: 1, _acl: { w: [w.bob._id] } });
    await refused(
      data(w, w.bob.auth, "PUT", `/priv/${doc._id}`, { v: 2, _acl: { creator: w.alice._id, w: [w.bob._id], r: [w.bob._id] } }),
      401,
      "InsufficientCredentials",
    );
    await refused(data(w, w.bob.auth, "PUT", `/priv/${doc._id}`, { v: 2, _acl: { gr: true } }), 401, "InsufficientCredentials");
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [], count: 0 });
    const changed = await ok<Doc>(data(w, w.alice.auth, "PUT", `/priv/${doc._id}`, { v: 3, _acl: { creator: w.alice._id, r: [w.bob._id] } }));
    expect(changed._acl).toEqual({ creator: w.alice._id, r: [w.bob._id] });
    expect(await visible(w, w.bob.auth, "priv")).toEqual({ list: [doc._id], count: 1 });
    // The grant rows follow the ACL: bob lost w.
    await refused(data(w, w.bob.auth, "PUT", `/priv/${doc._id}`, { v: 4 }), 401, "InsufficientCredentials");
  });

  it("accepts an unchanged _acl round-trip from a writer, and a PUT without _acl keeps the ACL", async () => {
    const w = await world();
    await setLevel(w, "full", "full");
    const doc = await create(w, w.alice.auth, "full", { v: 1, _acl: { r: [w.carol._id], gr: true } });
    const fetched = await ok<Doc>(data(w, w.bob.auth, "GET", `/full/${doc._id}`));
    const roundTrip = await ok<Doc>(data(w, w.bob.auth, "PUT", `/full/${doc._id}`, { ...fetched, v: 2 }));
    expect(roundTrip).toMatchObject({ v: 2, _acl: { creator: w.alice._id, r: [w.carol._id], gr: true } });
    const noAcl = await ok<Doc>(data(w, w.bob.auth, "PUT", `/full/${doc._id}`, { v: 3 }));
    expect(noAcl._acl).toEqual({ creator: w.alice._id, r: [w.carol._id], gr: true });
    expect((await ok<Doc>(data(w, w.alice.auth, "GET", `/full/${doc._id}`)))._acl).toEqual({ creator: w.alice._id, r: [w.carol._id], gr: true });
  });

  it("refuses malformed _acl values with 400 and changes nothing", async () => {
    const w = await world();
    const doc = await create(w, w.alice.auth, "c", { v: 1 });
    for (const acl of [[], "x", { gr: "yes" }, { r: "bob" }, { r: [1] }, { groups: [] }, { groups: { r: [null] } }, { creator: 5 }]) {
      await refused(data(w, w.alice.auth, "PUT", `/c/${doc._id}`, { v: 2, _acl: acl }), 400, "BadRequest");
      await refused(data(w, w.alice.auth, "POST", "/c", { _acl: acl }), 400, "BadRequest");
    }
    expect(await ok<Doc>(data(w, w.alice.auth, "GET", `/c/${doc._id}`))).toMatchObject({ v: 1, _acl: { creator: w.alice._id } });
    expect(await count(w, w.master, "c")).toBe(1);
  });
});

describe("delete by query", () => {
  it("needs a query (MissingQuery) and deletes only the matches the caller may write", async () => {
    const w = await world();
    await refused(data(w, w.alice.auth, "DELETE", "/c"), 400, "MissingQuery");
    await refused(data(w, w.alice.auth, "DELETE", "/c?query="), 400, "MissingQuery");
    const mine = await create(w, w.alice.auth, "c", { kind: "x" });
    const granted = await create(w, w.bob.auth, "c", { kind: "x", _acl: { w: [w.alice._id] } });
    const viaGroup = await create(w, w.bob.auth, "c", { kind: "x", _acl: { groups: { w: ["g1"] } } });
    await group(w, { _id: "g1", users: { list: [w.alice._id] } });
    const others = await create(w, w.bob.auth, "c", { kind: "x" });
    const otherKind = await create(w, w.alice.auth, "c", { kind: "y" });
    const res = await ok(data(w, w.alice.auth, "DELETE", `/c?query=${encodeURIComponent(JSON.stringify({ kind: "x" }))}`));
    expect(res).toEqual({ count: 3 });
    expect(ids(await list(w, w.master, "c"))).toEqual([others._id, otherKind._id].sort());
    for (const gone of [mine, granted, viaGroup]) await refused(data(w, w.master, "GET", `/c/${gone._id}`), 404, "EntityNotFound");
    // Their grant rows went with them: a new entity reusing an id starts clean.
    await create(w, w.carol.auth, "c", { _id: granted._id });
    await refused(data(w, w.alice.auth, "PUT", `/c/${granted._id}`, {}), 401, "InsufficientCredentials");
  });

  it("lets master delete every match and refuses a malformed query", async () => {
    const w = await world();
    await create(w, w.alice.auth, "c", { n: 1 });
    await create(w, w.bob.auth, "c", { n: 2 });
    await refused(data(w, w.master, "DELETE", "/c?query=%7Bbad"), 400, "InvalidQuerySyntax");
    expect(await ok(data(w, w.master, "DELETE", `/c?query=${encodeURIComponent("{}")}`))).toEqual({ count: 2 });
  });
});
