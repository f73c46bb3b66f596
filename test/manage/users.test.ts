import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appAuth, call, createApp, kinveyAuth, signup } from "../helpers";
import { api, apiError, createUser, okJson } from "./helpers";

describe("users", () => {
  it("creates a user from Kinde's body and reads it back by id", async () => {
    const app = await createApp();
    const created = await okJson(
      api(app, "/user", {
        method: "POST",
        json: { profile: { given_name: "Grace", family_name: "Hopper" }, identities: [{ type: "email", is_verified: true, details: { email: "Grace@Example.com" } }] },
      }),
    );
    expect(created).toMatchObject({ created: true, identities: [{ type: "email", result: { created: true } }] });
    const user = await okJson(api(app, `/user?id=${created.id}`));
    expect(user).toMatchObject({
      id: created.id,
      preferred_email: "grace@example.com",
      first_name: "Grace",
      last_name: "Hopper",
      is_suspended: false,
      identities: [{ type: "email", identity: "grace@example.com" }],
    });
    expect(user.created_on).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(JSON.stringify(user)).not.toContain("password");
  });

  it("creates a username user and refuses a taken username or email with 409", async () => {
    const app = await createApp();
    const id = await createUser(app, { username: "ada", email: "ada@example.com" });
    const user = await okJson(api(app, `/user?id=${id}`));
    expect(user.username).toBe("ada");
    expect(await apiError(api(app, "/user", { method: "POST", json: { identities: [{ type: "username", details: { username: "ada" } }] } }))).toMatchObject({
      status: 409,
      code: "USER_ALREADY_EXISTS",
    });
    expect(await apiError(api(app, "/user", { method: "POST", json: { identities: [{ type: "email", details: { email: "ADA@example.com" } }] } }))).toMatchObject({
      status: 409,
      code: "USER_ALREADY_EXISTS",
    });
  });

  it("refuses malformed create bodies with 400 and creates nothing", async () => {
    const app = await createApp();
    const bad = [
      { identities: [{ type: "email", details: { email: "not-an-email" } }] },
      { identities: [{ type: "phone", details: { phone: "+100" } }] },
      { identities: "x" },
      { profile: { given_name: 5 } },
      { profile: { nickname: "x" } },
      { unknown: true },
      { organization_code: "org_1" },
    ];
    for (const json of bad) expect((await api(app, "/user", { method: "POST", json })).status).toBe(400);
    expect(await apiError(api(app, "/user", { method: "POST", body: "{", headers: { "Content-Type": "application/json" } }))).toMatchObject({ status: 400, code: "INVALID_JSON" });
    const list = await okJson(api(app, "/users"));
    expect(list.users).toEqual([]);
  });

  it("answers 404 USER_NOT_FOUND for an unknown id and 400 without one", async () => {
    const app = await createApp();
    expect(await apiError(api(app, "/user?id=nope"))).toMatchObject({ status: 404, code: "USER_NOT_FOUND" });
    expect(await apiError(api(app, "/user"))).toMatchObject({ status: 400, code: "INVALID_REQUEST" });
    expect(await apiError(api(app, "/user?id=nope", { method: "PATCH", json: { given_name: "x" } }))).toMatchObject({ status: 404 });
    expect(await apiError(api(app, "/user?id=nope", { method: "DELETE" }))).toMatchObject({ status: 404 });
    expect(await apiError(api(app, "/users/nope/refresh_claims", { method: "POST" }))).toMatchObject({ status: 404 });
  });

  it("lists users with paging, filters and Kinde's envelope", async () => {
    const app = await createApp();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createUser(app, { email: `p${i}@example.com`, username: `p${i}` }));
    const first = await okJson(api(app, "/users?page_size=2"));
    expect(first).toMatchObject({ code: "OK", message: "Success" });
    expect(first.users.map((u: { id: string }) => u.id)).toEqual(ids.slice(0, 2));
    expect(first.users[0]).toMatchObject({ email: "p0@example.com", username: "p0", first_name: "Ada", last_name: "Lovelace", is_suspended: false });
    const second = await okJson(api(app, `/users?page_size=2&next_token=${first.next_token}`));
    expect(second.users.map((u: { id: string }) => u.id)).toEqual(ids.slice(2, 4));
    const third = await okJson(api(app, `/users?page_size=2&next_token=${second.next_token}`));
    expect(third.users.map((u: { id: string }) => u.id)).toEqual(ids.slice(4));
    expect(third.next_token).toBeUndefined();

    expect((await okJson(api(app, "/users?email=P3@example.com"))).users.map((u: { id: string }) => u.id)).toEqual([ids[3]]);
    expect((await okJson(api(app, "/users?username=p1"))).users.map((u: { id: string }) => u.id)).toEqual([ids[1]]);
    expect((await okJson(api(app, `/users?user_id=${ids[4]}`))).users).toHaveLength(1);
    expect(await apiError(api(app, "/users?page_size=0"))).toMatchObject({ status: 400 });
    expect(await apiError(api(app, "/users?page_size=abc"))).toMatchObject({ status: 400 });
    expect(await apiError(api(app, "/users?next_token=garbage!"))).toMatchObject({ status: 400, code: "INVALID_NEXT_TOKEN" });
  });

  it("never lists another app's users", async () => {
    const a = await createApp();
    const b = await createApp();
    const id = await createUser(a, { email: "only-a@example.com" });
    expect((await okJson(api(b, "/users"))).users).toEqual([]);
    expect(await apiError(api(b, `/user?id=${id}`))).toMatchObject({ status: 404 });
  });

  it("updates the profile, bumps the claims version and records user.updated", async () => {
    const app = await createApp();
    const id = await createUser(app, { email: "u@example.com" });
    const before = await env.DB.prepare("SELECT claims_version FROM users WHERE id = ?").bind(id).first<number>("claims_version");
    const updated = await okJson(api(app, `/user?id=${id}`, { method: "PATCH", json: { given_name: "Augusta", picture: "https://example.com/a.png" } }));
    expect(updated).toMatchObject({ id, given_name: "Augusta", family_name: "Lovelace", email: "u@example.com", is_suspended: false, picture: "https://example.com/a.png" });
    const after = await env.DB.prepare("SELECT claims_version FROM users WHERE id = ?").bind(id).first<number>("claims_version");
    expect(after).toBe(before! + 1);
    const events = await okJson(api(app, `/events?user_id=${id}`));
    expect(events.events.map((e: { type: string }) => e.type)).toEqual(["user.updated", "user.created"]);
    expect(events.events[0]).toMatchObject({ source: "api", data: { user: { id, first_name: "Augusta" } } });
    expect(await apiError(api(app, `/user?id=${id}`, { method: "PATCH", json: { is_suspended: "yes" } }))).toMatchObject({ status: 400 });
    expect(await apiError(api(app, `/user?id=${id}`, { method: "PATCH", json: { email: "x@example.com" } }))).toMatchObject({ status: 400 });
  });

  it("suspends a user: their Kinvey session dies and they cannot sign in until unsuspended", async () => {
    const app = await createApp();
    const user = await signup(app);
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(user.token) } })).status).toBe(200);
    const res = await okJson(api(app, `/user?id=${user._id}`, { method: "PATCH", json: { is_suspended: true } }));
    expect(res.is_suspended).toBe(true);
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(user.token) } })).status).toBe(401);
    const login = () => call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: user.password } });
    expect((await login()).status).toBe(401);
    expect((await okJson(api(app, `/users?user_id=${user._id}`))).users[0].is_suspended).toBe(true);
    await okJson(api(app, `/user?id=${user._id}`, { method: "PATCH", json: { is_suspended: false } }));
    expect((await login()).status).toBe(200);
  });

  it("sets a password: old sessions end, the new password signs in, hashed imports are refused", async () => {
    const app = await createApp();
    const user = await signup(app);
    const res = await okJson(api(app, `/users/${user._id}/password`, { method: "PUT", json: { password: "a brand new password" } }));
    expect(res.code).toBe("PASSWORD_SET");
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(user.token) } })).status).toBe(401);
    const login = (password: string) => call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password } });
    expect((await login(user.password)).status).toBe(401);
    expect((await login("a brand new password")).status).toBe(200);
    expect(await apiError(api(app, `/users/${user._id}/password`, { method: "PUT", json: { hashed_password: "$2a$..." } }))).toMatchObject({
      status: 400,
      code: "HASHED_PASSWORD_UNSUPPORTED",
    });
    expect(await apiError(api(app, `/users/${user._id}/password`, { method: "PUT", json: { password: "short" } }))).toMatchObject({ status: 400 });
  });

  it("deletes a user with their sessions and grants, and records user.deleted", async () => {
    const app = await createApp();
    const user = await signup(app);
    const res = await okJson(api(app, `/user?id=${user._id}`, { method: "DELETE" }));
    expect(res.code).toBe("USER_DELETED");
    expect(await apiError(api(app, `/user?id=${user._id}`))).toMatchObject({ status: 404 });
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(user.token) } })).status).toBe(401);
    const sessions = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(user._id).first<number>("n");
    expect(sessions).toBe(0);
    const events = await okJson(api(app, "/events?type=user.deleted"));
    expect(events.events).toHaveLength(1);
    expect(events.events[0]).toMatchObject({ user_id: user._id, data: { user: { id: user._id } } });
  });

  it("refresh_claims bumps the claims version", async () => {
    const app = await createApp();
    const id = await createUser(app, { email: "rc@example.com" });
    const res = await okJson(api(app, `/users/${id}/refresh_claims`, { method: "POST" }));
    expect(res.code).toBe("CLAIMS_REFRESHED");
    expect(await env.DB.prepare("SELECT claims_version FROM users WHERE id = ?").bind(id).first<number>("claims_version")).toBe(2);
  });
});
