/**
 * acl.ts (single-entity decisions) and acl-sql.ts (sets) must agree. Random ACLs over every
 * level, with named grants, nested groups and a users.all group; for every user the list and
 * count (SQL) must equal what `may` (JS) allows, and delete-by-query must remove exactly the
 * entities `may(..., "w")` allows.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { may, type Acl, type Level } from "../../worker/data/acl";
import { groupsOfUser } from "../../worker/data/groups";
import { count, create, data, fastUser, group, ids, list, ok, setLevel, world } from "./helpers";

/** Deterministic PRNG so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe("acl.ts and acl-sql.ts agree", () => {
  it("on reads (list, count, GET) and on writes (delete by query)", async () => {
    const w = await world();
    const dan = await fastUser(w.app);
    const users = [w.alice, w.bob, w.carol, { ...dan, auth: `Kinvey ${dan.token}` }];
    const rand = rng(42);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const some = <T>(xs: T[]): T[] => xs.filter(() => rand() < 0.3);

    // g1 ∋ bob; g2 ∋ {g1}; g3 = users.all; g4 ∋ carol and g2 (so g4 ⊇ bob, carol); g5 empty.
    await group(w, { _id: "g1", users: { list: [w.bob._id] } });
    await group(w, { _id: "g2", groups: ["g1"] });
    await group(w, { _id: "g3", users: { all: true } });
    await group(w, { _id: "g4", users: { list: [w.carol._id] }, groups: ["g2"] });
    await group(w, { _id: "g5" });
    const groupIds = ["g1", "g2", "g3", "g4", "g5", "missing"];

    const levels: Level[] = ["shared", "private", "readonly", "full"];
    const stored = new Map<string, Map<string, Acl>>();
    for (const level of levels) {
      const coll = `c_${level}`;
      await setLevel(w, coll, level);
      const docs = new Map<string, Acl>();
      for (let i = 0; i < 12; i++) {
        const acl: Record<string, unknown> = {};
        const flag = () => pick([undefined, true, false]);
        const gr = flag();
        const gw = flag();
        if (gr !== undefined) acl.gr = gr;
        if (gw !== undefined) acl.gw = gw;
        if (rand() < 0.5) acl.r = some(users.map((u) => u._id));
        if (rand() < 0.5) acl.w = some(users.map((u) => u._id));
        if (rand() < 0.5) acl.groups = { r: some(groupIds), w: some(groupIds) };
        // Master creates on behalf of a random creator (Read Only takes no user creations).
        const doc = await create(w, w.master, coll, { i, _acl: { ...acl, creator: pick(users)._id } });
        docs.set(doc._id, doc._acl as unknown as Acl);
      }
      stored.set(coll, docs);
    }

    const memberships = new Map<string, Set<string>>();
    for (const u of users) memberships.set(u._id, new Set(await groupsOfUser(env, w.app.id, u._id)));
    expect([...memberships.get(w.bob._id)!].sort()).toEqual(["g1", "g2", "g3", "g4"]);
    expect([...memberships.get(w.alice._id)!].sort()).toEqual(["g3"]);

    let checked = 0;
    for (const level of levels) {
      const coll = `c_${level}`;
      const docs = stored.get(coll)!;
      for (const u of users) {
        const actor = { kind: "user" as const, id: u._id, groups: memberships.get(u._id)! };
        const readable = [...docs].filter(([, acl]) => may(actor, level, acl, "r")).map(([id]) => id).sort();
        expect(ids(await list(w, u.auth, coll)), `${level} ${u.username}`).toEqual(readable);
        expect(await count(w, u.auth, coll)).toBe(readable.length);
        const statuses = await Promise.all(
          [...docs.keys()].map(async (id) => {
            const res = await data(w, u.auth, "GET", `/${coll}/${id}`);
            await res.body?.cancel();
            return [id, res.status] as const;
          }),
        );
        for (const [id, status] of statuses) {
          expect(status, `${level} ${id}`).toBe(readable.includes(id) ? 200 : 404);
          checked++;
        }
      }
      // Writes: one user per level deletes everything it may.
      const u = users[levels.indexOf(level)]!;
      const actor = { kind: "user" as const, id: u._id, groups: memberships.get(u._id)! };
      const writable = [...docs].filter(([, acl]) => may(actor, level, acl, "w")).map(([id]) => id).sort();
      const before = ids(await list(w, w.master, coll));
      const res = await ok<{ count: number }>(data(w, u.auth, "DELETE", `/${coll}?query=${encodeURIComponent("{}")}`));
      const after = ids(await list(w, w.master, coll));
      expect(res.count).toBe(writable.length);
      expect(before.filter((id) => !after.includes(id))).toEqual(writable);
    }
    expect(checked).toBe(4 * 4 * 12);
  }, 120_000);
});
