/** Operator API (SPEC §9). */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, call, createApp, errorOf, uniqueSlug, createAppWithDefaults } from "../helpers";

describe("operator API", () => {
  it("refuses requests without the operator token, or with a wrong one", async () => {
    for (const headers of [{}, { Authorization: "Bearer wrong" }, { Authorization: "Basic dGVzdDp0ZXN0" }] as Record<string, string>[]) {
      const res = await call("/admin/apps", { method: "POST", headers, json: { name: "x", slug: uniqueSlug() } });
      expect(await errorOf(res)).toMatchObject({ status: 401, error: "UNAUTHORIZED" });
    }
  });

  it("creates an app, shows its secrets once and stores only hashes", async () => {
    const app = await createAppWithDefaults({ name: "Acme" });
    expect(app.id).toMatch(/^kid_[0-9a-z]{20}$/);
    expect(app.app_secret).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(app.issuer).toBe(`http://${app.slug}.localhost:8787`);
    expect(app.settings).toMatchObject({ access_token_ttl: 900, refresh_overlap: 30, max_chains_per_user: 50, signing_alg: "RS256" });
    const row = await env.DB.prepare("SELECT * FROM apps WHERE id = ?").bind(app.id).first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(app.app_secret);
    expect(JSON.stringify(row)).not.toContain(app.master_secret);
    const read = (await (await call(`/admin/apps/${app.id}`, { headers: ADMIN })).json()) as Record<string, unknown>;
    expect(read.app_secret).toBeUndefined();
    expect(read.master_secret).toBeUndefined();
    expect(read).toMatchObject({ id: app.id, name: "Acme", mode: "exchange" });
  });

  it("gives a custom-domain app cookie mode and an auth. issuer", async () => {
    const app = await createApp({ custom_domain: `${uniqueSlug("d")}.localhost` });
    const read = (await (await call(`/admin/apps/${app.id}`, { headers: ADMIN })).json()) as Record<string, string>;
    expect(read.mode).toBe("cookie");
    expect(read.issuer).toBe(`http://auth.${read.custom_domain}:8787`);
  });

  it.each([
    [{ name: "", slug: "ok-slug" }, "name"],
    [{ name: "x", slug: "Bad Slug" }, "slug"],
    [{ name: "x", slug: "admin" }, "slug"],
    [{ name: "x", slug: "fine", custom_domain: "not a domain" }, "custom_domain"],
    [{ name: "x", slug: "fine", settings: { access_token_ttl: 1 } }, "access_token_ttl"],
    [{ name: "x", slug: "fine", settings: { surprise: true } }, "unknown setting"],
    [{ name: "x", slug: "fine", settings: { auth_policy: "sometimes" } }, "auth_policy"],
    [{ name: "x", slug: "fine", settings: { allowed_origins: ["https://ok.example/path"] } }, "origin"],
  ])("refuses invalid input %j with 400", async (input, mentions) => {
    const res = await call("/admin/apps", { method: "POST", headers: ADMIN, json: input });
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 400, error: "INVALID_REQUEST" });
    expect(JSON.stringify(err.body)).toContain(mentions);
  });

  it("refuses a duplicate slug with 409", async () => {
    const app = await createApp();
    const res = await call("/admin/apps", { method: "POST", headers: ADMIN, json: { name: "dup", slug: app.slug } });
    expect(await errorOf(res)).toMatchObject({ status: 409, error: "SLUG_TAKEN" });
  });

  it("updates settings by merging, and refuses unknown fields", async () => {
    const app = await createApp();
    const res = await call(`/admin/apps/${app.id}`, { method: "PATCH", headers: ADMIN, json: { settings: { refresh_overlap: 0, allowed_origins: ["https://app.example.com"] } } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { settings: Record<string, unknown> };
    expect(body.settings).toMatchObject({ refresh_overlap: 0, access_token_ttl: 900, allowed_origins: ["https://app.example.com"] });
    const bad = await call(`/admin/apps/${app.id}`, { method: "PATCH", headers: ADMIN, json: { app_secret: "mine" } });
    expect(await errorOf(bad)).toMatchObject({ status: 400, error: "INVALID_REQUEST" });
    expect(await errorOf(await call(`/admin/apps/kid_missing`, { headers: ADMIN }))).toMatchObject({ status: 404, error: "APP_NOT_FOUND" });
  });

  it("answers malformed JSON in the operator envelope", async () => {
    const res = await call("/admin/apps", { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: "{nope" });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "INVALID_JSON" });
  });
});

describe("clients", () => {
  it("creates confidential, public and m2m clients; secrets once, hashed at rest", async () => {
    const app = await createApp();
    const post = (json: unknown) => call(`/admin/apps/${app.id}/clients`, { method: "POST", headers: ADMIN, json });
    const conf = (await (await post({ name: "web", type: "confidential", redirect_uris: ["https://app.example.com/cb"] })).json()) as Record<string, any>;
    expect(conf.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(conf.client_secret).toMatch(/^[A-Za-z0-9]{50}$/);
    const pub = (await (await post({ name: "spa", type: "public", redirect_uris: ["http://127.0.0.1:3000/cb", "com.example.app:/cb"] })).json()) as Record<string, any>;
    expect(pub.client_secret).toBeUndefined();
    const m2m = await post({ name: "svc", type: "m2m", scopes: ["read:users"] });
    expect(m2m.status).toBe(201);
    const list = (await (await call(`/admin/apps/${app.id}/clients`, { headers: ADMIN })).json()) as { clients: Record<string, unknown>[] };
    expect(list.clients).toHaveLength(3);
    expect(JSON.stringify(list)).not.toContain(conf.client_secret);
    const stored = await env.DB.prepare("SELECT secret_hash FROM clients WHERE id = ?").bind(conf.client_id).first<string>("secret_hash");
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    [{ name: "x", type: "public", redirect_uris: ["http://evil.example.com/cb"] }, "loopback"],
    [{ name: "x", type: "public", redirect_uris: ["https://app.example.com/cb#frag"] }, "fragment"],
    [{ name: "x", type: "public", redirect_uris: ["javascript:alert(1)"] }, "scheme"],
    [{ name: "x", type: "public", redirect_uris: [] }, "redirect_uris"],
    [{ name: "x", type: "superuser", redirect_uris: ["https://a.example/cb"] }, "type"],
    [{ name: "x", type: "m2m", scopes: ["root"] }, "unknown scope"],
    [{ name: "x", type: "public", redirect_uris: ["https://a.example/cb"], scopes: ["read:users"] }, "m2m"],
    [{ name: "x", type: "public", redirect_uris: ["https://a.example/cb"], client_secret: "mine" }, "unknown field"],
  ])("refuses %j", async (input, mentions) => {
    const app = await createApp();
    const res = await call(`/admin/apps/${app.id}/clients`, { method: "POST", headers: ADMIN, json: input });
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 400, error: "INVALID_REQUEST" });
    expect(JSON.stringify(err.body)).toContain(mentions);
  });
});
