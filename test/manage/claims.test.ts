/**
 * The claims rule (SPEC §7): a management change leaves issued access tokens as they are,
 * the very next refresh carries current claims, and a refresh with nothing changed does
 * not touch D1 at all.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { signup } from "../helpers";
import { addClient, decodeJwt, oauthApp, tokensFor, type OAuthTestApp, type TestClient, type TokenBody } from "../oauth/helpers";
import { api, apiError, okJson } from "./helpers";

/** env.DB wrapped so that every call on it (prepare, batch, exec…) is recorded. */
function countingEnv(): { env: typeof env; calls: string[] } {
  const calls: string[] = [];
  const db = new Proxy(env.DB, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(`${String(key)}${key === "prepare" ? `: ${String(args[0]).slice(0, 80)}` : ""}`);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { env: { ...env, DB: db }, calls };
}

/** A refresh through the worker's own fetch handler with a counting D1 binding. */
async function refresh(app: OAuthTestApp, client: TestClient, refreshToken: string): Promise<{ body: TokenBody; d1: string[] }> {
  const counted = countingEnv();
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${app.origin}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: client.client_id }),
    }),
    counted.env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  if (res.status !== 200) throw new Error(`refresh: ${res.status} ${await res.text()}`);
  return { body: (await res.json()) as TokenBody, d1: counted.calls };
}

const claimsOf = (token: string) => decodeJwt(token).payload as { permissions: string[]; roles: { key: string }[]; feature_flags: Record<string, unknown> };

describe("claims freshness", () => {
  it("a permission change shows on the next refresh, not in tokens already issued", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const perm = (await okJson(api(app, "/permissions", { method: "POST", json: { key: "read:docs", name: "Read docs" } }), 201)).permission.id;
    await okJson(api(app, `/users/${user._id}/permissions`, { method: "POST", json: { permission_id: perm } }), 201);

    const first = await tokensFor(app, client, user);
    expect(claimsOf(first.access_token).permissions).toEqual(["read:docs"]);
    // Warm the isolate caches (app, client, signing keys) the refresh path relies on.
    const warm = await refresh(app, client, first.refresh_token!);

    const quiet = await refresh(app, client, warm.body.refresh_token!);
    expect(claimsOf(quiet.body.access_token).permissions).toEqual(["read:docs"]);
    expect(quiet.d1).toEqual([]);

    // The change: a new permission through a role, and the existing one renamed.
    const role = (await okJson(api(app, "/roles", { method: "POST", json: { key: "writer", name: "Writer" } }), 201)).role.id;
    const write = (await okJson(api(app, "/permissions", { method: "POST", json: { key: "write:docs", name: "Write docs" } }), 201)).permission.id;
    await okJson(api(app, `/roles/${role}/permissions`, { method: "PATCH", json: { permissions: [{ id: write }] } }));
    await okJson(api(app, `/users/${user._id}/roles`, { method: "POST", json: { role_id: role } }), 201);
    await okJson(api(app, `/permissions/${perm}`, { method: "PATCH", json: { key: "read:documents" } }));

    // The access token already issued still says what it said, and is still accepted.
    const old = quiet.body.access_token;
    expect(claimsOf(old).permissions).toEqual(["read:docs"]);
    const userinfo = await fetchUserinfo(app, old);
    expect(userinfo).toBe(200);

    // The next refresh carries the current claims (and reads D1 to build them).
    const fresh = await refresh(app, client, quiet.body.refresh_token!);
    expect(claimsOf(fresh.body.access_token).permissions.sort()).toEqual(["read:documents", "write:docs"]);
    expect(claimsOf(fresh.body.access_token).roles.map((r) => r.key)).toEqual(["writer"]);
    expect(fresh.d1.length).toBeGreaterThan(0);

    // And the one after is D1-free again, with the new snapshot.
    const again = await refresh(app, client, fresh.body.refresh_token!);
    expect(again.d1).toEqual([]);
    expect(claimsOf(again.body.access_token).permissions.sort()).toEqual(["read:documents", "write:docs"]);
  });

  it("refresh_claims and a per-user flag override invalidate; an unrelated user's change does not", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const other = await signup(app);
    await okJson(api(app, "/feature_flags", { method: "POST", json: { key: "beta", name: "Beta", type: "bool", default_value: "false" } }), 201);
    const first = await tokensFor(app, client, user);
    expect(claimsOf(first.access_token).feature_flags.beta).toEqual({ t: "b", v: false });
    const warm = await refresh(app, client, first.refresh_token!);

    // Someone else's change leaves this user's chain alone.
    await okJson(api(app, `/users/${other._id}/feature_flags/beta?value=true`, { method: "PATCH" }));
    const untouched = await refresh(app, client, warm.body.refresh_token!);
    expect(untouched.d1).toEqual([]);

    await okJson(api(app, `/users/${user._id}/feature_flags/beta?value=true`, { method: "PATCH" }));
    const overridden = await refresh(app, client, untouched.body.refresh_token!);
    expect(claimsOf(overridden.body.access_token).feature_flags.beta).toEqual({ t: "b", v: true });

    // An app-wide default change is not fanned out; refresh_claims makes it visible.
    await okJson(api(app, "/feature_flags", { method: "POST", json: { key: "limit", name: "Limit", type: "int", default_value: "3" } }), 201);
    const before = await refresh(app, client, overridden.body.refresh_token!);
    expect(before.d1).toEqual([]);
    expect(claimsOf(before.body.access_token).feature_flags.limit).toBeUndefined();
    await okJson(api(app, `/users/${user._id}/refresh_claims`, { method: "POST" }));
    const after = await refresh(app, client, before.body.refresh_token!);
    expect(claimsOf(after.body.access_token).feature_flags.limit).toEqual({ t: "i", v: 3 });
  });

  it("a user's own access token cannot call the management API", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const tokens = await tokensFor(app, client, user);
    expect(await apiError(api(app, "/users", { auth: `Bearer ${tokens.access_token}` }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });

  it("suspending a user ends their refresh chains", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const tokens = await tokensFor(app, client, user);
    expect((await okJson(api(app, `/users/${user._id}/sessions`))).sessions.some((s: { type: string }) => s.type === "refresh_chain")).toBe(true);
    await okJson(api(app, `/user?id=${user._id}`, { method: "PATCH", json: { is_suspended: true } }));
    await expect(refresh(app, client, tokens.refresh_token!)).rejects.toThrow(/refresh: 400/);
  });
});

async function fetchUserinfo(app: OAuthTestApp, token: string): Promise<number> {
  const { SELF } = await import("cloudflare:test");
  const res = await SELF.fetch(`${app.origin}/oauth2/v2/user_profile`, { headers: { Authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}
