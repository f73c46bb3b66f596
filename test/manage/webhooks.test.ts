import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_SCHEDULE, nextAttemptAt, retrySchedule } from "../../worker/events/retry";
import { endpointProblem } from "../../worker/events/endpoint";
import { payloadOf } from "../../worker/events/delivery";
import { appAuth, call, createApp, signup, type TestApp } from "../helpers";
import { api, apiError, createUser, okJson } from "./helpers";

async function hook(app: TestApp, endpoint: string, eventTypes = ["user.created"]): Promise<string> {
  return (await okJson(api(app, "/webhooks", { method: "POST", json: { endpoint, event_types: eventTypes, name: "Hook" } }))).webhook.id;
}

const deliveries = (webhookId: string) =>
  env.DB.prepare("SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at").bind(webhookId).all<{ id: string; status: string; attempts: number; event_id: string; last_error: string | null }>();

describe("webhook rules (pure)", () => {
  it("accepts https, and http only for loopback hosts in local development", () => {
    expect(endpointProblem("https://example.com/hook", false)).toBeNull();
    expect(endpointProblem("http://example.com/hook", true)).toMatch(/https/);
    expect(endpointProblem("http://127.0.0.1:9000/hook", true)).toBeNull();
    expect(endpointProblem("http://localhost/hook", true)).toBeNull();
    expect(endpointProblem("http://127.0.0.1:9000/hook", false)).toMatch(/https/);
    expect(endpointProblem("https://user:pw@example.com/", false)).toMatch(/credentials/);
    expect(endpointProblem("ftp://example.com/", true)).toMatch(/https/);
    expect(endpointProblem("/relative", true)).toMatch(/absolute/);
  });

  it("backs off along the schedule and then gives up", () => {
    expect(nextAttemptAt(1, 1000, [10, 60])).toBe(11_000);
    expect(nextAttemptAt(2, 1000, [10, 60])).toBe(61_000);
    expect(nextAttemptAt(3, 1000, [10, 60])).toBeNull();
    expect(retrySchedule("1, 2,3")).toEqual([1, 2, 3]);
    expect(retrySchedule("x")).toBe(DEFAULT_RETRY_SCHEDULE);
    expect(retrySchedule(undefined)).toBe(DEFAULT_RETRY_SCHEDULE);
  });
});

describe("webhooks API", () => {
  it("creates, lists, reads, updates and deletes webhooks", async () => {
    const app = await createApp();
    const created = await okJson(api(app, "/webhooks", { method: "POST", json: { endpoint: "https://example.com/hook", event_types: ["user.created", "user.deleted"], name: "Sync", description: "d" } }));
    expect(created).toMatchObject({ code: "WEBHOOK_CREATED", webhook: { endpoint: "https://example.com/hook" } });
    const id = created.webhook.id;
    const list = await okJson(api(app, "/webhooks"));
    expect(list.webhooks).toEqual([{ id, name: "Sync", endpoint: "https://example.com/hook", description: "d", event_types: ["user.created", "user.deleted"], created_on: expect.any(String) }]);
    await okJson(api(app, `/webhooks/${id}`, { method: "PATCH", json: { event_types: ["user.updated"], name: "Renamed" } }));
    expect((await okJson(api(app, `/webhooks/${id}`))).webhook).toMatchObject({ name: "Renamed", event_types: ["user.updated"] });
    expect((await okJson(api(app, `/webhooks/${id}`, { method: "DELETE" }))).code).toBe("WEBHOOK_DELETED");
    expect(await apiError(api(app, `/webhooks/${id}`))).toMatchObject({ status: 404, code: "WEBHOOK_NOT_FOUND" });
  });

  it("refuses non-https endpoints, unknown event types and bad bodies", async () => {
    const app = await createApp();
    const post = (json: unknown) => apiError(api(app, "/webhooks", { method: "POST", json }));
    expect(await post({ endpoint: "http://example.com/hook", event_types: ["user.created"], name: "x" })).toMatchObject({ status: 400, code: "INVALID_ENDPOINT" });
    expect(await post({ endpoint: "https://example.com/hook", event_types: ["user.exploded"], name: "x" })).toMatchObject({ status: 400, code: "INVALID_EVENT_TYPE" });
    expect(await post({ endpoint: "https://example.com/hook", event_types: [], name: "x" })).toMatchObject({ status: 400 });
    expect(await post({ endpoint: "https://example.com/hook", event_types: ["user.created"] })).toMatchObject({ status: 400 });
    expect((await okJson(api(app, "/webhooks"))).webhooks).toEqual([]);
  });
});

describe("webhook outbox", () => {
  it("enqueues a delivery in the same write as each subscribed event, and none for others", async () => {
    const app = await createApp();
    const id = await hook(app, "http://127.0.0.1:9/a", ["user.created", "role.created"]);
    const other = await hook(app, "http://127.0.0.1:9/b", ["user.deleted"]);
    await createUser(app, { email: "w@example.com" });
    await okJson(api(app, "/permissions", { method: "POST", json: { key: "p", name: "P" } }), 201);
    const rows = (await deliveries(id)).results;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toMatch(/^whd_[0-9a-f]{24}$/);
    const event = await env.DB.prepare("SELECT type FROM events WHERE id = ?").bind(rows[0]!.event_id).first<string>("type");
    expect(event).toBe("user.created");
    expect((await deliveries(other)).results).toHaveLength(0);
  });

  it("retries with back-off and ends dead after the last retry, visible through the API", async () => {
    const app = await createApp();
    // Nothing listens on the discard port: every attempt fails at the network.
    const id = await hook(app, "http://127.0.0.1:9/hook");
    await createUser(app, { email: "dead@example.com" });
    const stub = env.WEBHOOK_OUTBOX.get(env.WEBHOOK_OUTBOX.idFromName(app.id));
    // The request's wake delivers the first attempt on the object's alarm.
    for (let i = 0; i < 100 && (await deliveries(id)).results[0]?.attempts !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    let row = (await deliveries(id)).results[0]!;
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row.last_error).toBe("delivery failed");
    const pending = await okJson(api(app, `/webhooks/${id}/deliveries`));
    expect(pending.deliveries[0]).toMatchObject({ webhook_id: row.id, status: "pending", attempts: 1, event_type: "user.created" });
    expect(Date.parse(pending.deliveries[0].next_attempt_on)).toBeGreaterThan(Date.now() + DEFAULT_RETRY_SCHEDULE[0]! * 1000 - 5000);

    // Skip each back-off: make the row due and run the alarm the object scheduled.
    for (let attempt = 2; attempt <= DEFAULT_RETRY_SCHEDULE.length + 1; attempt++) {
      await env.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE id = ?").bind(row.id).run();
      await runInDurableObject(stub, (outbox) => outbox.alarm!());
    }
    row = (await deliveries(id)).results[0]!;
    expect(row).toMatchObject({ status: "dead", attempts: DEFAULT_RETRY_SCHEDULE.length + 1 });
    const dead = await okJson(api(app, `/webhooks/${id}/deliveries?status=dead`));
    expect(dead.deliveries).toHaveLength(1);
    expect(dead.deliveries[0]).toMatchObject({ webhook_id: row.id, status: "dead", next_attempt_on: null });
    expect((await okJson(api(app, `/webhooks/${id}/deliveries?status=pending`))).deliveries).toEqual([]);
    // A dead delivery is not retried any more.
    await runInDurableObject(stub, (outbox) => outbox.alarm!());
    expect((await deliveries(id)).results[0]!.attempts).toBe(DEFAULT_RETRY_SCHEDULE.length + 1);
  });

  it("wakes the outbox for events written by other faces (a failed Kinvey sign-in)", async () => {
    const app = await createApp();
    const id = await hook(app, "http://127.0.0.1:9/hook", ["user.authentication_failed"]);
    const user = await signup(app);
    // The failure that fills this address's lock (the 10th) is the one logged.
    for (let i = 0; i < 10; i++) await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: `not the password ${i}` } });
    for (let i = 0; i < 100 && (await deliveries(id)).results[0]?.attempts !== 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await deliveries(id)).results).toMatchObject([{ status: "pending", attempts: 1 }]);
  });

  it("signs a payload in Kinde's shape, adding data.user for events of any face", () => {
    const payload = payloadOf({ type: "user.authenticated", event_id: "event_1", source: "user", user_id: "u1", data: '{"method":"password"}', created_at: 0 });
    expect(payload).toEqual({ type: "user.authenticated", event_id: "event_1", source: "user", timestamp: "1970-01-01T00:00:00.000Z", data: { method: "password", user: { id: "u1" } } });
  });

  it("deleting a webhook drops its outbox", async () => {
    const app = await createApp();
    const id = await hook(app, "http://127.0.0.1:9/x");
    await createUser(app, { email: "gone@example.com" });
    expect((await deliveries(id)).results).toHaveLength(1);
    await okJson(api(app, `/webhooks/${id}`, { method: "DELETE" }));
    expect((await deliveries(id)).results).toHaveLength(0);
  });
});
