/**
 * The management API with client_credentials tokens: audience `{issuer}/api` and one scope
 * per endpoint; every endpoint's scope is refused when missing.
 */
import { describe, expect, it } from "vitest";
import { MANAGEMENT_SCOPES } from "../../worker/identity/clients";
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

/** Every endpoint with the scope it needs (ids do not need to exist: scope is checked first). */
const ENDPOINTS: [string, string, string, unknown?][] = [
  ["GET", "/users", "read:users"],
  ["GET", "/user?id=x", "read:users"],
  ["POST", "/user", "create:users", {}],
  ["PATCH", "/user?id=x", "update:users", {}],
  ["DELETE", "/user?id=x", "delete:users"],
  ["PUT", "/users/x/password", "update:users", { password: "long enough password" }],
  ["POST", "/users/x/refresh_claims", "update:users"],
  ["GET", "/users/x/roles", "read:user_roles"],
  ["POST", "/users/x/roles", "create:user_roles", { role_id: "r" }],
  ["DELETE", "/users/x/roles/r", "delete:user_roles"],
  ["GET", "/users/x/permissions", "read:user_permissions"],
  ["POST", "/users/x/permissions", "create:user_permissions", { permission_id: "p" }],
  ["DELETE", "/users/x/permissions/p", "delete:user_permissions"],
  ["GET", "/users/x/feature_flags", "read:user_feature_flags"],
  ["PATCH", "/users/x/feature_flags/f?value=1", "update:user_feature_flags"],
  ["DELETE", "/users/x/feature_flags/f", "update:user_feature_flags"],
  ["GET", "/users/x/sessions", "read:sessions"],
  ["DELETE", "/users/x/sessions", "delete:sessions"],
  ["DELETE", "/users/x/sessions/s", "delete:sessions"],
  ["GET", "/roles", "read:roles"],
  ["POST", "/roles", "create:roles", { key: "k", name: "n" }],
  ["GET", "/roles/r", "read:roles"],
  ["PATCH", "/roles/r", "update:roles", {}],
  ["DELETE", "/roles/r", "delete:roles"],
  ["GET", "/roles/r/permissions", "read:roles"],
  ["PATCH", "/roles/r/permissions", "update:roles", { permissions: [] }],
  ["DELETE", "/roles/r/permissions/p", "update:roles"],
  ["GET", "/roles/r/users", "read:roles"],
  ["GET", "/permissions", "read:permissions"],
  ["POST", "/permissions", "create:permissions", { key: "k", name: "n" }],
  ["GET", "/permissions/p", "read:permissions"],
  ["PATCH", "/permissions/p", "update:permissions", {}],
  ["DELETE", "/permissions/p", "delete:permissions"],
  ["GET", "/feature_flags", "read:feature_flags"],
  ["GET", "/environment/feature_flags", "read:feature_flags"],
  ["POST", "/feature_flags", "create:feature_flags", {}],
  ["PUT", "/feature_flags/f", "update:feature_flags"],
  ["DELETE", "/feature_flags/f", "delete:feature_flags"],
  ["GET", "/webhooks", "read:webhooks"],
  ["POST", "/webhooks", "create:webhooks", {}],
  ["GET", "/webhooks/w", "read:webhooks"],
  ["PATCH", "/webhooks/w", "update:webhooks", {}],
  ["DELETE", "/webhooks/w", "delete:webhooks"],
  ["GET", "/webhooks/w/deliveries", "read:webhooks"],
  ["GET", "/events", "read:events"],
  ["GET", "/events/e", "read:events"],
  ["GET", "/event_types", "read:event_types"],
  ["GET", "/users/x/consents", "read:user_consents"],
  ["DELETE", "/users/x/consents/c", "delete:user_consents"],
];

describe("management API with access tokens", () => {
  it("refuses every endpoint without its scope (403) and lets it through with it", async () => {
    const app = await oauthApp();
    const all = await m2mToken(app, [...MANAGEMENT_SCOPES]);
    for (const [method, path, scope, json] of ENDPOINTS) {
      expect(MANAGEMENT_SCOPES as readonly string[]).toContain(scope);
      const others = MANAGEMENT_SCOPES.filter((s) => s !== scope).join(" ");
      const without = await m2mToken(app, [...MANAGEMENT_SCOPES], { scope: others });
      const refused = await apiError(api(app, path, { method, auth: `Bearer ${without}`, ...(json !== undefined ? { json } : {}) }));
      expect({ method, path, ...refused }).toEqual({ method, path, status: 403, code: "FORBIDDEN", message: `The access token lacks the ${scope} scope.` });
      const allowed = await api(app, path, { method, auth: `Bearer ${all}`, ...(json !== undefined ? { json } : {}) });
      expect({ method, path, status: allowed.status }).not.toEqual({ method, path, status: 403 });
      expect([401, 403]).not.toContain(allowed.status);
    }
  });

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
