import { describe, expect, it } from "vitest";
import { appAuth, call, createApp, kinveyAuth, signup } from "../helpers";
import { api, apiError, createUser, okJson } from "./helpers";

const me = (appId: string, token: string) => call(`/user/${appId}/_me`, { headers: { Authorization: kinveyAuth(token) } });

describe("a user's sessions", () => {
  it("lists Kinvey sessions, ends one, then ends all", async () => {
    const app = await createApp();
    const user = await signup(app);
    const login = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: user.password } });
    const second = ((await login.json()) as { _kmd: { authtoken: string } })._kmd.authtoken;
    const list = await okJson(api(app, `/users/${user._id}/sessions`));
    expect(list).toMatchObject({ code: "OK", has_more: false });
    expect(list.sessions).toHaveLength(2);
    expect(list.sessions[0]).toMatchObject({ type: "kinvey", user_id: user._id });
    expect(list.sessions[0].started_on).toMatch(/T/);

    await okJson(api(app, `/users/${user._id}/sessions/${list.sessions[0].session_id}`, { method: "DELETE" }));
    expect((await me(app.id, user.token)).status).toBe(401);
    expect((await me(app.id, second)).status).toBe(200);
    expect(await apiError(api(app, `/users/${user._id}/sessions/nope`, { method: "DELETE" }))).toMatchObject({ status: 404, code: "SESSION_NOT_FOUND" });

    await okJson(api(app, `/users/${user._id}/sessions`, { method: "DELETE" }));
    expect((await me(app.id, second)).status).toBe(401);
    expect((await okJson(api(app, `/users/${user._id}/sessions`))).sessions).toEqual([]);
    const ended = await okJson(api(app, "/events?type=session.ended"));
    expect(ended.events.map((e: { data: { scope?: string } }) => e.data.scope ?? "one")).toEqual(["all", "one"]);
    expect(await apiError(api(app, "/users/nope/sessions"))).toMatchObject({ status: 404, code: "USER_NOT_FOUND" });
  });

  it("cannot end another user's session through a different user id", async () => {
    const app = await createApp();
    const a = await signup(app);
    const b = await signup(app);
    const sessions = await okJson(api(app, `/users/${a._id}/sessions`));
    expect(await apiError(api(app, `/users/${b._id}/sessions/${sessions.sessions[0].session_id}`, { method: "DELETE" }))).toMatchObject({ status: 404 });
    expect((await me(app.id, a.token)).status).toBe(200);
  });
});

describe("events", () => {
  it("lists newest first with type and user filters and pages; reads one by id", async () => {
    const app = await createApp();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await createUser(app, { email: `e${i}@example.com` }));
    await okJson(api(app, `/user?id=${ids[0]}`, { method: "PATCH", json: { family_name: "Byron" } }));
    const all = await okJson(api(app, "/events?page_size=2"));
    expect(all.events.map((e: { type: string }) => e.type)).toEqual(["user.updated", "user.created"]);
    expect(all.events[1].user_id).toBe(ids[2]);
    const rest = await okJson(api(app, `/events?page_size=2&next_token=${all.next_token}`));
    expect(rest.events.map((e: { user_id: string }) => e.user_id)).toEqual([ids[1], ids[0]]);
    expect(rest.next_token).toBeUndefined();
    expect((await okJson(api(app, "/events?type=user.created"))).events).toHaveLength(3);
    expect((await okJson(api(app, `/events?user_id=${ids[0]}`))).events.map((e: { type: string }) => e.type)).toEqual(["user.updated", "user.created"]);
    expect(await apiError(api(app, "/events?type=user.exploded"))).toMatchObject({ status: 400, code: "INVALID_EVENT_TYPE" });

    const one = await okJson(api(app, `/events/${all.events[0].event_id}`));
    expect(one.event).toMatchObject({ event_id: all.events[0].event_id, type: "user.updated", source: "api", data: { user: { id: ids[0], last_name: "Byron" } } });
    expect(typeof one.event.timestamp).toBe("number");
    expect(await apiError(api(app, "/events/event_nope"))).toMatchObject({ status: 404, code: "EVENT_NOT_FOUND" });
  });

  it("records sign-in failures from other faces in the same log", async () => {
    const app = await createApp();
    const user = await signup(app);
    // Failures are counted, not logged, until one fills a lock: the 10th from this address (README "Credential-guessing limits").
    for (let i = 0; i < 10; i++) await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: `wrong password ${i}` } });
    const failed = await okJson(api(app, "/events?type=user.authentication_failed"));
    expect(failed.events).toHaveLength(1);
    expect(failed.events[0]).toMatchObject({ user_id: user._id, source: "user" });
  });

  it("does not show another app's events", async () => {
    const a = await createApp();
    const b = await createApp();
    await createUser(a, { email: "x@example.com" });
    const ev = (await okJson(api(a, "/events"))).events[0];
    expect((await okJson(api(b, "/events"))).events).toEqual([]);
    expect(await apiError(api(b, `/events/${ev.event_id}`))).toMatchObject({ status: 404 });
  });

  it("lists event types", async () => {
    const app = await createApp();
    const types = await okJson(api(app, "/event_types"));
    const codes = types.event_types.map((t: { code: string }) => t.code);
    for (const code of ["user.created", "user.updated", "user.deleted", "user.authenticated", "user.authentication_failed", "session.ended", "refresh_token.reuse_detected", "role.created", "permission.updated"]) {
      expect(codes).toContain(code);
    }
    expect(types.event_types[0]).toMatchObject({ id: "user.created", code: "user.created", name: "User created" });
  });
});
