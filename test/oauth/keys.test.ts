/** Discovery, JWKS, per-app keys (encrypted at rest, rotation, algs) and CORS (SPEC §4, §9). */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { openJwk } from "../../worker/keys/seal";
import { ADMIN } from "../helpers";
import { addClient, decodeJwt, newUser, oauthApp, tokenRequest, tokensFor, type OAuthTestApp } from "./helpers";

type Jwk = Record<string, string>;
const jwksOf = async (app: OAuthTestApp) => (await (await SELF.fetch(`${app.origin}/.well-known/jwks.json`)).json<{ keys: Jwk[] }>()).keys;
const rotate = (app: OAuthTestApp, headers: Record<string, string> = ADMIN) => SELF.fetch(`http://127.0.0.1:8787/admin/apps/${app.id}/keys/rotate`, { method: "POST", headers });
const userinfo = (app: OAuthTestApp, token: string) => SELF.fetch(`${app.origin}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${token}` } });

describe("discovery", () => {
  it("serves the same per-app metadata under both well-known names", async () => {
    const app = await oauthApp({ settings: { signing_alg: "RS256" } });
    const a = await SELF.fetch(`${app.origin}/.well-known/openid-configuration`);
    const b = await SELF.fetch(`${app.origin}/.well-known/oauth-authorization-server`);
    expect(a.status).toBe(200);
    const meta = await a.json<Record<string, unknown>>();
    expect(await b.json()).toEqual(meta);
    expect(meta).toMatchObject({
      issuer: app.origin,
      authorization_endpoint: `${app.origin}/oauth2/auth`,
      token_endpoint: `${app.origin}/oauth2/token`,
      userinfo_endpoint: `${app.origin}/oauth2/userinfo`,
      jwks_uri: `${app.origin}/.well-known/jwks.json`,
      revocation_endpoint: `${app.origin}/oauth2/revoke`,
      introspection_endpoint: `${app.origin}/oauth2/introspect`,
      end_session_endpoint: `${app.origin}/logout`,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    });
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(["openid", "profile", "email", "offline"]));
    expect((meta.id_token_signing_alg_values_supported as string[])[0]).toBe("RS256");
  });
});

describe("signing keys", () => {
  it("publishes RSA keys with kty, kid, alg and use, never private parts, and caches the JWKS", async () => {
    const app = await oauthApp({ settings: { signing_alg: "RS256" } });
    const res = await SELF.fetch(`${app.origin}/.well-known/jwks.json`);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const { keys } = await res.json<{ keys: Jwk[] }>();
    expect(keys).toHaveLength(2); // active + next
    for (const k of keys) {
      expect(k).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
      expect(k.kid).toMatch(/^[A-Za-z0-9]{20}$/);
      for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) expect(k[secret]).toBeUndefined();
    }
    expect(await (await SELF.fetch(`${app.origin}/.well-known/jwks`)).json()).toEqual({ keys });
  });

  it("stores private keys encrypted under the deployment secret, bound to app and kid", async () => {
    const app = await oauthApp();
    await jwksOf(app);
    const rows = (await env.DB.prepare("SELECT kid, private_jwk FROM signing_keys WHERE app_id = ?").bind(app.id).all<{ kid: string; private_jwk: string }>()).results;
    expect(rows).toHaveLength(2);
    const [row] = rows;
    expect(row!.private_jwk).toMatch(/^v1\./);
    expect(row!.private_jwk).not.toContain('"d"');
    const jwk = await openJwk(env, app.id, row!.kid, row!.private_jwk);
    expect(jwk.d).toBeTypeOf("string");
    await expect(openJwk({ KEY_ENCRYPTION_SECRET: "another deployment secret!!" }, app.id, row!.kid, row!.private_jwk)).rejects.toThrow();
    await expect(openJwk(env, "kid_other", row!.kid, row!.private_jwk)).rejects.toThrow();
    await expect(openJwk(env, app.id, rows[1]!.kid, row!.private_jwk)).rejects.toThrow();
  });

  it("headers encode without - or _ (Kinde's validator uses atob)", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const t = await tokensFor(app, client, await newUser(app));
    for (const token of [t.access_token, t.id_token!]) expect(token.split(".")[0]).not.toMatch(/[-_]/);
  });

  it("rotation signs with the published next key and keeps the retired key until its tokens expire", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const before = await tokensFor(app, client, user);
    const oldKid = decodeJwt(before.access_token).header.kid;
    const published = (await jwksOf(app)).map((k) => k.kid);
    const nextKid = published.find((k) => k !== oldKid);

    expect((await rotate(app, {})).status).toBe(401);
    const res = await rotate(app);
    expect(res.status).toBe(200);
    const rotated = await res.json<{ kid: string; next_kid: string; retired_kid: string }>();
    expect(rotated.kid).toBe(nextKid);
    expect(rotated.retired_kid).toBe(oldKid);
    expect((await jwksOf(app)).map((k) => k.kid).sort()).toEqual([oldKid, rotated.kid, rotated.next_kid].sort());

    const after = await tokensFor(app, client, user);
    expect(decodeJwt(after.access_token).header.kid).toBe(rotated.kid);
    expect((await userinfo(app, before.access_token)).status).toBe(200);
    expect((await userinfo(app, after.access_token)).status).toBe(200);

    const row = await env.DB.prepare("SELECT status, expires_at FROM signing_keys WHERE kid = ?").bind(oldKid).first<{ status: string; expires_at: number }>();
    expect(row!.status).toBe("retired");
    expect(row!.expires_at).toBeGreaterThan(Date.now() + 900_000);

    // Once its last token has expired the retired key leaves the JWKS.
    await env.DB.prepare("UPDATE signing_keys SET expires_at = ? WHERE kid = ?").bind(Date.now() - 1, oldKid).run();
    const { clearKeyCache } = await import("../../worker/keys/store");
    clearKeyCache(app.id);
    expect((await jwksOf(app)).map((k) => k.kid)).not.toContain(oldKid);
  });

  for (const [alg, kty] of [["ES256", "EC"], ["EdDSA", "OKP"]] as const) {
    it(`signs with ${alg} when the app asks for it`, async () => {
      const app = await oauthApp({ settings: { signing_alg: alg } });
      const client = await addClient(app);
      const user = await newUser(app);
      const t = await tokensFor(app, client, user);
      expect(decodeJwt(t.access_token).header.alg).toBe(alg);
      expect(decodeJwt(t.id_token!).header.alg).toBe(alg);
      const keys = await jwksOf(app);
      expect(keys.every((k) => k.kty === kty && k.alg === alg && k.use === "sig")).toBe(true);
      expect((await userinfo(app, t.access_token)).status).toBe(200);
      const hash = alg === "EdDSA" ? "SHA-512" : "SHA-256";
      const digest = new Uint8Array(await crypto.subtle.digest(hash, new TextEncoder().encode(t.access_token)));
      const half = btoa(String.fromCharCode(...digest.slice(0, digest.length / 2))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
      expect(decodeJwt(t.id_token!).payload.at_hash).toBe(half);
      const meta = await (await SELF.fetch(`${app.origin}/.well-known/openid-configuration`)).json<{ id_token_signing_alg_values_supported: string[] }>();
      expect(meta.id_token_signing_alg_values_supported[0]).toBe(alg);
    });
  }
});

describe("CORS", () => {
  it("allows registered origins only, on token, userinfo and JWKS", async () => {
    const app = await oauthApp({ settings: { allowed_origins: ["https://app-setting.example"] } });
    const client = await addClient(app, { allowed_origins: ["https://spa.example"] });
    for (const origin of ["https://spa.example", "https://app-setting.example"]) {
      const pre = await SELF.fetch(`${app.origin}/oauth2/token`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST" } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
      const jwks = await SELF.fetch(`${app.origin}/.well-known/jwks.json`, { headers: { Origin: origin } });
      expect(jwks.headers.get("access-control-allow-origin")).toBe(origin);
    }
    const evil = await SELF.fetch(`${app.origin}/oauth2/token`, { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    const res = await tokenRequest(app, { grant_type: "client_credentials", client_id: client.client_id }, { Origin: "https://evil.example" });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const ok = await tokenRequest(app, { grant_type: "client_credentials", client_id: client.client_id }, { Origin: "https://spa.example" });
    expect(ok.status).toBe(400);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://spa.example");
    const ui = await SELF.fetch(`${app.origin}/oauth2/userinfo`, { headers: { Origin: "https://spa.example" } });
    expect(ui.headers.get("access-control-allow-origin")).toBe("https://spa.example");
    expect(ui.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("a client added just after a CORS check is allowed from its origin at once; a refused origin stays refused", async () => {
    const app = await oauthApp();
    await addClient(app, { allowed_origins: ["https://first.example"] });
    const preflight = (origin: string) => SELF.fetch(`${app.origin}/oauth2/token`, { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST" } });
    expect((await preflight("https://first.example")).status).toBe(204);
    expect((await preflight("https://evil.example")).status).toBe(403);
    // The per-isolate cache was filled a moment ago; the new client's origin still works.
    await addClient(app, { allowed_origins: ["https://second.example"] });
    const second = await preflight("https://second.example");
    expect(second.status).toBe(204);
    expect(second.headers.get("access-control-allow-origin")).toBe("https://second.example");
    expect((await preflight("https://evil.example")).status).toBe(403);
  });
});
