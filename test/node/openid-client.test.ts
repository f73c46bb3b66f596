/**
 * The unmodified openid-client v6 against the running worker (SPEC §4): discovery, PKCE
 * authorization URL, the hosted form, code exchange with ID-token validation, userinfo,
 * refresh, revocation and client credentials. oauth4webapi's RFC 9068 validator accepts
 * our access tokens.
 */
import * as client from "openid-client";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "./harness";
import { createClient, createOAuthApp, Jar, kinveySignup, resolveLocalhostSubdomains, signInThroughForm, type OAuthApp } from "./oauth-helpers";

let worker: RunningWorker;
let app: OAuthApp;
const REDIRECT = "http://127.0.0.1:9999/callback";
const insecure = { execute: [client.allowInsecureRequests] };

beforeAll(async () => {
  resolveLocalhostSubdomains();
  worker = await startWorker();
  app = await createOAuthApp(worker.url, { name: "OIDC App" });
});

afterAll(async () => {
  await worker?.dispose();
});

describe("openid-client v6", () => {
  it("runs the PKCE code flow of a public client end to end", async () => {
    const registered = await createClient(worker.url, app.id, { name: "spa", type: "public", redirect_uris: [REDIRECT], post_logout_redirect_uris: ["http://127.0.0.1:9999/bye"] });
    const user = await kinveySignup(worker.url, app, "alice", "alice password 1", { email: "alice@example.com", name: "Alice Liddell", given_name: "Alice" });

    const config = await client.discovery(new URL(app.origin), registered.client_id, undefined, client.None(), insecure);
    expect(config.serverMetadata().issuer).toBe(app.origin);
    expect(config.serverMetadata().code_challenge_methods_supported).toEqual(["S256"]);

    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: "openid profile email offline",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    const jar = new Jar();
    const callback = await signInThroughForm(jar, url, { username: "alice", password: "alice password 1" });
    expect(callback.origin + callback.pathname).toBe(REDIRECT);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(user._id);
    expect(claims.email).toBe("alice@example.com");
    expect(claims.name).toBe("Alice Liddell");
    expect(claims.sid).toBeTypeOf("string");
    expect(tokens.refresh_token).toBeTypeOf("string");

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: user._id, email: "alice@example.com", given_name: "Alice" });

    // oauth4webapi's RFC 9068 validator accepts the access token for the client id audience.
    const as = config.serverMetadata() as oauth.AuthorizationServer;
    const validated = await oauth.validateJwtAccessToken(as, new Request("http://api.local/", { headers: { authorization: `Bearer ${tokens.access_token}` } }), registered.client_id, {
      [oauth.allowInsecureRequests]: true,
    });
    expect(validated.sub).toBe(user._id);

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTypeOf("string");
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(user._id);

    await client.tokenRevocation(config, refreshed.refresh_token!);
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({ error: "invalid_grant" });

    // A second authorization is answered from the browser session, without the form.
    const again = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      prompt: "none",
    });
    const silent = await jar.fetch(again);
    expect(silent.status).toBe(302);
    expect(new URL(silent.headers.get("location")!).searchParams.get("code")).toBeTruthy();

    // RP-initiated logout ends the session; prompt=none then answers login_required.
    const end = client.buildEndSessionUrl(config, { post_logout_redirect_uri: "http://127.0.0.1:9999/bye", id_token_hint: tokens.id_token!, state: "bye" });
    const out = await jar.fetch(end);
    expect(out.status).toBe(302);
    expect(out.headers.get("location")).toBe("http://127.0.0.1:9999/bye?state=bye");
    const after = await jar.fetch(again);
    expect(new URL(after.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("exchanges a code with client_secret_basic and introspects the token", async () => {
    const registered = await createClient(worker.url, app.id, { name: "web", type: "confidential", redirect_uris: [REDIRECT] });
    await kinveySignup(worker.url, app, "bob", "bob password 1");
    const config = await client.discovery(new URL(app.origin), registered.client_id, undefined, client.ClientSecretBasic(registered.client_secret!), insecure);
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: "openid email",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      nonce,
    });
    const callback = await signInThroughForm(new Jar(), url, { username: "bob", password: "bob password 1" });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce });
    expect(tokens.refresh_token).toBeUndefined();
    const intro = await client.tokenIntrospection(config, tokens.access_token);
    expect(intro.active).toBe(true);
    expect(intro.client_id).toBe(registered.client_id);
  });

  it("gets a management token with client credentials", async () => {
    const m2m = await createClient(worker.url, app.id, { name: "svc", type: "m2m", scopes: ["read:users", "create:users"] });
    const config = await client.discovery(new URL(app.origin), m2m.client_id, m2m.client_secret!, undefined, insecure);
    const tokens = await client.clientCredentialsGrant(config, { scope: "read:users" });
    expect(tokens.token_type).toBe("bearer");
    expect(tokens.scope).toBe("read:users");
    const as = config.serverMetadata() as oauth.AuthorizationServer;
    const validated = await oauth.validateJwtAccessToken(as, new Request("http://api.local/", { headers: { authorization: `Bearer ${tokens.access_token}` } }), `${app.origin}/api`, {
      [oauth.allowInsecureRequests]: true,
    });
    expect(validated.sub).toBe(m2m.client_id);
  });
});
