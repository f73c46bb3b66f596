/**
 * The unmodified @kinde/management-api-js against the running worker (SPEC §7): `init`
 * with `kindeDomain` pointed at the app's host and an m2m client created with Kinde's own
 * scope names (every one Kinde documents, none of Latch's older names); the SDK fetches
 * its own client_credentials token (audience `{issuer}/api`) and calls the management API.
 */
import { init, Roles, Users, Webhooks } from "@kinde/management-api-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import catalogue from "../../worker/identity/management-scopes.json";
import { startWorker, type RunningWorker } from "./harness";
import { createClient, createOAuthApp, resolveLocalhostSubdomains, type OAuthApp } from "./oauth-helpers";

let worker: RunningWorker;
let app: OAuthApp;

beforeAll(async () => {
  resolveLocalhostSubdomains();
  worker = await startWorker();
  app = await createOAuthApp(worker.url, { name: "Management SDK App" });
  const client = await createClient(worker.url, app.id, { name: "backend", type: "m2m", scopes: [...catalogue.kinde] });
  init({ kindeDomain: app.origin, clientId: client.client_id, clientSecret: client.client_secret! });
});

afterAll(async () => {
  await worker?.dispose();
});

describe("@kinde/management-api-js", () => {
  it("creates, lists, reads and updates users and refreshes their claims", async () => {
    const created = await Users.createUser({
      requestBody: {
        profile: { given_name: "Katherine", family_name: "Johnson" },
        identities: [{ type: "email", details: { email: "katherine@example.com" } }],
      },
    });
    expect(created.created).toBe(true);
    const id = created.id!;

    const list = await Users.getUsers({ pageSize: 10 });
    expect(list.code).toBe("OK");
    expect(list.users?.map((u) => u.id)).toContain(id);
    const found = list.users!.find((u) => u.id === id)!;
    expect(found).toMatchObject({ email: "katherine@example.com", first_name: "Katherine", last_name: "Johnson", is_suspended: false });

    const byEmail = await Users.getUsers({ email: "katherine@example.com" });
    expect(byEmail.users?.map((u) => u.id)).toEqual([id]);

    const updated = await Users.updateUser({ id, requestBody: { given_name: "Kate", is_suspended: true } });
    expect(updated).toMatchObject({ id, given_name: "Kate", family_name: "Johnson", is_suspended: true });

    const user = await Users.getUserData({ id });
    expect(user).toMatchObject({ id, first_name: "Kate", preferred_email: "katherine@example.com", is_suspended: true });

    // update:user_refresh_claims, read:user_sessions and delete:user_sessions, as Kinde names them.
    const refreshed = await Users.refreshUserClaims({ userId: id });
    expect(refreshed.code).toBe("CLAIMS_REFRESHED");
    const sessions = await Users.getUserSessions({ userId: id });
    expect(sessions.code).toBe("OK");
    await Users.deleteUserSessions({ userId: id });
  });

  it("pages users with next_token", async () => {
    for (let i = 0; i < 3; i++) {
      await Users.createUser({ requestBody: { identities: [{ type: "username", details: { username: `pager-${i}` } }] } });
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await Users.getUsers({ pageSize: 2, ...(nextToken ? { nextToken } : {}) });
      expect(page.users!.length).toBeLessThanOrEqual(2);
      seen.push(...page.users!.map((u) => u.username!));
      nextToken = page.next_token;
    } while (nextToken);
    expect(seen.filter((u) => u.startsWith("pager-"))).toEqual(["pager-0", "pager-1", "pager-2"]);
  });

  it("surfaces Kinde-style errors as the SDK's ApiError", async () => {
    await expect(Users.getUserData({ id: "nope" })).rejects.toMatchObject({ status: 404, body: { errors: [{ code: "USER_NOT_FOUND" }] } });
  });

  it("manages roles and webhooks and lists event types", async () => {
    const role = await Roles.createRole({ requestBody: { key: "sdk-admin", name: "SDK admin" } });
    const roles = await Roles.getRoles();
    expect(roles.roles?.map((r) => r.id)).toContain(role.role!.id);
    const types = await Webhooks.getEventTypes();
    expect(types.event_types?.map((t) => t.code)).toContain("user.created");
    const hook = await Webhooks.createWebHook({ requestBody: { endpoint: "https://hooks.example.com/latch", event_types: ["user.created"], name: "SDK hook" } });
    const hooks = await Webhooks.getWebHooks();
    expect(hooks.webhooks?.map((w) => w.id)).toContain(hook.webhook!.id);
    await Webhooks.deleteWebHook({ webhookId: hook.webhook!.id! });
  });
});
