/**
 * Upstream sign-in through a generic OIDC connection, against a real OpenID provider
 * (panva's oidc-provider on loopback, test/node/upstream-provider.ts): the code and tokens
 * at the end, the new-user path, linking by a verified email and the refusal of an
 * unverified one, a tampered ID token, a wrong nonce, a bad state, denied consent, an
 * upstream 5xx, and the identities API.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startWorker, type RunningWorker } from "./harness";
import { createClient, createOAuthApp, Jar, resolveLocalhostSubdomains, type OAuthApp } from "./oauth-helpers";
import { follow, startUpstream, type TestUpstream } from "./upstream-provider";

const REDIRECT = "http://127.0.0.1:3000/callback";
const b64 = (b: Buffer) => b.toString("base64url");
const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;

let worker: RunningWorker;
let app: OAuthApp;
let clientId: string;
let upstream: TestUpstream;
let connection: string;
let tampered: string;

async function admin(path: string, init: { method?: string; json?: unknown } = {}) {
  return fetch(`${worker.url}/admin/apps/${app.id}${path}`, {
    method: init.method ?? (init.json ? "POST" : "GET"),
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: init.json ? JSON.stringify(init.json) : undefined,
  });
}

async function manage(path: string, init: { method?: string; json?: unknown; auth?: string } = {}) {
  return fetch(`${app.origin}/api/v1${path}`, {
    method: init.method ?? (init.json ? "POST" : "GET"),
    headers: { Authorization: init.auth ?? `Basic ${btoa(`${app.id}:${app.master_secret}`)}`, "Content-Type": "application/json" },
    body: init.json ? JSON.stringify(init.json) : undefined,
  });
}

async function usersWithEmail(email: string): Promise<{ id: string }[]> {
  return ((await (await manage(`/users?email=${encodeURIComponent(email)}`)).json()) as { users: { id: string }[] }).users;
}

function authorizeUrl(connectionId: string | null) {
  const verifier = b64(randomBytes(32));
  const url = new URL(`${app.origin}/oauth2/auth`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: "openid profile email",
    state: b64(randomBytes(12)),
    code_challenge: b64(createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
    ...(connectionId ? { connection_id: connectionId } : {}),
  }).toString();
  return { url, verifier };
}

async function exchange(code: string, verifier: string) {
  const res = await fetch(`${app.origin}/oauth2/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** A sign-in through `connectionId` as `login`, to Latch's tokens. */
async function signInThrough(connectionId: string, login: string) {
  const { url, verifier } = authorizeUrl(connectionId);
  const end = await follow(new Jar(), url, { login, stopAt: REDIRECT, provider: upstream.issuer });
  const code = end.url.toString().startsWith(REDIRECT) ? end.url.searchParams.get("code") : null;
  if (!code) return { page: end, tokens: null };
  return { page: end, tokens: await exchange(code, verifier) };
}

beforeAll(async () => {
  resolveLocalhostSubdomains();
  worker = await startWorker();
  app = await createOAuthApp(worker.url, { name: "Upstream App", settings: { upstream_link_by_email: true } });
  clientId = (await createClient(worker.url, app.id, { name: "spa", type: "public", redirect_uris: [REDIRECT] })).client_id;
  upstream = await startUpstream(
    [`${app.origin}/upstream/callback`],
    [
      { sub: "alice-upstream", email: "alice@upstream.test", email_verified: true, name: "Alice Upstream" },
      { sub: "bob-upstream", email: "bob@upstream.test", email_verified: true },
      { sub: "mallory-upstream", email: "carol@upstream.test", email_verified: false },
      { sub: "dave-upstream", email: "dave@upstream.test", email_verified: true },
      { sub: "erin-upstream", email: "erin@upstream.test", email_verified: true },
      { sub: "frank-upstream", email: "frank@upstream.test", email_verified: true },
      { sub: "grace-upstream", email: "grace@upstream.test", email_verified: true },
    ],
  );
  const options = { client_id: upstream.clientId, client_secret: upstream.clientSecret, issuer: upstream.issuer };
  const created = await admin("/connections", { json: { strategy: "oidc:custom", name: "testidp", display_name: "Test IdP", options } });
  expect(created.status).toBe(201);
  connection = ((await created.json()) as { id: string }).id;
  const proxied = await admin("/connections", { json: { strategy: "oidc:custom", name: "proxied", options: { ...options, token_endpoint: upstream.proxyTokenEndpoint } } });
  tampered = ((await proxied.json()) as { id: string }).id;
});

afterAll(async () => {
  await upstream?.close();
  await worker?.dispose();
});

describe("upstream OIDC connection (real oidc-provider)", () => {
  it("signs a new user in through the connection to a Latch code and tokens; the login page shows its button", async () => {
    const page = await new Jar().fetch(authorizeUrl(null).url);
    const html = await page.text();
    expect(html).toContain("Continue with Test IdP");
    expect(html).toContain(`/upstream/${connection}/start?`);

    const { tokens } = await signInThrough(connection, "alice-upstream");
    expect(tokens!.status).toBe(200);
    const id = decode(tokens!.body.id_token!);
    expect(decode(tokens!.body.access_token!).auth_method).toBe("oidc:testidp");
    expect(id.email).toBe("alice@upstream.test");
    const [user] = await usersWithEmail("alice@upstream.test");
    expect(user!.id).toBe(id.sub);
    const full = (await (await manage(`/user?id=${user!.id}`)).json()) as { first_name: string | null };
    expect(full).toBeTruthy();

    // The second sign-in finds the same user through its identity.
    const again = await signInThrough(connection, "alice-upstream");
    expect(decode(again.tokens!.body.id_token!).sub).toBe(id.sub);
    expect(await usersWithEmail("alice@upstream.test")).toHaveLength(1);
  });

  it("links to an existing user by a verified email (both sides verified, the app allows it)", async () => {
    const created = await manage("/user", { json: { identities: [{ type: "email", is_verified: true, details: { email: "bob@upstream.test" } }] } });
    const existing = ((await created.json()) as { id: string }).id;
    const { tokens } = await signInThrough(connection, "bob-upstream");
    expect(decode(tokens!.body.id_token!).sub).toBe(existing);
    const identities = (await (await manage(`/users/${existing}/identities`)).json()) as { identities: { connection_id: string; email: string; type: string }[] };
    expect(identities.identities).toMatchObject([{ connection_id: connection, email: "bob@upstream.test", type: "oidc:custom" }]);
  });

  it("refuses an unverified upstream email that is an existing user's, and makes no user", async () => {
    await manage("/user", { json: { identities: [{ type: "email", is_verified: true, details: { email: "carol@upstream.test" } }] } });
    const { page, tokens } = await signInThrough(connection, "mallory-upstream");
    expect(tokens).toBeNull();
    expect(page.res.status).toBe(409);
    expect(page.body).toContain("email_taken");
    expect(await usersWithEmail("carol@upstream.test")).toHaveLength(1);
  });

  it("refuses to link by email when the app does not allow it", async () => {
    await manage("/user", { json: { identities: [{ type: "email", is_verified: true, details: { email: "erin@upstream.test" } }] } });
    const off = await fetch(`${worker.url}/admin/apps/${app.id}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ settings: { upstream_link_by_email: false } }),
    });
    expect(off.status).toBe(200);
    try {
      const { page } = await signInThrough(connection, "erin-upstream");
      expect(page.res.status).toBe(409);
    } finally {
      await fetch(`${worker.url}/admin/apps/${app.id}`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ settings: { upstream_link_by_email: true } }),
      });
    }
  });

  it("refuses a tampered upstream ID token, and makes no user", async () => {
    upstream.tamper = (body) => {
      const [h, p, s] = String(body.id_token).split(".");
      const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
      payload.email = "dave-tampered@upstream.test";
      return { ...body, id_token: `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}` };
    };
    try {
      const { page, tokens } = await signInThrough(tampered, "dave-upstream");
      expect(tokens).toBeNull();
      expect(page.res.status).toBe(400);
      expect(page.body).toContain("upstream_invalid_token");
      expect(page.body).toContain("signature");
    } finally {
      upstream.tamper = null;
    }
    expect(await usersWithEmail("dave-tampered@upstream.test")).toHaveLength(0);
    expect(await usersWithEmail("dave@upstream.test")).toHaveLength(0);
  });

  it("refuses an ID token with another nonce than the one this sign-in sent", async () => {
    const { url } = authorizeUrl(connection);
    const end = await follow(new Jar(), url, {
      login: "dave-upstream",
      stopAt: REDIRECT,
      provider: upstream.issuer,
      intercept: (u) => (u.origin === upstream.issuer && u.pathname === "/auth" && u.searchParams.has("nonce") ? withParam(u, "nonce", "not-the-nonce") : null),
    });
    expect(end.res.status).toBe(400);
    expect(end.body).toContain("nonce");
    expect(await usersWithEmail("dave@upstream.test")).toHaveLength(0);
  });

  it("refuses a bad state, a replayed callback and a callback in another browser", async () => {
    const forged = await follow(new Jar(), authorizeUrl(connection).url, {
      login: "dave-upstream",
      stopAt: REDIRECT,
      provider: upstream.issuer,
      intercept: (u) => (u.pathname === "/upstream/callback" && u.searchParams.get("state")!.length === 43 ? withParam(u, "state", b64(randomBytes(33))) : null),
    });
    expect(forged.res.status).toBe(400);
    expect(forged.body).toContain("invalid_state");

    // A real callback, taken by another browser: its pre-login cookie does not match.
    let real: URL | null = null;
    const first = new Jar();
    await follow(first, authorizeUrl(connection).url, {
      login: "dave-upstream",
      stopAt: REDIRECT,
      provider: upstream.issuer,
      intercept: (u) => {
        if (u.pathname === "/upstream/callback") {
          real = u;
          return new URL(REDIRECT);
        }
        return null;
      },
    });
    const elsewhere = await new Jar().fetch(real!);
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toContain("invalid_state");
    // …and the state is spent: the right browser cannot use it afterwards either.
    const replay = await first.fetch(real!);
    expect(replay.status).toBe(400);
    expect(await usersWithEmail("dave@upstream.test")).toHaveLength(0);
  });

  it("ends a denied consent and an upstream 5xx on the hosted error page", async () => {
    const denied = await follow(new Jar(), authorizeUrl(connection).url, { stopAt: REDIRECT, provider: upstream.issuer, abort: true });
    expect(denied.res.status).toBe(403);
    expect(denied.body).toContain("access_denied");
    expect(denied.body).toContain("Back to sign-in");

    upstream.tamper = "fail";
    try {
      const down = await signInThrough(tampered, "frank-upstream");
      expect(down.page.res.status).toBe(502);
      expect(down.page.body).toContain("upstream_unavailable");
    } finally {
      upstream.tamper = null;
    }
    expect(await usersWithEmail("frank@upstream.test")).toHaveLength(0);
  });

  it("lists, pre-links and removes identities through the management API with Kinde's scopes", async () => {
    // A pre-link: the user exists without the email; the identity names it.
    const made = await manage("/user", { json: { identities: [{ type: "username", details: { username: "frank-local" } }] } });
    const frank = ((await made.json()) as { id: string }).id;
    const prelink = await manage(`/users/${frank}/identities`, { json: { type: "social", connection_id: connection, value: "frank@upstream.test" } });
    expect(prelink.status).toBe(201);
    const identityId = ((await prelink.json()) as { identity: { id: string } }).identity.id;
    expect((await manage(`/users/${frank}/identities`, { json: { type: "email", value: "x@example.com" } })).status).toBe(400);

    const { tokens } = await signInThrough(connection, "frank-upstream");
    expect(decode(tokens!.body.id_token!).sub).toBe(frank);
    const one = (await (await manage(`/identities/${identityId}`)).json()) as { is_confirmed: boolean; total_logins: number };
    expect(one).toMatchObject({ is_confirmed: true, total_logins: 1 });

    // Scopes: a token without read:user_identities is refused; with it, the list answers.
    const m2m = await createClient(worker.url, app.id, { name: "m2m", type: "m2m", scopes: ["read:user_identities", "delete:identities"] });
    const token = async (scope: string) =>
      (
        (await (
          await fetch(`${app.origin}/oauth2/token`, {
            method: "POST",
            headers: { Authorization: `Basic ${btoa(`${m2m.client_id}:${m2m.client_secret}`)}` },
            body: new URLSearchParams({ grant_type: "client_credentials", audience: `${app.origin}/api`, scope }),
          })
        ).json()) as { access_token: string }
      ).access_token;
    const readOnly = await token("read:user_identities");
    const listed = await manage(`/users/${frank}/identities`, { auth: `Bearer ${readOnly}` });
    expect(listed.status).toBe(200);
    const refused = await manage(`/identities/${identityId}`, { method: "DELETE", auth: `Bearer ${readOnly}` });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("FORBIDDEN");

    const removed = await manage(`/identities/${identityId}`, { method: "DELETE", auth: `Bearer ${await token("delete:identities")}` });
    expect(removed.status).toBe(200);
    expect(((await (await manage(`/users/${frank}/identities`)).json()) as { identities: unknown[] }).identities).toHaveLength(0);
    expect((await manage(`/identities/${identityId}`)).status).toBe(404);

    // Deleting a user deletes its identities: Alice's identity goes, and her next sign-in is a new user.
    const [alice] = await usersWithEmail("alice@upstream.test");
    expect((await manage(`/user?id=${alice!.id}`, { method: "DELETE" })).status).toBe(200);
    const back = await signInThrough(connection, "alice-upstream");
    expect(decode(back.tokens!.body.id_token!).sub).not.toBe(alice!.id);
  });

  it("the auth policy still applies: under passkey_required an upstream sign-in leads to enrolment, not a code", async () => {
    const patch = (settings: Record<string, unknown>) =>
      fetch(`${worker.url}/admin/apps/${app.id}`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
        body: JSON.stringify({ settings }),
      });
    expect((await patch({ auth_policy: "passkey_required" })).status).toBe(200);
    try {
      const { page, tokens } = await signInThrough(connection, "grace-upstream");
      expect(tokens).toBeNull();
      expect(page.res.status).toBe(200);
      expect(page.body).toContain("Set up a passkey");
      expect(page.res.headers.get("set-cookie") ?? "").not.toContain("latch_session");
    } finally {
      await patch({ auth_policy: "none" });
    }
  });

  it("an unknown or disabled connection is not offered and ends on the error page", async () => {
    const unknown = await follow(new Jar(), authorizeUrl("conn_doesnotexist").url, { stopAt: REDIRECT, provider: upstream.issuer });
    expect(unknown.res.status).toBe(404);
    expect(unknown.body).toContain("connection_not_found");
    expect((await admin(`/connections/${tampered}`, { method: "PATCH", json: { enabled: false } })).status).toBe(200);
    const page = await (await new Jar().fetch(authorizeUrl(null).url)).text();
    expect(page).not.toContain(`/upstream/${tampered}/start`);
    expect(page).toContain(`/upstream/${connection}/start`);
    const disabled = await follow(new Jar(), authorizeUrl(tampered).url, { stopAt: REDIRECT, provider: upstream.issuer });
    expect(disabled.res.status).toBe(404);
    expect((await admin(`/connections/${tampered}`, { method: "PATCH", json: { enabled: true } })).status).toBe(200);
  });

  it("validates connections on the operator API", async () => {
    const bad = async (json: unknown) => {
      const res = await admin("/connections", { json });
      return { status: res.status, code: ((await res.json()) as { errors: { code: string }[] }).errors[0]!.code };
    };
    expect(await bad({ strategy: "saml:okta", name: "x", options: {} })).toEqual({ status: 400, code: "INVALID_REQUEST" });
    expect(await bad({ strategy: "oidc:custom", name: "nosecret", options: { client_id: "a", issuer: upstream.issuer } })).toEqual({ status: 400, code: "INVALID_REQUEST" });
    expect(await bad({ strategy: "oidc:custom", name: "plainhttp", options: { client_id: "a", client_secret: "b", issuer: "http://idp.example.com" } })).toEqual({ status: 400, code: "INVALID_REQUEST" });
    expect(await bad({ strategy: "oidc:custom", name: "testidp", options: { client_id: "a", client_secret: "b", issuer: upstream.issuer } })).toEqual({ status: 409, code: "CONNECTION_NAME_TAKEN" });
    const listed = (await (await admin("/connections")).json()) as { connections: { id: string; options: Record<string, unknown> }[] };
    const mine = listed.connections.find((c) => c.id === connection)!;
    expect(mine.options.has_client_secret).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(upstream.clientSecret);
  });
});

function withParam(url: URL, name: string, value: string): URL {
  const next = new URL(url);
  next.searchParams.set(name, value);
  return next;
}
