/**
 * Third-party clients inside workerd: RFC 7591 registration and RFC 7592 management, the
 * consent screen, RFC 8707 resources and the audience allow-list (issue 18), and the
 * metadata-document refusals that need no document server (test/node/mcp.test.ts has
 * the real MCP SDK and documents served from loopback).
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, BASE, errorOf } from "../helpers";
import { api, apiError, okJson } from "../manage/helpers";
import { addClient, authorizePath, basicAuth, Browser, decodeJwt, hiddenFields, newUser, oauthApp, pkce, tokenRequest, type OAuthTestApp } from "./helpers";

const MCP = "https://mcp.example/mcp";
const CB = "http://127.0.0.1:7777/callback";
let address = 0;

function register(app: OAuthTestApp, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  address += 1;
  return SELF.fetch(`${app.origin}/oauth2/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": `203.0.113.${address % 250}`, ...headers },
    body: JSON.stringify(body),
  });
}

async function registered(app: OAuthTestApp, body: Record<string, unknown> = {}) {
  const res = await register(app, { redirect_uris: [CB], client_name: "Agent", token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"], ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Record<string, any>;
}

function mcpApp(settings: Record<string, unknown> = {}) {
  return oauthApp({ settings: { registration: "open", resources: [MCP], ...settings } });
}

function redirectParams(res: Response): URLSearchParams {
  expect([302, 303]).toContain(res.status);
  return new URL(res.headers.get("location")!).searchParams;
}

/** Signs in on the hosted form and answers the consent screen; returns the final redirect's parameters. */
async function signInThroughConsent(app: OAuthTestApp, clientId: string, user: { username: string; password: string }, decision: "allow" | "deny", extra: Record<string, string> = {}, browser = new Browser(app)) {
  const { verifier, challenge } = await pkce();
  const query = { response_type: "code", client_id: clientId, redirect_uri: CB, scope: "openid offline", state: "s-1", code_challenge: challenge, code_challenge_method: "S256", resource: MCP, ...extra };
  const page = await browser.fetch(authorizePath(query));
  let res = page;
  if (page.status === 200 && (await page.clone().text()).includes('name="password"')) {
    const form = hiddenFields(await page.text());
    form.set("username", user.username);
    form.set("password", user.password);
    res = await browser.post("/oauth2/auth", form, { Origin: app.origin });
  }
  const html = await res.text();
  expect(res.status, html).toBe(200);
  expect(html).toContain("Allow Agent?");
  expect(html).toContain(`(${user.username})`);
  expect(html).toContain("127.0.0.1:7777");
  expect(html).toContain(MCP);
  const form = hiddenFields(html);
  form.set("decision", decision);
  const answered = await browser.post("/oauth2/consent", form, { Origin: app.origin });
  if (decision === "deny") return { params: redirectParams(answered), verifier, browser };
  expect(answered.status).toBe(303);
  const next = await browser.fetch(answered.headers.get("location")!);
  return { params: redirectParams(next), verifier, browser };
}

describe("discovery", () => {
  it("advertises registration and metadata documents only when the app allows them", async () => {
    const off = await oauthApp();
    const plain = await (await SELF.fetch(`${off.origin}/.well-known/oauth-authorization-server`)).json<Record<string, unknown>>();
    expect(plain.registration_endpoint).toBeUndefined();
    expect(plain.client_id_metadata_document_supported).toBe(false);
    const on = await mcpApp({ client_id_metadata_documents: "on" });
    const meta = await (await SELF.fetch(`${on.origin}/.well-known/oauth-authorization-server`)).json<Record<string, unknown>>();
    expect(meta).toMatchObject({ registration_endpoint: `${on.origin}/oauth2/register`, client_id_metadata_document_supported: true, code_challenge_methods_supported: ["S256"] });
  });
});

describe("RFC 7591 registration", () => {
  it("refuses every registration while registration is off", async () => {
    const app = await oauthApp();
    const res = await register(app, { redirect_uris: [CB], token_endpoint_auth_method: "none" });
    expect(await errorOf(res)).toMatchObject({ status: 403, error: "access_denied" });
  });

  it("answers 201 with the metadata; a confidential client gets a secret once", async () => {
    const app = await mcpApp();
    const pub = await registered(app, { scope: "openid offline", client_uri: "https://agent.example" });
    expect(pub).toMatchObject({
      client_name: "Agent",
      redirect_uris: [CB],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      scope: "openid offline",
      client_uri: "https://agent.example",
      registration_client_uri: `${app.origin}/oauth2/register/${pub.client_id}`,
    });
    expect(pub.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(pub.client_secret).toBeUndefined();
    expect(pub.registration_access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pub.client_id_issued_at).toBeTypeOf("number");
    const conf = await registered(app, { token_endpoint_auth_method: "client_secret_basic", redirect_uris: ["https://agent.example/cb"] });
    expect(conf.client_secret).toMatch(/^[A-Za-z0-9]{50}$/);
    expect(conf.client_secret_expires_at).toBe(0);
    const row = await env.DB.prepare("SELECT secret_hash, registration_token_hash, registration, type FROM clients WHERE id = ?").bind(conf.client_id).first<Record<string, string>>();
    expect(row).toMatchObject({ registration: "dynamic", type: "confidential" });
    expect(row!.secret_hash).not.toContain(conf.client_secret);
    expect(row!.registration_token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses bad redirect URIs and metadata with the RFC 7591 errors, storing nothing", async () => {
    const app = await mcpApp();
    const before = await env.DB.prepare("SELECT count(*) AS n FROM clients WHERE app_id = ?").bind(app.id).first<{ n: number }>();
    for (const uri of ["http://agent.example/cb", "https://agent.example/cb#x", "javascript:alert(1)", "nodot:/cb"]) {
      const res = await register(app, { redirect_uris: [uri], token_endpoint_auth_method: "none" });
      expect(await errorOf(res), uri).toMatchObject({ status: 400, error: "invalid_redirect_uri" });
    }
    expect(await errorOf(await register(app, { token_endpoint_auth_method: "none" }))).toMatchObject({ status: 400, error: "invalid_redirect_uri" });
    expect(await errorOf(await register(app, { redirect_uris: [CB], grant_types: ["client_credentials"] }))).toMatchObject({ status: 400, error: "invalid_client_metadata" });
    expect(await errorOf(await register(app, { redirect_uris: [CB], token_endpoint_auth_method: "private_key_jwt" }))).toMatchObject({ status: 400, error: "invalid_client_metadata" });
    const after = await env.DB.prepare("SELECT count(*) AS n FROM clients WHERE app_id = ?").bind(app.id).first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });

  it("with registration: token, needs an initial access token from the operator API, spent per use", async () => {
    const app = await mcpApp({ registration: "token" });
    const body = { redirect_uris: [CB], token_endpoint_auth_method: "none" };
    const none = await register(app, body);
    expect(await errorOf(none)).toMatchObject({ status: 401, error: "invalid_token" });
    expect(none.headers.get("www-authenticate")).toContain("invalid_token");
    expect(await errorOf(await register(app, body, { Authorization: "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }))).toMatchObject({ status: 401, error: "invalid_token" });
    const issued = await SELF.fetch(`${BASE}/admin/apps/${app.id}/registration-tokens`, { method: "POST", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify({ uses: 1 }) });
    expect(issued.status).toBe(201);
    const { token } = await issued.json<{ token: string }>();
    expect((await register(app, body, { Authorization: `Bearer ${token}` })).status).toBe(201);
    expect(await errorOf(await register(app, body, { Authorization: `Bearer ${token}` }))).toMatchObject({ status: 401, error: "invalid_token" });
  });

  it("limits registrations per client address", async () => {
    const app = await mcpApp();
    const from = { "CF-Connecting-IP": "198.51.100.77" };
    const send = () => SELF.fetch(`${app.origin}/oauth2/register`, { method: "POST", headers: { "Content-Type": "application/json", ...from }, body: JSON.stringify({ redirect_uris: [CB], token_endpoint_auth_method: "none" }) });
    for (let i = 0; i < 20; i++) expect((await send()).status).toBe(201);
    const limited = await send();
    expect(await errorOf(limited)).toMatchObject({ status: 429, error: "slow_down" });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("RFC 7592 management", () => {
  const manage = (app: OAuthTestApp, id: string, token: string, init: RequestInit = {}) =>
    SELF.fetch(`${app.origin}/oauth2/register/${id}`, { ...init, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...(init.headers ?? {}) } });

  it("reads, replaces and deletes a registration with its token only", async () => {
    const app = await mcpApp();
    const reg = await registered(app);
    const other = await registered(app);
    const read = await manage(app, reg.client_id, reg.registration_access_token);
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ client_id: reg.client_id, redirect_uris: [CB], client_name: "Agent" });
    expect(await errorOf(await manage(app, reg.client_id, other.registration_access_token))).toMatchObject({ status: 401, error: "invalid_token" });
    expect(await errorOf(await manage(app, "0".repeat(32), reg.registration_access_token))).toMatchObject({ status: 401, error: "invalid_token" });

    const metadata = { client_id: reg.client_id, redirect_uris: ["http://127.0.0.1:9999/new"], client_name: "Agent 2", token_endpoint_auth_method: "none", grant_types: ["authorization_code"] };
    const put = await manage(app, reg.client_id, reg.registration_access_token, { method: "PUT", body: JSON.stringify(metadata) });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ redirect_uris: ["http://127.0.0.1:9999/new"], client_name: "Agent 2", grant_types: ["authorization_code"] });
    for (const bad of [{ ...metadata, client_id: other.client_id }, { ...metadata, registration_access_token: "x" }, { ...metadata, token_endpoint_auth_method: "client_secret_post" }]) {
      const res = await manage(app, reg.client_id, reg.registration_access_token, { method: "PUT", body: JSON.stringify(bad) });
      expect(await errorOf(res), JSON.stringify(bad)).toMatchObject({ status: 400, error: "invalid_client_metadata" });
    }
    expect(await errorOf(await manage(app, reg.client_id, reg.registration_access_token, { method: "PUT", body: JSON.stringify({ ...metadata, redirect_uris: ["http://evil.example/cb"] }) }))).toMatchObject({ status: 400, error: "invalid_redirect_uri" });

    const del = await manage(app, reg.client_id, reg.registration_access_token, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(await errorOf(await manage(app, reg.client_id, reg.registration_access_token))).toMatchObject({ status: 401, error: "invalid_token" });
    const page = await SELF.fetch(`${app.origin}${authorizePath({ response_type: "code", client_id: reg.client_id, redirect_uri: "http://127.0.0.1:9999/new", code_challenge: (await pkce()).challenge, code_challenge_method: "S256" })}`, { redirect: "manual" });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("invalid_client");
  });

  it("an operator client cannot be managed through RFC 7592, and an unused dynamic client expires", async () => {
    const app = await mcpApp({ registration_client_ttl: 86400 });
    const operator = await addClient(app);
    expect(await errorOf(await manage(app, operator.client_id, "x".repeat(43)))).toMatchObject({ status: 401, error: "invalid_token" });
    const reg = await registered(app);
    await env.DB.prepare("UPDATE clients SET last_used_at = ? WHERE id = ?").bind(Date.now() - 86_401_000, reg.client_id).run();
    const refused = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: "x", client_id: reg.client_id });
    expect(await errorOf(refused)).toMatchObject({ status: 401, error: "invalid_client" });
  });
});

describe("the consent screen", () => {
  it("is shown to third-party clients; deny sends access_denied, allow a code, and it is remembered", async () => {
    const app = await mcpApp();
    const reg = await registered(app);
    const user = await newUser(app);
    const denied = await signInThroughConsent(app, reg.client_id, user, "deny");
    expect(Object.fromEntries(denied.params)).toMatchObject({ error: "access_denied", state: "s-1", iss: app.origin });
    expect(denied.params.get("code")).toBeNull();

    const allowed = await signInThroughConsent(app, reg.client_id, user, "allow", {}, denied.browser);
    const code = allowed.params.get("code")!;
    expect(code).toBeTruthy();
    const token = await tokenRequest(app, { grant_type: "authorization_code", code, redirect_uri: CB, code_verifier: allowed.verifier, client_id: reg.client_id, resource: MCP });
    expect(token.status).toBe(200);
    const body = await token.json<{ access_token: string; refresh_token: string }>();
    expect(decodeJwt(body.access_token).payload).toMatchObject({ aud: MCP, azp: reg.client_id, sub: user._id });
    expect(body.refresh_token).toBeTypeOf("string");

    // Remembered: the same request now gets a code straight from the session.
    const again = await allowed.browser.fetch(authorizePath({ response_type: "code", client_id: reg.client_id, redirect_uri: CB, scope: "openid", code_challenge: (await pkce()).challenge, code_challenge_method: "S256", resource: MCP }));
    expect(redirectParams(again).get("code")).toBeTruthy();
    // Asking for more (email) asks again.
    const more = await allowed.browser.fetch(authorizePath({ response_type: "code", client_id: reg.client_id, redirect_uri: CB, scope: "openid email", code_challenge: (await pkce()).challenge, code_challenge_method: "S256", prompt: "none" }));
    expect(Object.fromEntries(redirectParams(more))).toMatchObject({ error: "consent_required" });

    // Revoked through the management API: the screen comes back and the chain ends.
    const listed = await okJson(api(app, `/users/${user._id}/consents`));
    expect(listed.consents).toEqual([expect.objectContaining({ client_id: reg.client_id, scopes: ["openid", "offline"], resources: [MCP] })]);
    const revoked = await okJson(api(app, `/users/${user._id}/consents/${reg.client_id}`, { method: "DELETE" }));
    expect(revoked.chains_ended).toBe(1);
    expect(await apiError(api(app, `/users/${user._id}/consents/${reg.client_id}`, { method: "DELETE" }))).toMatchObject({ status: 404, code: "CONSENT_NOT_FOUND" });
    const refresh = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: body.refresh_token, client_id: reg.client_id });
    expect(await errorOf(refresh)).toMatchObject({ status: 400, error: "invalid_grant" });
    const asked = await allowed.browser.fetch(authorizePath({ response_type: "code", client_id: reg.client_id, redirect_uri: CB, scope: "openid", code_challenge: (await pkce()).challenge, code_challenge_method: "S256" }));
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain("Allow Agent?");
  });

  it("refuses a consent answer without the form's CSRF token or from another site", async () => {
    const app = await mcpApp();
    const reg = await registered(app);
    const browser = new Browser(app);
    const form = new URLSearchParams({ response_type: "code", client_id: reg.client_id, redirect_uri: CB, code_challenge: (await pkce()).challenge, code_challenge_method: "S256", decision: "allow", csrf: "nope" });
    expect((await browser.post("/oauth2/consent", form, { Origin: "https://evil.example" })).status).toBe(403);
    expect((await browser.post("/oauth2/consent", form, { Origin: app.origin })).status).toBe(403);
  });

  it("is never shown to first-party (operator) clients", async () => {
    const app = await mcpApp();
    const client = await addClient(app, { redirect_uris: [CB] });
    const user = await newUser(app);
    const browser = new Browser(app);
    const page = await browser.fetch(authorizePath({ response_type: "code", client_id: client.client_id, redirect_uri: CB, scope: "openid", code_challenge: (await pkce()).challenge, code_challenge_method: "S256", resource: MCP }));
    const form = hiddenFields(await page.text());
    form.set("username", user.username);
    form.set("password", user.password);
    const res = await browser.post("/oauth2/auth", form, { Origin: app.origin });
    expect(redirectParams(res).get("code")).toBeTruthy();
  });
});

describe("resources and audiences (RFC 8707, issue 18)", () => {
  it("refuses an unknown resource or audience with invalid_target, at the authorization and token endpoints", async () => {
    const app = await mcpApp();
    const client = await addClient(app, { redirect_uris: [CB], audiences: ["https://api.example"] });
    const base = { response_type: "code", client_id: client.client_id, redirect_uri: CB, state: "st", code_challenge: (await pkce()).challenge, code_challenge_method: "S256" };
    const refused: Record<string, string>[] = [{ resource: "https://other.example/mcp" }, { audience: "https://anything.example" }, { resource: `${MCP}/` }, { resource: "relative/path" }];
    for (const extra of refused) {
      const res = await SELF.fetch(`${app.origin}${authorizePath({ ...base, ...extra })}`, { redirect: "manual" });
      expect(Object.fromEntries(redirectParams(res)), JSON.stringify(extra)).toMatchObject({ error: "invalid_target", state: "st" });
    }
    const m2m = await addClient(app, { type: "m2m", redirect_uris: [], scopes: ["read:users"] });
    const cc = await tokenRequest(app, { grant_type: "client_credentials", audience: "https://anything.example" }, { Authorization: basicAuth(m2m.client_id, m2m.client_secret!) });
    expect(await errorOf(cc)).toMatchObject({ status: 400, error: "invalid_target" });
    const ccResource = await tokenRequest(app, { grant_type: "client_credentials", resource: MCP }, { Authorization: basicAuth(m2m.client_id, m2m.client_secret!) });
    expect(decodeJwt((await ccResource.json<{ access_token: string }>()).access_token).payload.aud).toBe(MCP);
  });

  it("a token request and a refresh may narrow the resources, never widen them", async () => {
    const app = await mcpApp({ resources: [MCP, "https://files.example/mcp"] });
    const client = await addClient(app, { redirect_uris: [CB] });
    const user = await newUser(app);
    const browser = new Browser(app);
    const { verifier, challenge } = await pkce();
    const params = new URLSearchParams({ response_type: "code", client_id: client.client_id, redirect_uri: CB, scope: "openid offline", code_challenge: challenge, code_challenge_method: "S256" });
    params.append("resource", MCP);
    params.append("resource", "https://files.example/mcp");
    const page = await browser.fetch(`/oauth2/auth?${params}`);
    const form = hiddenFields(await page.text());
    expect(form.getAll("resource")).toEqual([MCP, "https://files.example/mcp"]);
    form.set("username", user.username);
    form.set("password", user.password);
    const code = redirectParams(await browser.post("/oauth2/auth", form, { Origin: app.origin })).get("code")!;
    const exchange = { grant_type: "authorization_code", code, redirect_uri: CB, code_verifier: verifier, client_id: client.client_id };
    const tokens = await (await tokenRequest(app, exchange)).json<{ access_token: string; refresh_token: string }>();
    expect(decodeJwt(tokens.access_token).payload.aud).toEqual([MCP, "https://files.example/mcp"]);

    const narrowed = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: client.client_id, resource: MCP });
    expect(narrowed.status).toBe(200);
    const one = await narrowed.json<{ access_token: string; refresh_token: string }>();
    expect(decodeJwt(one.access_token).payload.aud).toBe(MCP);
    // The chain keeps both: the next refresh may name the other one.
    const other = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: one.refresh_token, client_id: client.client_id, resource: "https://files.example/mcp" });
    const two = await other.json<{ access_token: string; refresh_token: string }>();
    expect(decodeJwt(two.access_token).payload.aud).toBe("https://files.example/mcp");
    const widened = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: two.refresh_token, client_id: client.client_id, resource: "https://third.example/mcp" });
    expect(await errorOf(widened)).toMatchObject({ status: 400, error: "invalid_target" });
  });

  it("refuses a code exchange for a resource the code was not issued for", async () => {
    const app = await mcpApp({ resources: [MCP, "https://files.example/mcp"] });
    const client = await addClient(app, { redirect_uris: [CB] });
    const user = await newUser(app);
    const browser = new Browser(app);
    const { verifier, challenge } = await pkce();
    const page = await browser.fetch(authorizePath({ response_type: "code", client_id: client.client_id, redirect_uri: CB, scope: "openid", code_challenge: challenge, code_challenge_method: "S256", resource: MCP }));
    const form = hiddenFields(await page.text());
    form.set("username", user.username);
    form.set("password", user.password);
    const code = redirectParams(await browser.post("/oauth2/auth", form, { Origin: app.origin })).get("code")!;
    const res = await tokenRequest(app, { grant_type: "authorization_code", code, redirect_uri: CB, code_verifier: verifier, client_id: client.client_id, resource: "https://files.example/mcp" });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "invalid_target" });
  });
});

describe("metadata-document clients: refusals before any fetch", () => {
  it("refuses private, link-local and loopback-https targets and URLs while the app has them off", async () => {
    const app = await mcpApp({ client_id_metadata_documents: "on" });
    for (const id of ["https://10.0.0.8/client.json", "https://169.254.169.254/latest/meta-data/client.json", "https://[fd00::1]/client.json", "https://metadata.internal/client.json", "https://agent.example/"]) {
      const page = await SELF.fetch(`${app.origin}${authorizePath({ response_type: "code", client_id: id, redirect_uri: CB, code_challenge: (await pkce()).challenge, code_challenge_method: "S256" })}`, { redirect: "manual" });
      expect(page.status, id).toBe(400);
      expect(page.headers.get("location")).toBeNull();
      expect(await page.text()).toContain("invalid_client");
      const token = await tokenRequest(app, { grant_type: "authorization_code", code: "x", redirect_uri: CB, client_id: id });
      expect(await errorOf(token)).toMatchObject({ status: 401, error: "invalid_client" });
    }
    const off = await mcpApp();
    const page = await SELF.fetch(`${off.origin}${authorizePath({ response_type: "code", client_id: "https://agent.example/client.json", redirect_uri: CB, code_challenge: (await pkce()).challenge, code_challenge_method: "S256" })}`, { redirect: "manual" });
    expect(page.status).toBe(400);
  });
});
