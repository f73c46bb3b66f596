/**
 * The ACL decision of SPEC §3 (seed kinvey-security-acl.txt) as plain functions, rules in
 * order. acl-sql.ts compiles the same rules into SQL for lists, counts and delete-by-query;
 * test/data/acl-agreement.test.ts checks that the two never disagree.
 */

export const LEVELS = ["shared", "private", "readonly", "full"] as const;
export type Level = (typeof LEVELS)[number];

/** Rule 3: the global read/write each entity gets from its collection, and whether users may create. */
export const LEVEL_DEFAULTS: Readonly<Record<Level, { read: boolean; write: boolean; create: boolean }>> = Object.freeze({
  shared: { read: true, write: false, create: true },
  private: { read: false, write: false, create: true },
  readonly: { read: true, write: false, create: false },
  full: { read: true, write: true, create: true },
});

/** `_acl` as stored. `gr`/`gw` are present only when a client set them. */
export interface Acl {
  creator: string;
  gr?: boolean;
  gw?: boolean;
  r?: string[];
  w?: string[];
  groups?: { r?: string[]; w?: string[] };
}

/**
 * Who asks. For a user, `groups` holds the groups the user belongs to (transitively, with
 * `users.all` groups); a caller may pass only those that matter for the entity at hand.
 */
export type Actor = { kind: "master" } | { kind: "app" } | { kind: "user"; id: string; groups: ReadonlySet<string> };

export type Right = "r" | "w";

/** Rule 4: an explicit `gr`/`gw` (true or false) replaces the collection default. */
export function effectiveGlobal(level: Level, acl: Acl, right: Right): boolean {
  const explicit = right === "r" ? acl.gr : acl.gw;
  if (explicit !== undefined) return explicit;
  return right === "r" ? LEVEL_DEFAULTS[level].read : LEVEL_DEFAULTS[level].write;
}

/** May `actor` exercise `right` on an existing entity? Write implies delete; write does not imply read. */
export function may(actor: Actor, level: Level, acl: Acl, right: Right): boolean {
  if (actor.kind === "master") return true; // rule 1
  if (actor.kind === "app") return false; // rule 1
  if (acl.creator === actor.id) return true; // rule 2
  if (effectiveGlobal(level, acl, right)) return true; // rules 3, 4
  if ((acl[right] ?? []).includes(actor.id)) return true;
  return (acl.groups?.[right] ?? []).some((g) => actor.groups.has(g));
}

/** Rule 3: Read Only collections take no user creations. */
export function mayCreate(actor: Actor, level: Level): boolean {
  if (actor.kind === "master") return true;
  if (actor.kind === "app") return false;
  return LEVEL_DEFAULTS[level].create;
}

/** Rule 2: only the creator (and master) change `_acl`. */
export function mayChangeAcl(actor: Actor, acl: Acl): boolean {
  return actor.kind === "master" || (actor.kind === "user" && acl.creator === actor.id);
}

export type Outcome = "ok" | "not_found" | "insufficient";

/** GET of an entity: unreadable answers 404, even when writable (SPEC §3). */
export function decideRead(actor: Actor, level: Level, acl: Acl): Outcome {
  if (actor.kind === "app") return "insufficient";
  return may(actor, level, acl, "r") ? "ok" : "not_found";
}

/** PUT/DELETE of an existing entity: 404 when the caller can neither write nor read, else 401. */
export function decideWrite(actor: Actor, level: Level, acl: Acl): Outcome {
  if (actor.kind === "app") return "insufficient";
  if (may(actor, level, acl, "w")) return "ok";
  return may(actor, level, acl, "r") ? "insufficient" : "not_found";
}

/**
 * PUT replacing an entity with `next` as its `_acl`: the write decision, then the ACL rule.
 * A creator change is allowed to master alone; other changes to the creator and master.
 */
export function decideReplace(actor: Actor, level: Level, current: Acl, next: Acl): Outcome {
  const write = decideWrite(actor, level, current);
  if (write !== "ok") return write;
  if (sameAcl(current, next)) return "ok";
  if (!mayChangeAcl(actor, current)) return "insufficient";
  if (next.creator !== current.creator && actor.kind !== "master") return "insufficient";
  return "ok";
}

/** Canonical form: fixed key order, absent and empty lists alike, so round-trips compare equal. */
export function canonicalAcl(acl: Acl): string {
  const list = (v: string[] | undefined) => [...new Set(v ?? [])].sort();
  return JSON.stringify([acl.creator, acl.gr ?? null, acl.gw ?? null, list(acl.r), list(acl.w), list(acl.groups?.r), list(acl.groups?.w)]);
}

export function sameAcl(a: Acl, b: Acl): boolean {
  return canonicalAcl(a) === canonicalAcl(b);
}
