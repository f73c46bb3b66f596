/**
 * The unmodified kinvey-node-sdk@3.12.5 against the running worker's data API (SPEC §3):
 * save, find with a query, fields, sort, limit, skip, findById, count, removeById, remove by
 * query, and the server-side ACL of a Private collection seen through the SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, startWorker, type CreatedApp, type RunningWorker } from "./harness";

// `as string` keeps TypeScript from looking for typings the SDK does not ship.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const Kinvey = (await import("kinvey-node-sdk" as string)).default as any;

let worker: RunningWorker;
let app: CreatedApp;

interface Book {
  _id: string;
  title: string;
  n: number;
  shelf?: string;
  _acl: { creator: string };
  _kmd: { ect: string; lmt: string };
}

const basic = (name: string, secret: string) => `Basic ${btoa(`${name}:${secret}`)}`;

beforeAll(async () => {
  worker = await startWorker();
  app = await createApp(worker.url, { name: "SDK Data App" });
  Kinvey.init({ appKey: app.id, appSecret: app.app_secret, apiHostname: worker.url, micHostname: worker.url });
});

afterAll(async () => {
  await worker?.dispose();
});

describe("kinvey-node-sdk data store (Network)", () => {
  it("saves, queries, counts and removes through the SDK, with the ACL enforced by the server", async () => {
    // books is Private: the SDK's user must see only its own entities.
    const level = await fetch(`${worker.url}/appdata/${app.id}/books/_permissions`, {
      method: "PUT",
      headers: { Authorization: basic(app.id, app.master_secret), "Content-Type": "application/json" },
      body: JSON.stringify({ level: "private" }),
    });
    expect(level.status).toBe(200);
    const other = await fetch(`${worker.url}/appdata/${app.id}/books`, {
      method: "POST",
      headers: { Authorization: basic(app.id, app.master_secret), "Content-Type": "application/json" },
      body: JSON.stringify({ title: "not yours", n: 2, shelf: "a" }),
    });
    expect(other.status).toBe(201);

    const user = await Kinvey.User.signup({ username: `sdk-data-${Date.now()}`, password: "sdk data password" });
    const store = Kinvey.DataStore.collection("books", Kinvey.DataStoreType.Network);

    // save: POST without _id, PUT with one.
    const saved: Book[] = [];
    for (const [i, title] of ["Dune", "Emma", "Ulysses", "Beloved", "Carrie"].entries()) {
      saved.push(await store.save({ title, n: i + 1, shelf: i % 2 === 0 ? "a" : "b" }));
    }
    expect(saved[0]).toMatchObject({ title: "Dune", n: 1, _acl: { creator: user._id } });
    expect(saved[0]!._id).toMatch(/^[0-9a-f]{24}$/);
    expect(saved[0]!._kmd.ect).toMatch(/Z$/);
    const updated: Book = await store.save({ ...saved[1], n: 20 });
    expect(updated).toMatchObject({ _id: saved[1]!._id, n: 20, _acl: { creator: user._id } });
    const withId: Book = await store.save({ _id: "client-chosen", title: "Ada", n: 0, shelf: "c" });
    expect(withId._id).toBe("client-chosen");

    // find with a query, fields, sort, limit and skip.
    const query = new Kinvey.Query();
    query.equalTo("shelf", "a").greaterThan("n", 1);
    query.ascending("n");
    const onShelfA: Book[] = await store.find(query).toPromise();
    expect(onShelfA.map((b) => b.title)).toEqual(["Ulysses", "Carrie"]); // "not yours" (n 2, shelf a) stays hidden

    const paged = new Kinvey.Query();
    paged.descending("n");
    paged.limit = 2;
    paged.skip = 1;
    paged.fields = ["title"];
    const page: Book[] = await store.find(paged).toPromise();
    expect(page.map((b) => b.title)).toEqual(["Carrie", "Beloved"]);
    expect(page[0]).not.toHaveProperty("n");
    expect(page[0]).toHaveProperty("_id");

    const all: Book[] = await store.find().toPromise();
    expect(all).toHaveLength(6);
    expect(all.some((b) => b.title === "not yours")).toBe(false);

    // findById, including one the user may not read.
    const one: Book = await store.findById(saved[2]!._id).toPromise();
    expect(one).toMatchObject({ title: "Ulysses", n: 3 });
    const hidden = ((await other.json()) as Book)._id;
    await expect(store.findById(hidden).toPromise()).rejects.toMatchObject({ name: "NotFoundError" });

    // count, with and without a query.
    expect(await store.count().toPromise()).toBe(6);
    const shelfB = new Kinvey.Query();
    shelfB.equalTo("shelf", "b");
    expect(await store.count(shelfB).toPromise()).toBe(2);

    // removeById and remove by query (only what the user may write).
    const removed = await store.removeById(saved[0]!._id);
    expect(removed).toMatchObject({ count: 1 });
    await expect(store.findById(saved[0]!._id).toPromise()).rejects.toMatchObject({ name: "NotFoundError" });
    const shelfA = new Kinvey.Query();
    shelfA.equalTo("shelf", "a");
    expect(await store.remove(shelfA)).toMatchObject({ count: 2 }); // Ulysses, Carrie; not "not yours"
    expect(await store.count().toPromise()).toBe(3);

    const master = await fetch(`${worker.url}/appdata/${app.id}/books/_count`, { headers: { Authorization: basic(app.id, app.master_secret) } });
    expect(await master.json()).toEqual({ count: 4 });
    await Kinvey.User.logout();
  });
});
