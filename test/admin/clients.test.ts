/** Operator API for an app's own clients: list apps, change, delete and re-key clients. */
import { describe, expect, it } from "vitest";
import { ADMIN, call, createApp, errorOf } from "../helpers";
import { addClient, basicAuth, oauthApp, tokenRequest } from "../oauth/helpers";

const admin = (path: string, init: RequestInit & { json?: unknown } = {}) => call(`/admin${path}`, { ...init, headers: { ...ADMIN, ...(init.headers ?? {}) } });

describe("operator API: clients", () => {
  it("lists apps without their secrets", async () => {
    const app = await createApp();
    const { apps } = (await (await admin("/apps")).json()) as { apps: Record<string, unknown>[] };
    const listed = apps.find((a) => a.id === app.id)!;
    expect(listed).toMatchObject({ slug: app.slug, mode: "exchange" });
    expect(JSON.stringify(apps)).not.toContain(app.app_secret);
  });

  it("changes a client's lists; absent fields stay, the creation rules hold", async () => {
    const app = await createApp();
    const client = await addClient(app, { name: "Web", allowed_origins: ["https://web.example"] });
    const res = await admin(`/apps/${app.id}/clients/${client.client_id}`, { method: "PATCH", json: { redirect_uris: ["https://web.example/cb"], name: "Web 2" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ client_id: client.client_id, name: "Web 2", redirect_uris: ["https://web.example/cb"], allowed_origins: ["https://web.example"] });
    const refusals: [unknown, string][] = [
      [{ redirect_uris: [] }, "redirect_uris needs at least one URI"],
      [{ redirect_uris: ["http://web.example/cb"] }, "loopback only"],
      [{ scopes: ["read:users"] }, "only m2m clients carry management scopes"],
      [{ type: "m2m" }, "unknown field: type"],
    ];
    for (const [json, message] of refusals) {
      const refused = await errorOf(await admin(`/apps/${app.id}/clients/${client.client_id}`, { method: "PATCH", json }));
      expect(refused).toMatchObject({ status: 400, error: "INVALID_REQUEST" });
      expect(JSON.stringify(refused.body)).toContain(message);
    }
    expect(await errorOf(await admin(`/apps/${app.id}/clients/nope`, { method: "PATCH", json: {} }))).toMatchObject({ status: 404, error: "CLIENT_NOT_FOUND" });
    // Another app's client is not found through this app.
    const other = await createApp();
    expect(await errorOf(await admin(`/apps/${other.id}/clients/${client.client_id}`, { method: "DELETE" }))).toMatchObject({ status: 404, error: "CLIENT_NOT_FOUND" });
  });

  it("resets a secret (the old one stops at once) and deletes a client", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { type: "m2m", name: "Backend", redirect_uris: [], scopes: ["read:users"] });
    const token = (secret: string) => tokenRequest(app, { grant_type: "client_credentials" }, { Authorization: basicAuth(client.client_id, secret) });
    expect((await token(client.client_secret!)).status).toBe(200);
    const res = await admin(`/apps/${app.id}/clients/${client.client_id}/secret`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { client_secret } = (await res.json()) as { client_secret: string };
    expect(client_secret).toMatch(/^[A-Za-z0-9]{50}$/);
    expect((await token(client.client_secret!)).status).toBe(401);
    expect((await token(client_secret)).status).toBe(200);

    const pub = await addClient(app, { name: "SPA" });
    expect(await errorOf(await admin(`/apps/${app.id}/clients/${pub.client_id}/secret`, { method: "POST" }))).toMatchObject({ status: 400, error: "INVALID_REQUEST" });

    expect((await admin(`/apps/${app.id}/clients/${client.client_id}`, { method: "DELETE" })).status).toBe(204);
    expect((await token(client_secret)).status).toBe(401);
    const { clients } = (await (await admin(`/apps/${app.id}/clients`)).json()) as { clients: { client_id: string }[] };
    expect(clients.map((c) => c.client_id)).toEqual([pub.client_id]);
  });

  it("refuses the new endpoints without the operator token", async () => {
    const app = await createApp();
    const client = await addClient(app);
    for (const [method, path] of [["GET", "/apps"], ["PATCH", `/apps/${app.id}/clients/${client.client_id}`], ["DELETE", `/apps/${app.id}/clients/${client.client_id}`], ["POST", `/apps/${app.id}/clients/${client.client_id}/secret`]] as const) {
      const res = await call(`/admin${path}`, { method, headers: { Authorization: "Bearer wrong" }, ...(method === "PATCH" ? { json: {} } : {}) });
      expect(await errorOf(res), `${method} ${path}`).toMatchObject({ status: 401, error: "UNAUTHORIZED" });
    }
  });
});
