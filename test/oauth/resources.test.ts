/** userinfo (and Kinde's user_profile), revocation and introspection (SPEC §4). */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signJwt } from "../../worker/keys/sign";
import { appById } from "../../worker/tenancy/apps";
import { errorOf } from "../helpers";
import { addClient, b64url, basicAuth, decodeJwt, newUser, oauthApp, tokensFor, type OAuthTestApp } from "./helpers";

function userinfo(app: OAuthTestApp, token: string | null, path = "/oauth2/userinfo") {
  return SELF.fetch(`${app.origin}${path}`, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } });
}

function post(app: OAuthTestApp, path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return SELF.fetch(`${app.origin}${path}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(form) });
}

async function expectInvalidToken(res: Response, description: RegExp) {
  expect(res.status).toBe(401);
  const challenge = res.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer realm="[^"]+", error="invalid_token", error_description="/);
  const e = await errorOf(res);
  expect(e.error).toBe("invalid_token");
  expect(String(e.body.error_description)).toMatch(description);
}

const enc = (o: unknown) => b64url(new TextEncoder().encode(JSON.stringify(o)));

describe("userinfo", () => {
  it("returns the user's claims by scope on both paths", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    await env.DB.prepare("UPDATE users SET email = 'u@example.com', profile = ? WHERE id = ?").bind(JSON.stringify({ given_name: "Una", family_name: "User" }), user._id).run();
    const t = await tokensFor(app, client, user);
    for (const path of ["/oauth2/userinfo", "/oauth2/v2/user_profile"]) {
      const res = await userinfo(app, t.access_token, path);
      expect(res.status).toBe(200);
      expect(res.headers.get("www-authenticate")).toBeNull();
      expect(await res.json()).toMatchObject({
        sub: user._id,
        id: user._id,
        email: "u@example.com",
        preferred_email: "u@example.com",
        given_name: "Una",
        first_name: "Una",
        last_name: "User",
        preferred_username: user.username,
      });
    }
    const narrow = await tokensFor(app, client, user, { scope: "openid" });
    const body = await (await userinfo(app, narrow.access_token)).json<Record<string, unknown>>();
    expect(body.email).toBeUndefined();
    const noOpenid = await tokensFor(app, client, user, { scope: "profile" });
    const r = await userinfo(app, noOpenid.access_token);
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
  });

  it("asks for a token without an error code when none is sent", async () => {
    const app = await oauthApp();
    const res = await userinfo(app, null);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer realm="${app.origin}"`);
    const basic = await SELF.fetch(`${app.origin}/oauth2/userinfo`, { headers: { Authorization: "Basic abc" } });
    expect(basic.status).toBe(401);
  });

  it("rejects alg none, HS256 keyed with the public key, expired tokens, other apps' tokens and garbage", async () => {
    const app = await oauthApp({ settings: { signing_alg: "RS256" } }); // HS256 keyed with an RSA public key
    const client = await addClient(app);
    const user = await newUser(app);
    const t = await tokensFor(app, client, user);
    const { header, payload } = decodeJwt(t.access_token);

    const none = `${enc({ ...header, alg: "none" })}.${enc(payload)}.`;
    await expectInvalidToken(await userinfo(app, none), /algorithm/);

    // HS256 with the RSA public key (as its JWK JSON and as PEM text) as the HMAC secret.
    const jwks = await (await SELF.fetch(`${app.origin}/.well-known/jwks.json`)).json<{ keys: Record<string, string>[] }>();
    const pub = jwks.keys.find((k) => k.kid === header.kid)!;
    for (const secret of [JSON.stringify(pub), pub.n!]) {
      const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const input = `${enc({ ...header, alg: "HS256" })}.${enc(payload)}`;
      const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input)));
      await expectInvalidToken(await userinfo(app, `${input}.${b64url(sig)}`), /algorithm/);
    }

    // Tampered payload with the original signature.
    const [h, , s] = t.access_token.split(".");
    await expectInvalidToken(await userinfo(app, `${h}.${enc({ ...payload, sub: "someone-else" })}.${s}`), /signature/);

    // Expired, signed with the app's real key.
    const stored = (await appById(env, app.id))!;
    const now = Math.floor(Date.now() / 1000);
    const expired = await signJwt(env, stored, { typ: "at+jwt" }, { ...payload, iat: now - 100, exp: now - 10 });
    await expectInvalidToken(await userinfo(app, expired), /expired/);

    // An ID token is not an access token.
    await expectInvalidToken(await userinfo(app, t.id_token!), /not an access token/);

    // Another app's token: its kid is unknown here.
    const other = await oauthApp();
    await expectInvalidToken(await userinfo(other, t.access_token), /not signed by this issuer/);

    await expectInvalidToken(await userinfo(app, "not-a-jwt"), /malformed/);
  });
});

describe("revocation", () => {
  it("answers exactly 200 for unknown tokens, access tokens and other clients' tokens", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const other = await addClient(app);
    const user = await newUser(app);
    const t = await tokensFor(app, client, user);
    for (const token of ["garbage", t.access_token, "YQ.YQ.0123456789abcdef01234567.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]) {
      const res = await post(app, "/oauth2/revoke", { token, client_id: client.client_id });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("");
    }
    // Another client's revocation does not end the chain.
    expect((await post(app, "/oauth2/revoke", { token: t.refresh_token!, client_id: other.client_id })).status).toBe(200);
    const still = await post(app, "/oauth2/token", { grant_type: "refresh_token", refresh_token: t.refresh_token!, client_id: client.client_id });
    expect(still.status).toBe(200);
  });

  it("needs client authentication and a token", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { type: "confidential" });
    const noAuth = await post(app, "/oauth2/revoke", { token: "x" });
    expect((await errorOf(noAuth)).error).toBe("invalid_client");
    const bad = await post(app, "/oauth2/revoke", { token: "x" }, { Authorization: basicAuth(client.client_id, "Z".repeat(50)) });
    expect(bad.status).toBe(401);
    const noToken = await post(app, "/oauth2/revoke", {}, { Authorization: basicAuth(client.client_id, client.client_secret!) });
    expect((await errorOf(noToken)).error).toBe("invalid_request");
  });
});

describe("introspection", () => {
  it("is refused to public clients and answers confidential ones", async () => {
    const app = await oauthApp();
    const spa = await addClient(app);
    const web = await addClient(app, { type: "confidential" });
    const user = await newUser(app);
    const t = await tokensFor(app, spa, user);
    const refused = await post(app, "/oauth2/introspect", { token: t.access_token, client_id: spa.client_id });
    expect(refused.status).toBe(401);
    expect((await errorOf(refused)).error).toBe("invalid_client");

    const auth = { Authorization: basicAuth(web.client_id, web.client_secret!) };
    const active = await post(app, "/oauth2/introspect", { token: t.access_token }, auth);
    expect(active.status).toBe(200);
    expect(active.headers.get("cache-control")).toBe("no-store");
    expect(await active.json()).toMatchObject({ active: true, client_id: spa.client_id, sub: user._id, token_type: "Bearer", scope: "openid profile email offline" });
    for (const token of ["garbage", t.refresh_token!, t.id_token!]) {
      const res = await post(app, "/oauth2/introspect", { token }, auth);
      expect(await res.json()).toEqual({ active: false });
    }
  });
});
