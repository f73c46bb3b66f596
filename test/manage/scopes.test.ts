/**
 * Kinde's management scope catalogue (worker/identity/management-scopes.json) against the
 * routes: every endpoint refuses a token without its scope with 403 naming that scope, and
 * lets one with that scope alone through; the older names still pass where they did.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import catalogue from "../../worker/identity/management-scopes.json";
import { ENDPOINT_SCOPES, isKindeScope, type EndpointScope } from "../../worker/identity/management-scopes";
import { addClient, basicAuth, oauthApp, tokenRequest, type OAuthTestApp, type TestClient } from "../oauth/helpers";
import { api, apiError } from "./helpers";

/** Bodies and queries that get each request past validation to the scope check (ids need not exist). */
const REQUEST: Record<string, { query?: string; json?: unknown }> = {
  "GET /user": { query: "?id=x" },
  "POST /user": { json: {} },
  "PATCH /user": { query: "?id=x", json: {} },
  "DELETE /user": { query: "?id=x" },
  "PUT /users/{user_id}/password": { json: { password: "long enough password" } },
  "POST /users/{user_id}/roles": { json: { role_id: "r" } },
  "POST /users/{user_id}/permissions": { json: { permission_id: "p" } },
  "PATCH /users/{user_id}/feature_flags/{feature_flag_key}": { query: "?value=1" },
  "PATCH /users/{user_id}/passkeys/{passkey_id}": { json: { name: "n" } },
  "POST /roles": { json: { key: "k", name: "n" } },
  "PATCH /roles/{role_id}": { json: {} },
  "PATCH /roles/{role_id}/permissions": { json: { permissions: [] } },
  "POST /permissions": { json: { key: "k", name: "n" } },
  "PATCH /permissions/{permission_id}": { json: {} },
  "POST /feature_flags": { json: {} },
  "POST /webhooks": { json: {} },
  "PATCH /webhooks/{webhook_id}": { json: {} },
};

function call(app: OAuthTestApp, e: EndpointScope, token: string): Promise<Response> {
  const extra = REQUEST[`${e.method} ${e.path}`] ?? {};
  const path = e.path.replace(/\{[a-z_]+\}/g, "x") + (extra.query ?? "");
  return api(app, path, { method: e.method, auth: `Bearer ${token}`, ...(extra.json !== undefined ? { json: extra.json } : {}) });
}

async function token(app: OAuthTestApp, client: TestClient, scope?: string): Promise<string> {
  const res = await tokenRequest(app, { grant_type: "client_credentials", ...(scope ? { scope } : {}) }, { Authorization: basicAuth(client.client_id, client.client_secret!) });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

const ALL = [...catalogue.kinde, ...catalogue.latch, ...catalogue.aliases];
const m2m = (app: OAuthTestApp, scopes: string[]) => addClient(app, { type: "m2m", name: "Backend", redirect_uris: [], scopes });

describe("management scopes per endpoint", () => {
  it("each endpoint refuses a token without its Kinde scope (403 naming it) and accepts that scope alone", async () => {
    const app = await oauthApp();
    const empty = await token(app, await m2m(app, []));
    const everything = await m2m(app, ALL);
    const byScope = new Map<string, string>();
    for (const e of ENDPOINT_SCOPES) {
      const refused = await apiError(call(app, e, empty));
      expect({ endpoint: `${e.method} ${e.path}`, ...refused }).toEqual({
        endpoint: `${e.method} ${e.path}`,
        status: 403,
        code: "FORBIDDEN",
        message: `The access token lacks the ${e.scope} scope.`,
      });
      if (!byScope.has(e.scope)) byScope.set(e.scope, await token(app, everything, e.scope));
      const allowed = await call(app, e, byScope.get(e.scope)!);
      expect({ endpoint: `${e.method} ${e.path}`, status: [401, 403].includes(allowed.status) ? allowed.status : "passed" }).toEqual({
        endpoint: `${e.method} ${e.path}`,
        status: "passed",
      });
    }
  });

  it("older names pass where they did: any client for names Kinde does not use, clients from before 0004 for Kinde's own names", async () => {
    const app = await oauthApp();
    const fresh = await m2m(app, ALL);
    const legacy = await m2m(app, ALL);
    await env.DB.prepare("UPDATE clients SET legacy_scopes = 1 WHERE id = ?").bind(legacy.client_id).run();
    // One token per client holding every older name and none of the scopes the endpoints require.
    const older = [...new Set(ENDPOINT_SCOPES.flatMap((e) => e.aliases ?? []))];
    const [forLegacy, forFresh] = await Promise.all([token(app, legacy, older.join(" ")), token(app, fresh, older.join(" "))]);
    let kindeNamed = 0;
    for (const e of ENDPOINT_SCOPES) {
      if (!e.aliases || older.includes(e.scope)) continue;
      const label = `${e.method} ${e.path} with ${e.aliases.join(", ")}`;
      expect({ label, refused: (await call(app, e, forLegacy)).status === 403 }).toEqual({ label, refused: false });
      const kinde = e.aliases.every(isKindeScope);
      expect({ label, refused: (await call(app, e, forFresh)).status === 403 }).toEqual({ label, refused: kinde });
      if (kinde) kindeNamed++;
    }
    expect(kindeNamed).toBeGreaterThan(0);
  });

  it("an m2m client may be created with every Kinde scope name; an unknown name is refused with 400", async () => {
    const app = await oauthApp();
    const client = await m2m(app, [...catalogue.kinde]);
    const payload = JSON.parse(atob((await token(app, client)).split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { scp: string[] };
    expect(payload.scp).toEqual(catalogue.kinde);
    for (const scopes of [["update:user_refresh_claims", "read:user_sessions", "delete:user_sessions", "update:user_passwords", "read:user_identities", "create:user_identities"], ["read:sessions", "update:users"]]) {
      expect((await m2m(app, scopes)).client_id).toBeTruthy();
    }
    await expect(m2m(app, ["read:user_sessions", "write:everything"])).rejects.toThrow(/400 .*unknown scope: write:everything/);
  });
});
