/** acl.ts directly: SPEC §3's rules in order, each with its negative case. */
import { describe, expect, it } from "vitest";
import { canonicalAcl, decideRead, decideReplace, decideWrite, may, mayChangeAcl, mayCreate, type Acl, type Actor, type Level } from "../../worker/data/acl";

const user = (id: string, groups: string[] = []): Actor => ({ kind: "user", id, groups: new Set(groups) });
const master: Actor = { kind: "master" };
const app: Actor = { kind: "app" };
const alice = user("alice");
const bob = user("bob");
const own: Acl = { creator: "alice" };

describe("rule 1: master and app credentials", () => {
  it("master may everything on every level, app credentials nothing", () => {
    for (const level of ["shared", "private", "readonly", "full"] as Level[]) {
      const closed: Acl = { creator: "x", gr: false, gw: false };
      expect(may(master, level, closed, "r")).toBe(true);
      expect(may(master, level, closed, "w")).toBe(true);
      expect(mayCreate(master, level)).toBe(true);
      expect(may(app, level, { creator: "x", gr: true, gw: true }, "r")).toBe(false);
      expect(mayCreate(app, level)).toBe(false);
      expect(decideRead(app, level, { creator: "x", gr: true })).toBe("insufficient");
      expect(decideWrite(app, level, { creator: "x", gw: true })).toBe("insufficient");
    }
  });
});

describe("rule 2: creator", () => {
  it("the creator reads and writes whatever the flags say; others do not", () => {
    const closed: Acl = { creator: "alice", gr: false, gw: false };
    expect(may(alice, "private", closed, "r")).toBe(true);
    expect(may(alice, "readonly", closed, "w")).toBe(true);
    expect(may(bob, "private", closed, "r")).toBe(false);
    expect(may(bob, "private", closed, "w")).toBe(false);
  });
  it("only the creator or master change the ACL; only master the creator", () => {
    expect(mayChangeAcl(alice, own)).toBe(true);
    expect(mayChangeAcl(master, own)).toBe(true);
    expect(mayChangeAcl(bob, { creator: "alice", w: ["bob"] })).toBe(false);
    expect(decideReplace(alice, "shared", own, { creator: "alice", r: ["bob"] })).toBe("ok");
    expect(decideReplace(alice, "shared", own, { creator: "bob" })).toBe("insufficient");
    expect(decideReplace(master, "shared", own, { creator: "bob" })).toBe("ok");
    const shared: Acl = { creator: "alice", w: ["bob"] };
    expect(decideReplace(bob, "private", shared, { creator: "alice", w: ["bob"] })).toBe("ok");
    expect(decideReplace(bob, "private", shared, { creator: "alice", w: ["bob"], gr: true })).toBe("insufficient");
    expect(decideReplace(bob, "private", shared, { creator: "bob", w: ["bob"] })).toBe("insufficient");
  });
  it("an unchanged ACL compares equal however it is spelled", () => {
    expect(canonicalAcl({ creator: "a", r: ["x", "y"], groups: {} })).toBe(canonicalAcl({ creator: "a", r: ["y", "x", "x"], w: [] }));
    expect(canonicalAcl({ creator: "a", gr: false })).not.toBe(canonicalAcl({ creator: "a" }));
  });
});

describe("rule 3: collection levels", () => {
  const cases: [Level, boolean, boolean, boolean][] = [
    ["shared", true, false, true],
    ["private", false, false, true],
    ["readonly", true, false, false],
    ["full", true, true, true],
  ];
  for (const [level, read, write, create] of cases) {
    it(`${level}: read ${read}, write ${write}, create ${create}`, () => {
      const acl: Acl = { creator: "alice" };
      expect(may(bob, level, acl, "r")).toBe(read);
      expect(may(bob, level, acl, "w")).toBe(write);
      expect(mayCreate(bob, level)).toBe(create);
    });
  }
});

describe("rule 4: entity overrides and grants", () => {
  it("explicit gr/gw replace the default in both directions", () => {
    expect(may(bob, "private", { creator: "alice", gr: true }, "r")).toBe(true);
    expect(may(bob, "shared", { creator: "alice", gr: false }, "r")).toBe(false);
    expect(may(bob, "shared", { creator: "alice", gw: true }, "w")).toBe(true);
    expect(may(bob, "full", { creator: "alice", gw: false }, "w")).toBe(false);
  });
  it("r/w name users; groups.r/groups.w name groups of the caller", () => {
    const acl: Acl = { creator: "alice", r: ["bob"], w: ["carol"], groups: { r: ["g1"], w: ["g2"] } };
    expect(may(bob, "private", acl, "r")).toBe(true);
    expect(may(bob, "private", acl, "w")).toBe(false);
    expect(may(user("carol"), "private", acl, "w")).toBe(true);
    expect(may(user("carol"), "private", acl, "r")).toBe(false);
    expect(may(user("dan", ["g1"]), "private", acl, "r")).toBe(true);
    expect(may(user("dan", ["g1"]), "private", acl, "w")).toBe(false);
    expect(may(user("dan", ["g2"]), "private", acl, "w")).toBe(true);
    expect(may(user("dan", ["g3"]), "private", acl, "r")).toBe(false);
  });
});

describe("rule 5 and the 404-vs-401 split", () => {
  it("write implies delete, not read: GET 404, writes ok", () => {
    const acl: Acl = { creator: "alice", w: ["bob"] };
    expect(decideRead(bob, "private", acl)).toBe("not_found");
    expect(decideWrite(bob, "private", acl)).toBe("ok");
  });
  it("writes: 404 when neither readable nor writable, 401 when readable only", () => {
    expect(decideWrite(bob, "private", own)).toBe("not_found");
    expect(decideWrite(bob, "shared", own)).toBe("insufficient");
    expect(decideRead(bob, "shared", own)).toBe("ok");
    expect(decideRead(bob, "private", own)).toBe("not_found");
  });
});
