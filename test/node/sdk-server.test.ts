/**
 * @latch/server (the built package, as an app imports it) against the running worker:
 * verifyToken on real Latch tokens (valid, expired, wrong audience, wrong issuer, another
 * app's token, `alg: none`, an ID token, key rotation with a refetch), the Hono middleware
 * latchAuth() and requirePermission() per RFC 6750, the RFC 9728 protected-resource helper
 * with tokens whose `aud` is the resource, and the management client (one cached token).
 */
import { createHash, randomBytes } from "node:crypto";
import { Hono } from "hono";
import { decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createManagementClient, getFlag, hasPermission, hasRole, LatchAuthError, ManagementApiError, remoteJwks, verifyToken, type LatchClaims } from "@latch/server";
import { latchAuth, protectedResource, requirePermission, type LatchEnv } from "@latch/server/hono";
import catalogue from "../../worker/identity/management-scopes.json";

/** Every scope some management endpoint requires. */
const MANAGEMENT_SCOPES = [...new Set(catalogue.endpoints.map((e) => e.scope))];
import { ADMIN_TOKEN, startWorker, type RunningWorker } from "./harness";
import { createClient, createOAuthApp, Jar, kinveySignup, resolveLocalhostSubdomains, signInThroughForm, type OAuthApp } from "./oauth-helpers";

let worker: RunningWorker;
let app: OAuthApp;
let spa: { client_id: string };
let m2m: { client_id: string; client_secret?: string };
let userId: string;
/** A user's access token and ID token, minted after the user got a role, a permission and a flag. */
let tokens: { access_token: string; id_token: string };
/** The app also has a custom domain: the same keys served under another issuer. */
const domain = `srv${Date.now().toString(36)}.localhost`;

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url");

async function userTokens(): Promise<{ access_token: string; id_token: string }> {
  const verifier = b64(randomBytes(32));
  const url = new URL(`${app.origin}/oauth2/auth`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: spa.client_id,
    redirect_uri: "http://127.0.0.1:9/cb",
    scope: "openid profile email",
    state: "s",
    code_challenge: b64(createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
  }).toString();
  const back = await signInThroughForm(new Jar(), url, { username: "ursula", password: "ursula password 1" });
  const res = await fetch(`${app.origin}/oauth2/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "authorization_code", code: back.searchParams.get("code")!, redirect_uri: "http://127.0.0.1:9/cb", code_verifier: verifier, client_id: spa.client_id }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { access_token: string; id_token: string };
}

async function serviceToken(audience?: string): Promise<string> {
  const res = await fetch(`${app.origin}/oauth2/token`, {
    method: "POST",
    headers: { Authorization: `Basic ${btoa(`${m2m.client_id}:${m2m.client_secret}`)}` },
    body: new URLSearchParams({ grant_type: "client_credentials", ...(audience ? { audience } : {}) }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function reason(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LatchAuthError);
  return (err as LatchAuthError).reason;
}

beforeAll(async () => {
  resolveLocalhostSubdomains();
  worker = await startWorker();
  app = await createOAuthApp(worker.url, { name: "Server SDK App", custom_domain: domain });
  spa = await createClient(worker.url, app.id, { name: "spa", type: "public", redirect_uris: ["http://127.0.0.1:9/cb"] });
  // The protected-resource test asks for a token whose aud is the resource: allow-listed (issue 18).
  m2m = await createClient(worker.url, app.id, { name: "backend", type: "m2m", scopes: [...MANAGEMENT_SCOPES], audiences: ["http://127.0.0.1:4999/mcp"] });
  userId = (await kinveySignup(worker.url, app, "ursula", "ursula password 1", { email: "ursula@example.com" }))._id;
});

describe("management client", () => {
  it("one cached client_credentials token for many calls; users, roles, refresh_claims", async () => {
    let tokenRequests = 0;
    const counting: typeof fetch = (input, init) => {
      if (String(input).endsWith("/oauth2/token")) tokenRequests++;
      return fetch(input, init);
    };
    const m = createManagementClient({ issuer: app.origin, clientId: m2m.client_id, clientSecret: m2m.client_secret!, fetch: counting });

    // Concurrent first calls share one token request.
    const [user, list] = await Promise.all([m.users.get(userId), m.users.list({ username: "ursula" })]);
    expect(user).toMatchObject({ id: userId, username: "ursula", preferred_email: "ursula@example.com", is_suspended: false });
    expect(list.items.map((u) => u.id)).toEqual([userId]);

    const role = await m.roles.create({ key: "editor", name: "Editor" });
    expect((await m.roles.list()).items).toEqual([expect.objectContaining({ id: role.id, key: "editor", name: "Editor" })]);
    expect(await m.roles.get(role.id)).toMatchObject({ key: "editor" });
    await m.users.addRole(userId, role.id);
    expect((await m.users.roles(userId)).items.map((r) => r.key)).toEqual(["editor"]);
    // Typed calls cover the common paths; request() reaches the rest of /api/v1.
    const perm = await m.request<{ permission: { id: string } }>("POST", "/permissions", { key: "read:reports", name: "Read reports" });
    await m.request("PATCH", `/roles/${role.id}/permissions`, { permissions: [{ id: perm.permission.id }] });
    await m.request("POST", "/feature_flags", { key: "dark_mode", name: "Dark mode", type: "bool", default_value: "false" });
    await m.request("PATCH", `/users/${userId}/feature_flags/dark_mode?value=true`);
    await m.users.refreshClaims(userId);

    const created = await m.users.create({ username: "temp-user", email: "temp@example.com", given_name: "Temp" });
    expect(await m.users.get(created.id)).toMatchObject({ username: "temp-user", first_name: "Temp" });
    await m.users.update(created.id, { family_name: "Orary" });
    expect(await m.users.get(created.id)).toMatchObject({ last_name: "Orary" });
    await m.users.delete(created.id);
    const gone = await m.users.get(created.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(ManagementApiError);
    expect(gone).toMatchObject({ status: 404, code: "USER_NOT_FOUND" });
    expect(tokenRequests).toBe(1);

    const wrong = createManagementClient({ issuer: app.origin, clientId: m2m.client_id, clientSecret: "x".repeat(50) });
    const refused = await wrong.users.get(userId).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: "ManagementApiError", status: 401, code: "invalid_client" });

    tokens = await userTokens();
  });
});

describe("verifyToken", () => {
  it("returns the seed's JWTPayload plus permissions, roles and feature flags; the helpers read them", async () => {
    const claims = await verifyToken(tokens.access_token, { issuer: app.origin, audience: spa.client_id });
    expect(claims).toMatchObject({
      sub: userId,
      email: "ursula@example.com",
      emailVerified: false,
      app_id: app.id,
      app_slug: app.slug,
      auth_method: "password",
      iss: app.origin,
      aud: spa.client_id,
      permissions: ["read:reports"],
      roles: [expect.objectContaining({ key: "editor", name: "Editor" })],
      feature_flags: { dark_mode: { t: "b", v: true } },
    });
    expect(claims.exp - claims.iat).toBe(900);
    expect(hasPermission(claims, "read:reports")).toBe(true);
    expect(hasPermission(claims, "write:reports")).toBe(false);
    expect(hasRole(claims, "editor")).toBe(true);
    expect(hasRole(claims, "admin")).toBe(false);
    expect(getFlag(claims, "dark_mode", false)).toBe(true);
    expect(getFlag(claims, "missing", "fallback")).toBe("fallback");
    // A list of audiences: one match suffices.
    await verifyToken(tokens.access_token, { issuer: app.origin, audience: ["https://api.example", spa.client_id] });
  });

  it("refuses expired, wrong audience, wrong issuer, another app's token, alg none, HS256 and ID tokens", async () => {
    const { exp } = await verifyToken(tokens.access_token, { issuer: app.origin, audience: spa.client_id });
    const base = { issuer: app.origin, audience: spa.client_id };
    expect(await reason(verifyToken(tokens.access_token, { ...base, currentDate: new Date((exp + 1) * 1000) }))).toBe("expired");
    expect(await reason(verifyToken(tokens.access_token, { ...base, audience: "someone-else" }))).toBe("audience");
    // The same app on its custom domain: same keys, so the signature verifies; the issuer does not match.
    const custom = `http://auth.${domain}:${new URL(worker.url).port}`;
    expect(await reason(verifyToken(tokens.access_token, { ...base, issuer: custom }))).toBe("issuer");
    // Another app's keys know nothing of this token.
    const other = await createOAuthApp(worker.url, { name: "Other App" });
    expect(await reason(verifyToken(tokens.access_token, { ...base, issuer: other.origin }))).toBe("unknown_key");

    const [, payload] = tokens.access_token.split(".");
    const none = `${b64(JSON.stringify({ alg: "none", typ: "at+jwt" }))}.${payload}.`;
    expect(await reason(verifyToken(none, base))).toBe("algorithm");
    const hs = `${b64(JSON.stringify({ alg: "HS256", typ: "at+jwt", kid: decodeProtectedHeader(tokens.access_token).kid }))}.${payload}.${b64("forged")}`;
    expect(await reason(verifyToken(hs, base))).toBe("algorithm");
    const tampered = tokens.access_token.replace(/\.[^.]+\./, `.${b64(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: "someone" }))}.`);
    expect(await reason(verifyToken(tampered, base))).toBe("signature");
    // An ID token has the client as audience but is not an access token.
    expect(await reason(verifyToken(tokens.id_token, base))).toBe("type");
    expect(await reason(verifyToken("not-a-jwt", base))).toBe("malformed");
  });

  it("key rotation: a token signed by a key the cache has never seen verifies after one refetch", async () => {
    // An app of its own, so the shared key caches of the other tests stay valid.
    const rot = await createOAuthApp(worker.url, { name: "Rotating App" });
    const svc = await createClient(worker.url, rot.id, { name: "svc", type: "m2m", scopes: ["read:users"] });
    const mint = async () => {
      const res = await fetch(`${rot.origin}/oauth2/token`, {
        method: "POST",
        headers: { Authorization: `Basic ${btoa(`${svc.client_id}:${svc.client_secret}`)}` },
        body: new URLSearchParams({ grant_type: "client_credentials" }),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const issuer = rot.origin;
    const api = `${issuer}/api`;
    const jwks = remoteJwks(issuer, { cooldownDuration: 0 });
    const kids = () => (jwks as unknown as { jwks(): { keys: { kid: string }[] } }).jwks().keys.map((k) => k.kid);
    const before = await mint();
    await verifyToken(before, { issuer, audience: api, jwks });
    const cached = kids();

    // Two rotations: the signing key is then one that did not exist when the cache was filled.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${worker.url}/admin/apps/${rot.id}/keys/rotate`, { method: "POST", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
    }
    const after = await mint();
    const kid = decodeProtectedHeader(after).kid!;
    expect(cached).not.toContain(kid);
    const claims = await verifyToken(after, { issuer, audience: api, jwks });
    expect(claims.sub).toBe(svc.client_id);
    expect(kids()).toContain(kid);
    // The retired key stays published while its tokens live.
    await verifyToken(before, { issuer, audience: api, jwks });
  });
});

describe("latchAuth() and requirePermission()", () => {
  function api(options: { currentDate?: Date } = {}) {
    const h = new Hono<LatchEnv>();
    h.use("/api/*", latchAuth({ issuer: app.origin, audience: spa.client_id, realm: "reports", ...options }));
    h.get("/api/me", (c) => c.json(c.get("latch")));
    h.get("/api/reports", requirePermission("read:reports"), (c) => c.json({ ok: true }));
    h.get("/api/admin", requirePermission("manage:everything"), (c) => c.json({ ok: true }));
    return h;
  }
  const call = (h: Hono<LatchEnv>, path: string, authorization?: string) => h.request(path, authorization ? { headers: { Authorization: authorization } } : {});

  it("puts the verified claims on the context", async () => {
    const res = await call(api(), "/api/me", `Bearer ${tokens.access_token}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as LatchClaims).sub).toBe(userId);
    expect((await call(api(), "/api/reports", `bearer ${tokens.access_token}`)).status).toBe(200);
  });

  it("RFC 6750: a bare challenge without credentials, invalid_token for bad tokens, 400 for a malformed header, 403 insufficient_scope", async () => {
    const h = api();
    for (const authorization of [undefined, "Basic dXNlcjpwYXNz"]) {
      const res = await call(h, "/api/me", authorization);
      expect(res.status).toBe(401);
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="reports"');
    }
    const expired = await call(api({ currentDate: new Date(Date.now() + 3600_000) }), "/api/me", `Bearer ${tokens.access_token}`);
    expect(expired.status).toBe(401);
    expect(expired.headers.get("WWW-Authenticate")).toBe('Bearer realm="reports", error="invalid_token", error_description="The access token has expired."');
    expect(await expired.json()).toEqual({ error: "invalid_token", error_description: "The access token has expired." });

    const wrongAudience = await call(h, "/api/me", `Bearer ${await serviceToken()}`);
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="reports", error="invalid_token", error_description="The access token is not meant for this audience."$/);

    const malformed = await call(h, "/api/me", "Bearer two words");
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="reports", error="invalid_request"/);

    const forbidden = await call(h, "/api/admin", `Bearer ${tokens.access_token}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("WWW-Authenticate")).toBe('Bearer error="insufficient_scope", error_description="This needs the permission manage:everything."');
  });
});

describe("RFC 9728 protected resource", () => {
  it("serves the metadata and accepts only tokens whose aud is the resource", async () => {
    const resource = "http://127.0.0.1:4999/mcp";
    const pr = protectedResource({ issuer: app.origin, resource, scopesSupported: ["openid", "offline"], resourceName: "Test MCP" });
    const h = new Hono<LatchEnv>();
    h.route("/", pr.routes);
    h.use("/mcp", pr.auth);
    h.post("/mcp", (c) => c.json({ sub: c.get("latch").sub, aud: c.get("latch").aud }));

    expect(pr.metadataUrl).toBe("http://127.0.0.1:4999/.well-known/oauth-protected-resource/mcp");
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const res = await h.request(`http://127.0.0.1:4999${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      expect(await res.json()).toEqual({
        resource,
        authorization_servers: [app.origin],
        bearer_methods_supported: ["header"],
        scopes_supported: ["openid", "offline"],
        resource_name: "Test MCP",
      });
    }
    // The document points at a real authorization server: its RFC 8414 metadata names the same issuer.
    const as = (await (await fetch(`${app.origin}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
    expect(as.issuer).toBe(app.origin);

    const challenge = `Bearer resource_metadata="${pr.metadataUrl}"`;
    const none = await h.request("http://127.0.0.1:4999/mcp", { method: "POST" });
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toBe(challenge);

    const forResource = await serviceToken(resource);
    const ok = await h.request("http://127.0.0.1:4999/mcp", { method: "POST", headers: { Authorization: `Bearer ${forResource}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sub: m2m.client_id, aud: resource });

    // A token for another audience (the management API, the SPA) is refused, naming the metadata.
    for (const token of [await serviceToken(), tokens.access_token]) {
      const refused = await h.request("http://127.0.0.1:4999/mcp", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("WWW-Authenticate")).toBe(`${challenge}, error="invalid_token", error_description="The access token is not meant for this audience."`);
    }

    // Framework-free use (e.g. the MCP SDK's own server): verify + the MCP AuthInfo shape.
    const claims = await pr.verify(forResource);
    expect(pr.authInfo(claims, forResource)).toEqual({
      token: forResource,
      clientId: m2m.client_id,
      scopes: expect.arrayContaining(["read:users"]),
      expiresAt: claims.exp,
      resource: new URL(resource),
      extra: { claims },
    });
  });
});
