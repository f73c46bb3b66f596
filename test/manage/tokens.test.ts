/**
 * The management API with client_credentials tokens: audience `{issuer}/api`; the scope
 * each endpoint requires is checked in test/manage/scopes.test.ts.
 */
import { describe, expect, it } from "vitest";
import { addClient, basicAuth, oauthApp, tokenRequest, type OAuthTestApp } from "../oauth/helpers";
import { api, apiError, okJson } from "./helpers";

async function m2mToken(app: OAuthTestApp, scopes: string[], form: Record<string, string> = {}): Promise<string> {
  // Another audience must be on the client's allow-list (issue 18).
  const audiences = form.audience ? [form.audience] : [];
  const client = await addClient(app, { type: "m2m", name: "Backend", redirect_uris: [], scopes, audiences });
  const res = await tokenRequest(app, { grant_type: "client_credentials", ...form }, { Authorization: basicAuth(client.client_id, client.client_secret!) });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("management API with access tokens", () => {
  it("works end to end with a narrowly scoped token", async () => {
    const app = await oauthApp();
    const token = await m2mToken(app, ["read:users", "create:users"]);
    const created = await okJson(api(app, "/user", { method: "POST", auth: `Bearer ${token}`, json: { identities: [{ type: "email", details: { email: "t@example.com" } }] } }));
    const list = await okJson(api(app, "/users", { auth: `Bearer ${token}` }));
    expect(list.users.map((u: { id: string }) => u.id)).toEqual([created.id]);
    expect(await apiError(api(app, `/user?id=${created.id}`, { method: "DELETE", auth: `Bearer ${token}` }))).toMatchObject({ status: 403, code: "FORBIDDEN" });
  });

  it("refuses a token for another audience, another app's token and a tampered token with 401", async () => {
    const app = await oauthApp();
    const other = await oauthApp();
    const foreign = await m2mToken(other, ["read:users"]);
    expect(await apiError(api(app, "/users", { auth: `Bearer ${foreign}` }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    const elsewhere = await m2mToken(app, ["read:users"], { audience: "https://api.example.com" });
    expect(await apiError(api(app, "/users", { auth: `Bearer ${elsewhere}` }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    const good = await m2mToken(app, ["read:users"]);
    const [h, p, s] = good.split(".");
    const tampered = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    expect(await apiError(api(app, "/users", { auth: `Bearer ${tampered}` }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect((await api(app, "/users", { auth: `Bearer ${good}` })).status).toBe(200);
  });
});
