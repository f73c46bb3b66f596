/**
 * Users (Kinde paths): list `GET /users`, get/create/update/delete on `/user`, set the
 * password, refresh claims. Users are made and changed through the user store
 * (identity/users.ts); every write is one D1 batch with its event, and a change to what
 * tokens say also invalidates the user's chain snapshots.
 */
import { Hono } from "hono";
import { endUserChains } from "../chains/api";
import { eventStatement } from "../events/log";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { changeUser, MANAGEMENT_API, setUserPassword, suspensionStatus } from "../identity/user-admin";
import {
  bumpUserClaimsStatement,
  createUser,
  deleteUserStatements,
  findUsers,
  IdentifierTakenError,
  parseProfile,
  userById,
  userEventData,
  UserInputError,
  type UserChange,
  type UserRow,
} from "../identity/users";
import { invalidateClaims } from "../identity/claim-holders";
import { bad, iso, need, notFound, ok, onlyKeys, text, type ManageContext, type ManageEnv } from "./context";
import { pageOf, parsePage } from "./paging";

export const userRoutes = new Hono<ManageEnv>();

/** The user store's refusals in the management API's words. */
function asApiError(err: unknown): never {
  if (err instanceof IdentifierTakenError) throw new ApiError("USER_ALREADY_EXISTS", "A user with this username or email exists.");
  if (err instanceof UserInputError) bad(err.message);
  throw err;
}

/** A user as `GET /users` lists it. */
export function userListView(row: UserRow) {
  const p = parseProfile(row);
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    id: row.id,
    provided_id: row.provided_id,
    email: row.email,
    username: row.username,
    first_name: str(p.given_name),
    last_name: str(p.family_name),
    is_suspended: row.status !== "active",
    picture: str(p.picture),
    total_sign_ins: null,
    failed_sign_ins: null,
    last_signed_in: iso(row.last_login_at),
    created_on: iso(row.created_at),
    identities: identitiesOf(row).map((i) => ({ type: i.type, identity: i.identity })),
  };
}

/** A user as `GET /user?id=` returns it. */
export function userView(row: UserRow) {
  const { email, ...rest } = userListView(row);
  return { ...rest, preferred_email: email };
}

function identitiesOf(row: UserRow): { type: "email" | "username"; identity: string }[] {
  const out: { type: "email" | "username"; identity: string }[] = [];
  if (row.email) out.push({ type: "email", identity: row.email });
  if (row.username !== row.email) out.push({ type: "username", identity: row.username });
  return out;
}

async function loadUser(c: ManageContext, id: string | undefined): Promise<UserRow> {
  if (!id) bad("The id query parameter is required.");
  const row = await userById(c.env, c.var.app.id, id);
  if (!row) notFound("user", id);
  return row;
}

userRoutes.get("/users", need("read:users"), async (c) => {
  const page = parsePage(c.req.query("page_size"), c.req.query("next_token"));
  const given = (name: string) => {
    const value = c.req.query(name);
    return value === undefined || value === "" ? undefined : value;
  };
  const rows = await findUsers(c.env, c.var.app.id, {
    id: given("user_id"),
    username: given("username"),
    email: given("email"),
    after: page.after ?? undefined,
    limit: page.size + 1,
  });
  const { items, nextToken } = pageOf(rows, page.size);
  return ok(c, { users: items.map(userListView), ...(nextToken ? { next_token: nextToken } : {}) });
});

userRoutes.get("/user", need("read:users"), async (c) => c.json(userView(await loadUser(c, c.req.query("id")))));

userRoutes.post("/user", need("create:users"), async (c) => {
  const body = await readJsonObject(c);
  onlyKeys(body, ["profile", "identities", "provided_id", "organization_code"]);
  if (body.organization_code !== undefined) bad("Organizations are not supported.", "ORGANIZATIONS_UNSUPPORTED");
  const profile: Record<string, string> = {};
  if (body.profile !== undefined) {
    if (typeof body.profile !== "object" || body.profile === null || Array.isArray(body.profile)) bad("profile must be an object.");
    const p = body.profile as Record<string, unknown>;
    onlyKeys(p, ["given_name", "family_name", "picture"]);
    for (const [key, max] of [["given_name", 256], ["family_name", 256], ["picture", 2048]] as const) {
      const v = text(p, key, max);
      if (v !== undefined) profile[key] = v;
    }
  }

  let email: string | null = null;
  let emailVerified = false;
  let username: string | null = null;
  const created: { type: string; result: { created: boolean } }[] = [];
  if (body.identities !== undefined) {
    if (!Array.isArray(body.identities) || body.identities.length > 10) bad("identities must be an array of at most 10 items.");
    for (const raw of body.identities as unknown[]) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) bad("Each identity must be an object.");
      const identity = raw as Record<string, unknown>;
      onlyKeys(identity, ["type", "is_verified", "details"]);
      const details = identity.details;
      if (typeof details !== "object" || details === null || Array.isArray(details)) bad("identity.details must be an object.");
      const d = details as Record<string, unknown>;
      if (identity.type === "email") {
        if (email) bad("Only one email identity is supported.");
        email = text(d, "email", 320, true)!;
        emailVerified = identity.is_verified === true;
      } else if (identity.type === "username") {
        if (username) bad("Only one username identity is supported.");
        username = text(d, "username", 256, true)!;
      } else {
        bad(`Unsupported identity type: ${String(identity.type)}.`, "IDENTITY_TYPE_UNSUPPORTED");
      }
      created.push({ type: identity.type, result: { created: true } });
    }
  }
  const input = { username, email, emailVerified, profile, providedId: text(body, "provided_id", 256) ?? null, via: "api" as const };
  const row = await createUser(c.env, c.var.app, input).catch(asApiError);
  return c.json({ id: row.id, created: true, identities: created });
});

userRoutes.patch("/user", need("update:users"), async (c) => {
  const row = await loadUser(c, c.req.query("id"));
  const body = await readJsonObject(c);
  onlyKeys(body, ["given_name", "family_name", "picture", "is_suspended", "is_password_reset_requested", "provided_id"]);
  const profile = parseProfile(row);
  for (const [key, max] of [["given_name", 256], ["family_name", 256], ["picture", 2048]] as const) {
    const v = text(body, key, max);
    if (v !== undefined) profile[key] = v;
  }
  for (const key of ["is_suspended", "is_password_reset_requested"] as const) {
    if (body[key] !== undefined && typeof body[key] !== "boolean") bad(`${key} must be a boolean.`);
  }
  const change: UserChange = { profile };
  const providedId = text(body, "provided_id", 256);
  if (providedId !== undefined) change.providedId = providedId;
  if (typeof body.is_password_reset_requested === "boolean") change.passwordResetRequired = body.is_password_reset_requested;
  if (typeof body.is_suspended === "boolean") change.status = suspensionStatus(row, body.is_suspended);
  const next = await changeUser(c.env, c.var.app, row, change, MANAGEMENT_API).catch(asApiError);
  const p = parseProfile(next);
  return c.json({
    id: next.id,
    given_name: p.given_name ?? null,
    family_name: p.family_name ?? null,
    email: next.email,
    is_suspended: next.status !== "active",
    is_password_reset_requested: next.password_reset_required === 1,
    picture: p.picture ?? null,
  });
});

userRoutes.delete("/user", need("delete:users"), async (c) => {
  const row = await loadUser(c, c.req.query("id"));
  const app = c.var.app;
  const now = Date.now();
  const db = c.env.DB;
  await db.batch([
    ...deleteUserStatements(c.env, app.id, row.id),
    eventStatement(c.env, app.id, "user.deleted", row.id, { user: { id: row.id } }, now, "api"),
  ]);
  await endUserChains(c.env, app.id, row.id, "user_deleted", now);
  return ok(c, {}, 200, "USER_DELETED", "User successfully deleted");
});

/**
 * Sets a password. Kinde imports pre-hashed passwords (`hashed_password`); Latch takes the
 * plain `password` and hashes it itself, and says so rather than store a foreign hash.
 * Every session and refresh chain of the user ends: an operator reset is a lock-out.
 */
userRoutes.put("/users/:userId/password", need("update:user_passwords", "update:users"), async (c) => {
  const row = await loadUser(c, c.req.param("userId"));
  const body = await readJsonObject(c);
  if (body.hashed_password !== undefined) bad("Importing hashed passwords is not supported; send the new password as `password`.", "HASHED_PASSWORD_UNSUPPORTED");
  onlyKeys(body, ["password", "is_temporary_password"]);
  if (typeof body.password !== "string") bad("password must be a string.");
  await setUserPassword(c.env, c.var.app, row, body.password, MANAGEMENT_API).catch(asApiError);
  return ok(c, {}, 200, "PASSWORD_SET", "User successfully updated");
});

/** Kinde's "refresh user claims": the next refresh of any of the user's chains rebuilds its claims. */
userRoutes.post("/users/:userId/refresh_claims", need("update:user_refresh_claims", "update:users"), async (c) => {
  const row = await loadUser(c, c.req.param("userId"));
  await bumpUserClaimsStatement(c.env, c.var.app.id, row.id).run();
  await invalidateClaims(c.env, c.var.app.id, [row.id]);
  return ok(c, {}, 200, "CLAIMS_REFRESHED", "Claims successfully refreshed.");
});
