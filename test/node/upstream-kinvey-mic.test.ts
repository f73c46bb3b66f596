/**
 * Kinvey Mobile Identity Connect with the unmodified kinvey-node-sdk@3.12.5: `loginWithMIC`
 * (the API grant, the one the Node SDK can run: it has no popup) signs in through the
 * hosted password form; the login-page grant's URL, as the SDK builds it for platforms with
 * a popup, signs in through an upstream connection (a real oidc-provider), and the SDK's
 * own `connectIdentity("kinveyAuth", session)` turns that MIC session into a Kinvey user.
 */
import dns from "node:dns";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startWorker, type RunningWorker } from "./harness";
import { createClient, createOAuthApp, Jar, kinveySignup, resolveLocalhostSubdomains, type OAuthApp } from "./oauth-helpers";
import { follow, startUpstream, type TestUpstream } from "./upstream-provider";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Kinvey = (await import("kinvey-node-sdk")).default as any;

const MIC_REDIRECT = "http://127.0.0.1:3999/mic-callback";
let worker: RunningWorker;
let app: OAuthApp;
let upstream: TestUpstream;
let connection: string;

/** The SDK's HTTP client (`request`) resolves names itself: `{slug}.localhost` is loopback here. */
function resolveLocalhostForRequest(): void {
  const original = dns.lookup;
  (dns as { lookup: unknown }).lookup = function (host: string, options: unknown, callback?: unknown) {
    const cb = (typeof options === "function" ? options : callback) as (...args: unknown[]) => void;
    const opts = (typeof options === "object" && options !== null ? options : {}) as { all?: boolean };
    if (/\.localhost$/i.test(host)) return opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4);
    return (original as (...args: unknown[]) => void).call(dns, host, options, callback);
  };
}

beforeAll(async () => {
  resolveLocalhostSubdomains();
  resolveLocalhostForRequest();
  worker = await startWorker();
  app = await createOAuthApp(worker.url, { name: "MIC App", settings: { mic_redirect_uris: [MIC_REDIRECT] } });
  upstream = await startUpstream([`${app.origin}/upstream/callback`], [{ sub: "mic-upstream", email: "mic@upstream.test", email_verified: true }]);
  const res = await fetch(`${worker.url}/admin/apps/${app.id}/connections`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ strategy: "oidc:custom", name: "micidp", options: { client_id: upstream.clientId, client_secret: upstream.clientSecret, issuer: upstream.issuer } }),
  });
  connection = ((await res.json()) as { id: string }).id;
  Kinvey.init({ appKey: app.id, appSecret: app.app_secret, apiHostname: worker.url, micHostname: app.origin });
});

afterAll(async () => {
  await upstream?.close();
  await worker?.dispose();
});

describe("Kinvey Mobile Identity Connect", () => {
  it("loginWithMIC (API grant) signs in through the hosted password form", async () => {
    const username = `mic-${Date.now()}`;
    const signed = await kinveySignup(worker.url, app, username, "mic password 1");
    const user = await Kinvey.User.loginWithMIC(MIC_REDIRECT, Kinvey.AuthorizationGrant.AuthorizationCodeAPI, { username, password: "mic password 1" });
    expect(user._id).toBe(signed._id);
    expect(user.authtoken).toBeTruthy();
    expect(user.data._socialIdentity.kinveyAuth.access_token).toBeTruthy();
    const me = await Kinvey.User.me();
    expect(me.data.username).toBe(username);
    await Kinvey.User.logout();

    await expect(Kinvey.User.loginWithMIC(MIC_REDIRECT, Kinvey.AuthorizationGrant.AuthorizationCodeAPI, { username, password: "wrong" })).rejects.toBeTruthy();
    expect(Kinvey.User.getActiveUser()).toBeNull();
  });

  it("the login-page grant signs in through an upstream connection; the SDK's connectIdentity makes it a Kinvey session", async () => {
    const clientId = `${app.id}.${connection}`;
    // The URL MobileIdentityConnect.requestCodeWithPopup opens.
    const start = `${app.origin}/v3/oauth/auth?${new URLSearchParams({ client_id: clientId, redirect_uri: MIC_REDIRECT, response_type: "code", scope: "openid" })}`;
    const end = await follow(new Jar(), start, { login: "mic-upstream", stopAt: MIC_REDIRECT, provider: upstream.issuer });
    const code = end.url.searchParams.get("code");
    expect(code).toBeTruthy();
    // MobileIdentityConnect.requestToken: Basic {clientId}:{appSecret} at {micHost}/oauth/token.
    const tokenRes = await fetch(`${app.origin}/oauth/token`, {
      method: "POST",
      headers: { Authorization: `Basic ${btoa(`${clientId}:${app.app_secret}`)}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: clientId, redirect_uri: MIC_REDIRECT, code: code! }),
    });
    expect(tokenRes.status).toBe(200);
    const session = { ...((await tokenRes.json()) as Record<string, unknown>), identity: "kinveyAuth", client_id: clientId, redirect_uri: MIC_REDIRECT };
    const user = await Kinvey.User.connectIdentity("kinveyAuth", session);
    expect(user.authtoken).toBeTruthy();
    expect(user.data.email).toBe("mic@upstream.test");
    const me = await Kinvey.User.me();
    expect(me._id).toBe(user._id);
    await Kinvey.User.logout();
  });

  it("refuses tokens of other clients, forged tickets and unregistered redirect URIs", async () => {
    const appAuth = `Basic ${btoa(`${app.id}:${app.app_secret}`)}`;
    const login = (body: unknown) => fetch(`${worker.url}/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth, "Content-Type": "application/json" }, body: JSON.stringify(body) });

    const garbage = await login({ _socialIdentity: { kinveyAuth: { access_token: "not.a.token" } } });
    expect(garbage.status).toBe(401);
    expect(((await garbage.json()) as { error: string }).error).toBe("InvalidCredentials");
    const other = await login({ _socialIdentity: { facebook: { access_token: "x" } } });
    expect(other.status).toBe(400);

    // An access token of another client of the same app is no MIC token.
    const m2m = await createClient(worker.url, app.id, { name: "m2m", type: "m2m", scopes: ["read:users"] });
    const cc = await fetch(`${app.origin}/oauth2/token`, {
      method: "POST",
      headers: { Authorization: `Basic ${btoa(`${m2m.client_id}:${m2m.client_secret}`)}` },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    const foreign = await login({ _socialIdentity: { kinveyAuth: { access_token: ((await cc.json()) as { access_token: string }).access_token } } });
    expect(foreign.status).toBe(401);

    const unregistered = await fetch(`${app.origin}/v3/oauth/auth`, {
      method: "POST",
      body: new URLSearchParams({ client_id: app.id, redirect_uri: "http://127.0.0.1:3999/elsewhere", response_type: "code" }),
    });
    expect(unregistered.status).toBe(400);
    expect(((await unregistered.json()) as { error: string }).error).toBe("invalid_request");

    const forged = await fetch(`${app.origin}/oauth2/auth?mic_ticket=${Date.now() + 60_000}.${"A".repeat(43)}`, {
      method: "POST",
      body: new URLSearchParams({ client_id: app.id, redirect_uri: MIC_REDIRECT, response_type: "code", scope: "openid", username: "x", password: "y" }),
      redirect: "manual",
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get("location")).toBeNull();
  });
});
