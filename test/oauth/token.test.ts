/** /oauth2/token (SPEC §4): grants, client authentication, and every refusal of the issue. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { errorOf } from "../helpers";
import { addClient, basicAuth, decodeJwt, login, newUser, oauthApp, tokenRequest, tokensFor, type OAuthTestApp, type TestClient } from "./helpers";

async function expectError(res: Response, status: number, error: string) {
  const e = await errorOf(res);
  expect({ status: e.status, error: e.error }).toEqual({ status, error });
  expect(res.headers.get("cache-control")).toBe("no-store");
  return e;
}

function exchange(app: OAuthTestApp, client: TestClient, code: string, verifier: string | null, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return tokenRequest(
    app,
    {
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirect_uris[0]!,
      ...(verifier ? { code_verifier: verifier } : {}),
      client_id: client.client_id,
      ...extra,
    },
    headers,
  );
}

describe("authorization_code grant", () => {
  it("issues access, ID and refresh tokens with the claims of SPEC §4", async () => {
    const app = await oauthApp({ settings: { signing_alg: "RS256" } });
    const client = await addClient(app, { audiences: ["https://api.example"] });
    const user = await newUser(app);
    const t = await tokensFor(app, client, user, { nonce: "n-1", audience: "https://api.example" });
    expect(t.token_type).toBe("Bearer");
    expect(t.expires_in).toBe(900);
    expect(t.scope).toBe("openid profile email offline");
    const at = decodeJwt(t.access_token);
    expect(at.header).toMatchObject({ alg: "RS256", typ: "at+jwt" });
    expect(at.header.kid).toBeTypeOf("string");
    expect(at.payload).toMatchObject({
      iss: app.origin,
      sub: user._id,
      aud: "https://api.example",
      azp: client.client_id,
      client_id: client.client_id,
      scope: "openid profile email offline",
      scp: ["openid", "profile", "email", "offline"],
      app_id: app.id,
      app_slug: app.slug,
      auth_method: "password",
      emailVerified: false,
      permissions: [],
      roles: [],
      feature_flags: {},
    });
    expect(at.payload.jti).toBeTypeOf("string");
    expect(at.payload.sid).toBeTypeOf("string");
    expect((at.payload.exp as number) - (at.payload.iat as number)).toBe(900);
    const id = decodeJwt(t.id_token!);
    expect(id.payload).toMatchObject({ iss: app.origin, sub: user._id, aud: client.client_id, azp: client.client_id, nonce: "n-1", sid: at.payload.sid, preferred_username: user.username });
    expect(id.payload.auth_time).toBeTypeOf("number");
    // at_hash: left half of SHA-256 of the access token.
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(t.access_token)));
    const half = btoa(String.fromCharCode(...digest.slice(0, 16))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expect(id.payload.at_hash).toBe(half);
    expect(t.refresh_token).toBeTypeOf("string");
  });

  it("issues no refresh token without offline (offline_access is a synonym)", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const none = await tokensFor(app, client, user, { scope: "openid profile" });
    expect(none.refresh_token).toBeUndefined();
    const synonym = await tokensFor(app, client, user, { scope: "openid offline_access" });
    expect(synonym.refresh_token).toBeTypeOf("string");
    const noOpenid = await tokensFor(app, client, user, { scope: "profile" });
    expect(noOpenid.id_token).toBeUndefined();
  });

  it("refuses a wrong or missing PKCE verifier, and the code is spent", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const a = await login(app, client, user);
    await expectError(await exchange(app, client, a.code, "x".repeat(43)), 400, "invalid_grant");
    await expectError(await exchange(app, client, a.code, a.verifier), 400, "invalid_grant");
    const b = await login(app, client, user);
    const e = await expectError(await exchange(app, client, b.code, null), 400, "invalid_grant");
    expect(e.body.error_description).toContain("code_verifier");
  });

  it("refuses a verifier for a code issued without a challenge (downgrade)", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { type: "confidential" });
    const user = await newUser(app);
    const l = await login(app, client, user, { code_challenge: "", code_challenge_method: "" });
    const e = await expectError(await exchange(app, client, l.code, "y".repeat(43), { client_secret: client.client_secret! }), 400, "invalid_grant");
    expect(e.body.error_description).toContain("no code_challenge");
    // Without PKCE the confidential client's secret alone exchanges the code.
    const ok = await login(app, client, user, { code_challenge: "", code_challenge_method: "" });
    expect((await exchange(app, client, ok.code, null, { client_secret: client.client_secret! })).status).toBe(200);
  });

  it("a replayed code is refused and revokes the refresh token it issued", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const l = await login(app, client, user);
    const first = await exchange(app, client, l.code, l.verifier);
    expect(first.status).toBe(200);
    const { refresh_token } = await first.json<{ refresh_token: string }>();
    await expectError(await exchange(app, client, l.code, l.verifier), 400, "invalid_grant");
    const refresh = await tokenRequest(app, { grant_type: "refresh_token", refresh_token, client_id: client.client_id });
    await expectError(refresh, 400, "invalid_grant");
  });

  it("refuses a code from another client, an expired code, a mismatched redirect URI, and an unknown code", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const other = await addClient(app);
    const user = await newUser(app);
    const a = await login(app, client, user);
    const e = await expectError(await exchange(app, other, a.code, a.verifier), 400, "invalid_grant");
    expect(e.body.error_description).toContain("another client");

    const b = await login(app, client, user);
    await env.DB.prepare("UPDATE auth_codes SET expires_at = ? WHERE app_id = ? AND consumed_at IS NULL").bind(Date.now() - 1, app.id).run();
    const ex = await expectError(await exchange(app, client, b.code, b.verifier), 400, "invalid_grant");
    expect(ex.body.error_description).toContain("expired");

    const c = await login(app, client, user);
    await expectError(await exchange(app, client, c.code, c.verifier, { redirect_uri: "https://client.example/cb/" }), 400, "invalid_grant");
    await expectError(await exchange(app, client, "A".repeat(43), "v".repeat(43)), 400, "invalid_grant");
    await expectError(await exchange(app, client, c.code, c.verifier, { redirect_uri: "" }), 400, "invalid_request");
  });

  it("codes live at most 60 seconds", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const before = Date.now();
    await login(app, client, user);
    const after = Date.now();
    const row = await env.DB.prepare("SELECT expires_at FROM auth_codes WHERE app_id = ?").bind(app.id).first<{ expires_at: number }>();
    // Issued at some moment during the login, and it lives at most 60 s from then.
    expect(row!.expires_at).toBeLessThanOrEqual(after + 60_000);
    expect(row!.expires_at).toBeGreaterThan(before);
  });
});

describe("client authentication", () => {
  it("accepts client_secret_basic and client_secret_post; refuses a bad or missing secret", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { type: "confidential" });
    const user = await newUser(app);
    const a = await login(app, client, user);
    const basic = await tokenRequest(app, { grant_type: "authorization_code", code: a.code, redirect_uri: client.redirect_uris[0]!, code_verifier: a.verifier }, { Authorization: basicAuth(client.client_id, client.client_secret!) });
    expect(basic.status).toBe(200);
    const b = await login(app, client, user);
    expect((await exchange(app, client, b.code, b.verifier, { client_secret: client.client_secret! })).status).toBe(200);

    const c = await login(app, client, user);
    const bad = await tokenRequest(app, { grant_type: "authorization_code", code: c.code, redirect_uri: client.redirect_uris[0]!, code_verifier: c.verifier }, { Authorization: basicAuth(client.client_id, "X".repeat(50)) });
    await expectError(bad, 401, "invalid_client");
    expect(bad.headers.get("www-authenticate")).toMatch(/^Basic /);
    await expectError(await exchange(app, client, c.code, c.verifier, { client_secret: "wrong" }), 401, "invalid_client");
    await expectError(await exchange(app, client, c.code, c.verifier), 401, "invalid_client");
    // The refusals did not spend the code.
    expect((await exchange(app, client, c.code, c.verifier, { client_secret: client.client_secret! })).status).toBe(200);
    await expectError(
      await exchange(app, client, c.code, c.verifier, { client_secret: client.client_secret! }, { Authorization: basicAuth(client.client_id, client.client_secret!) }),
      400,
      "invalid_request",
    );
  });

  it("refuses a public client that presents a secret, and unknown clients", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const a = await login(app, client, user);
    await expectError(await exchange(app, client, a.code, a.verifier, { client_secret: "A".repeat(50) }), 401, "invalid_client");
    await expectError(await exchange(app, client, a.code, a.verifier, {}, { Authorization: basicAuth(client.client_id, "A".repeat(50)) }), 401, "invalid_client");
    await expectError(await exchange(app, { ...client, client_id: "unknown" }, a.code, a.verifier), 401, "invalid_client");
    await expectError(await tokenRequest(app, { grant_type: "authorization_code", code: a.code }), 401, "invalid_client");
  });

  it("refuses malformed requests with RFC 6749 errors", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    await expectError(await tokenRequest(app, { client_id: client.client_id }), 400, "invalid_request");
    await expectError(await tokenRequest(app, { grant_type: "password", client_id: client.client_id }), 400, "unsupported_grant_type");
    const json = await fetchJson(app);
    await expectError(json, 400, "invalid_request");
  });
});

async function fetchJson(app: OAuthTestApp) {
  const { SELF } = await import("cloudflare:test");
  return SELF.fetch(`${app.origin}/oauth2/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"grant_type":"client_credentials"}' });
}

describe("client_credentials grant", () => {
  it("gives m2m clients a management token and refuses others", async () => {
    const app = await oauthApp();
    const m2m = await addClient(app, { type: "m2m", redirect_uris: [], scopes: ["read:users", "update:users"] });
    const res = await tokenRequest(app, { grant_type: "client_credentials" }, { Authorization: basicAuth(m2m.client_id, m2m.client_secret!) });
    expect(res.status).toBe(200);
    const body = await res.json<{ access_token: string; scope: string; refresh_token?: string; id_token?: string }>();
    expect(body.scope).toBe("read:users update:users");
    expect(body.refresh_token).toBeUndefined();
    expect(body.id_token).toBeUndefined();
    const at = decodeJwt(body.access_token);
    expect(at.payload).toMatchObject({ sub: m2m.client_id, aud: `${app.origin}/api`, client_id: m2m.client_id, scp: ["read:users", "update:users"], gty: ["client_credentials"] });

    const narrow = await tokenRequest(app, { grant_type: "client_credentials", scope: "read:users", client_id: m2m.client_id, client_secret: m2m.client_secret! });
    expect((await narrow.json<{ scope: string }>()).scope).toBe("read:users");
    await expectError(await tokenRequest(app, { grant_type: "client_credentials", scope: "delete:users", client_id: m2m.client_id, client_secret: m2m.client_secret! }), 400, "invalid_scope");

    const web = await addClient(app, { type: "confidential" });
    await expectError(await tokenRequest(app, { grant_type: "client_credentials", client_id: web.client_id, client_secret: web.client_secret! }), 400, "unauthorized_client");
  });
});

describe("refresh_token grant", () => {
  it("rotates, honours the overlap window, and refuses after revocation", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const t = await tokensFor(app, client, user);
    const r1 = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: t.refresh_token!, client_id: client.client_id });
    expect(r1.status).toBe(200);
    expect(r1.headers.get("cache-control")).toBe("no-store");
    const b1 = await r1.json<{ refresh_token: string; access_token: string; id_token: string; expires_in: number }>();
    expect(b1.refresh_token).not.toBe(t.refresh_token);
    expect(decodeJwt(b1.access_token).payload.sub).toBe(user._id);
    expect(decodeJwt(b1.id_token).payload.nonce).toBeUndefined();

    // Overlap: the previous token again (a retry) yields the same successor.
    const retry = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: t.refresh_token!, client_id: client.client_id });
    expect(retry.status).toBe(200);
    expect((await retry.json<{ refresh_token: string }>()).refresh_token).toBe(b1.refresh_token);

    // Another client cannot use it.
    const other = await addClient(app);
    await expectError(await tokenRequest(app, { grant_type: "refresh_token", refresh_token: b1.refresh_token, client_id: other.client_id }), 400, "invalid_grant");

    // Scope may narrow, never widen.
    await expectError(await tokenRequest(app, { grant_type: "refresh_token", refresh_token: b1.refresh_token, client_id: client.client_id, scope: "openid admin" }), 400, "invalid_scope");

    const revoke = await tokenRequestAt(app, "/oauth2/revoke", { token: b1.refresh_token, client_id: client.client_id });
    expect(revoke.status).toBe(200);
    const dead = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: b1.refresh_token, client_id: client.client_id });
    const e = await expectError(dead, 400, "invalid_grant");
    expect(e.body.error_description).toContain("revoked");
  });

  it("an older token than the previous one is reuse: the chain is revoked", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const t = await tokensFor(app, client, user);
    const refresh = (token: string) => tokenRequest(app, { grant_type: "refresh_token", refresh_token: token, client_id: client.client_id });
    const r1 = await (await refresh(t.refresh_token!)).json<{ refresh_token: string }>();
    const r2 = await (await refresh(r1.refresh_token)).json<{ refresh_token: string }>();
    const e = await expectError(await refresh(t.refresh_token!), 400, "invalid_grant");
    expect(e.body.error_description).toContain("already used");
    await expectError(await refresh(r2.refresh_token), 400, "invalid_grant");
    const event = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE app_id = ? AND type = 'refresh_token.reuse_detected'").bind(app.id).first<number>("n");
    expect(event).toBe(1);
  });

  it("carries rebuilt claims after invalidation", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const t = await tokensFor(app, client, user);
    await env.DB.prepare("UPDATE users SET email = 'changed@example.com', email_verified = 1 WHERE id = ?").bind(user._id).run();
    const { invalidateUserClaims } = await import("../../worker/chains/api");
    await invalidateUserClaims(env, app.id, user._id);
    const r = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: t.refresh_token!, client_id: client.client_id });
    const body = await r.json<{ access_token: string }>();
    expect(decodeJwt(body.access_token).payload).toMatchObject({ email: "changed@example.com", emailVerified: true });
  });
});

function tokenRequestAt(app: OAuthTestApp, path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return import("cloudflare:test").then(({ SELF }) =>
    SELF.fetch(`${app.origin}${path}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(form) }),
  );
}
