/** Kinvey user API (SPEC §2, §3): every endpoint, every credential kind allowed and refused. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appAuth, basic, call, createApp, errorOf, kinveyAuth, masterAuth, signup } from "../helpers";

const json = { "Content-Type": "application/json" };

describe("signup", () => {
  it("creates a user with a session token and never echoes the password", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}`, {
      method: "POST",
      headers: { Authorization: appAuth(app) },
      json: { username: "alice", password: "alice password", email: "Alice@Example.com", favourite: "tea" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const user = (await res.json()) as Record<string, any>;
    expect(user).toMatchObject({ username: "alice", email: "alice@example.com", favourite: "tea", _acl: { creator: user._id } });
    expect(user._kmd.authtoken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(user)).not.toContain("alice password");
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user._id).first<string>("password_hash");
    // Hashed with the configured parameters (cheap in tests; test/unit/foundation checks the production ones).
    expect(row!.startsWith(`${env.PASSWORD_HASH_PARAMS}$`)).toBe(true);
    expect(row).toMatch(/^scrypt\$N=\d+,r=8,p=1\$[\w-]{22}\$[\w-]{43}$/);
    const session = await env.DB.prepare("SELECT token_hash FROM sessions WHERE user_id = ?").bind(user._id).first<string>("token_hash");
    expect(session).toMatch(/^[0-9a-f]{64}$/);
    expect(session).not.toBe(user._kmd.authtoken);
  });

  it("accepts an empty body (implicit user), with or without a JSON content type", async () => {
    const app = await createApp();
    for (const headers of [{ Authorization: appAuth(app) }, { Authorization: appAuth(app), ...json }]) {
      const res = await call(`/user/${app.id}`, { method: "POST", headers });
      expect(res.status).toBe(201);
      const user = (await res.json()) as Record<string, any>;
      expect(user.username).toMatch(/^[0-9a-f-]{36}$/);
      expect(user._kmd.authtoken).toBeTruthy();
    }
  });

  it("refuses a taken username with 409 UserAlreadyExists", async () => {
    const app = await createApp();
    await signup(app, "bob");
    const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: "bob", password: "another password" } });
    expect(await errorOf(res)).toMatchObject({ status: 409, error: "UserAlreadyExists" });
  });

  it("refuses a password shorter than the app's minimum with 400 BadRequest and creates nothing", async () => {
    const app = await createApp({ settings: { password_min_length: 10 } });
    const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: "short", password: "123456789" } });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "BadRequest" });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM users WHERE app_id = ?").bind(app.id).first("n")).toBe(0);
  });

  it("refuses user credentials with InsufficientCredentials", async () => {
    const app = await createApp();
    const u = await signup(app);
    const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: kinveyAuth(u.token) }, json: { username: "x", password: "password123" } });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "InsufficientCredentials" });
  });

  it("lets master credentials sign users up", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: masterAuth(app) }, json: { username: "m", password: "password123" } });
    expect(res.status).toBe(201);
  });
});

describe("bad credentials and bad input", () => {
  it("answers a missing Authorization header with 401 InvalidCredentials", async () => {
    const app = await createApp();
    const res = await call(`/appdata/${app.id}`);
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "InvalidCredentials" });
    expect(res.headers.get("x-kinvey-request-id")).toBeTruthy();
  });

  it.each([
    ["bad base64", "Basic %%%not-base64%%%"],
    ["base64 without a colon", `Basic ${btoa("nocolon")}`],
    ["unknown scheme", "Bearer abc"],
    ["empty Kinvey token", "Kinvey "],
    ["unknown Kinvey token", "Kinvey AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  ])("answers %s with 401 InvalidCredentials", async (_, header) => {
    const app = await createApp();
    const res = await call(`/appdata/${app.id}`, { headers: { Authorization: header } });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "InvalidCredentials" });
  });

  it("answers a wrong app secret with InvalidCredentials, and another app's key with InvalidCredentials", async () => {
    const app = await createApp();
    const other = await createApp();
    expect(await errorOf(await call(`/appdata/${app.id}`, { headers: { Authorization: basic(app.id, "wrong") } }))).toMatchObject({ status: 401, error: "InvalidCredentials" });
    expect(await errorOf(await call(`/appdata/${app.id}`, { headers: { Authorization: appAuth(other) } }))).toMatchObject({ status: 401, error: "InvalidCredentials" });
  });

  it("answers an unknown app key with 404 AppNotFound", async () => {
    const app = await createApp();
    const res = await call(`/appdata/kid_nope`, { headers: { Authorization: appAuth(app) } });
    expect(await errorOf(res)).toMatchObject({ status: 404, error: "AppNotFound" });
  });

  it("answers malformed JSON with 400 JSONParseError and creates nothing", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app), ...json }, body: '{"username": "x",' });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "JSONParseError" });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM users WHERE app_id = ?").bind(app.id).first("n")).toBe(0);
  });

  it("answers an oversized body with 413 and creates nothing", async () => {
    const app = await createApp();
    const body = JSON.stringify({ username: "big", password: "password123", blob: "x".repeat(1024 * 1024 + 10) });
    const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app), ...json }, body });
    expect(await errorOf(res)).toMatchObject({ status: 413, error: "RequestEntityTooLarge" });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM users WHERE app_id = ?").bind(app.id).first("n")).toBe(0);
  });

  it("answers a non-JSON content type with 415 UnsupportedMediaType", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app), "Content-Type": "text/plain" }, body: "username=x" });
    expect(await errorOf(res)).toMatchObject({ status: 415, error: "UnsupportedMediaType" });
  });

  it("answers an array user body with 400 BadRequest", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: [{ username: "x" }] });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "BadRequest" });
  });

  it("answers an unknown path in the Kinvey face with a Kinvey 404", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}/a/b/c/d`, { method: "PATCH", headers: { Authorization: appAuth(app) } });
    expect(await errorOf(res)).toMatchObject({ status: 404, error: "NotFound" });
  });
});

describe("login and logout", () => {
  it("logs in with app credentials and returns a new token", async () => {
    const app = await createApp();
    const u = await signup(app);
    const res = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: u.password } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body._id).toBe(u._id);
    expect(body._kmd.authtoken).not.toBe(u.token);
  });

  it("refuses a wrong password and an unknown user alike with 401 InvalidCredentials", async () => {
    const app = await createApp();
    const u = await signup(app);
    for (const creds of [{ username: u.username, password: "wrong password" }, { username: "nobody", password: u.password }]) {
      const res = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: creds });
      expect(await errorOf(res)).toMatchObject({ status: 401, error: "InvalidCredentials" });
    }
    const failures = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE app_id = ? AND type = 'user.authentication_failed'").bind(app.id).first("n");
    expect(failures).toBe(2);
  });

  it("refuses a body without username or password with 400 IncompleteRequestBody", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: "x" } });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "IncompleteRequestBody" });
  });

  it("refuses login with user credentials (InsufficientCredentials)", async () => {
    const app = await createApp();
    const u = await signup(app);
    const res = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: kinveyAuth(u.token) }, json: { username: u.username, password: u.password } });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "InsufficientCredentials" });
  });

  it("rate-limits password guessing per account: the 11th attempt is 429 even with the right password", async () => {
    const app = await createApp();
    const u = await signup(app);
    for (let i = 0; i < 10; i++) {
      const res = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: `guess ${i}` } });
      expect(res.status).toBe(401);
    }
    const res = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: u.password } });
    expect(await errorOf(res)).toMatchObject({ status: 429, error: "TooManyRequests" });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    // Basic user credentials share the same counter.
    const basicRes = await call(`/user/${app.id}/_me`, { headers: { Authorization: basic(u.username, u.password) } });
    expect(basicRes.status).toBe(429);
  });

  it("counts guesses before checking them: of 20 parallel wrong guesses, exactly 10 are answered 429", async () => {
    const app = await createApp();
    const u = await signup(app);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: `parallel ${i}` } }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it("refuses an oversized identifier as InvalidCredentials without storing it", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: "x".repeat(5000), password: "password123" } });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "InvalidCredentials" });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM rate_limits WHERE key LIKE ?").bind(`%${app.id}%`).first("n")).toBe(0);
  });

  it("_logout destroys exactly the presented token", async () => {
    const app = await createApp();
    const u = await signup(app);
    const login = (await (await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: u.password } })).json()) as any;
    const res = await call(`/user/${app.id}/_logout`, { method: "POST", headers: { Authorization: kinveyAuth(u.token) } });
    expect(res.status).toBe(204);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-kinvey-request-id")).toBeTruthy();
    expect(await errorOf(await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(u.token) } }))).toMatchObject({ status: 401, error: "InvalidCredentials" });
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(login._kmd.authtoken) } })).status).toBe(200);
  });

  it("_logout with app credentials is InsufficientCredentials", async () => {
    const app = await createApp();
    const res = await call(`/user/${app.id}/_logout`, { method: "POST", headers: { Authorization: appAuth(app) } });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "InsufficientCredentials" });
  });
});

describe("_me and user reads", () => {
  it("_me returns the user with the presented token; Basic user credentials work without a token", async () => {
    const app = await createApp();
    const u = await signup(app);
    const me = (await (await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(u.token) } })).json()) as any;
    expect(me._kmd.authtoken).toBe(u.token);
    const viaBasic = await call(`/user/${app.id}/_me`, { headers: { Authorization: basic(u.username, u.password) } });
    expect(viaBasic.status).toBe(200);
    expect(((await viaBasic.json()) as any)._kmd.authtoken).toBeUndefined();
  });

  it("_me with app or master credentials is InsufficientCredentials", async () => {
    const app = await createApp();
    for (const auth of [appAuth(app), masterAuth(app)]) {
      expect(await errorOf(await call(`/user/${app.id}/_me`, { headers: { Authorization: auth } }))).toMatchObject({ status: 401, error: "InsufficientCredentials" });
    }
  });

  it("any user may read another user, without secrets; app credentials may not", async () => {
    const app = await createApp();
    const a = await signup(app);
    const b = await signup(app);
    const res = await call(`/user/${app.id}/${b._id}`, { headers: { Authorization: kinveyAuth(a.token) } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("authtoken");
    expect(text).not.toContain("scrypt");
    expect(text).not.toContain(b.password);
    expect(await errorOf(await call(`/user/${app.id}/${b._id}`, { headers: { Authorization: appAuth(app) } }))).toMatchObject({ status: 401, error: "InsufficientCredentials" });
    expect(await errorOf(await call(`/user/${app.id}/nope`, { headers: { Authorization: kinveyAuth(a.token) } }))).toMatchObject({ status: 404, error: "UserNotFound" });
  });
});

describe("user update", () => {
  it("replaces the user's own fields and returns its token", async () => {
    const app = await createApp();
    const u = await signup(app);
    const res = await call(`/user/${app.id}/${u._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(u.token) }, json: { username: u.username, colour: "blue" } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({ colour: "blue", _kmd: { authtoken: u.token } });
  });

  it("refuses to update another user (InsufficientCredentials) and leaves it unchanged", async () => {
    const app = await createApp();
    const a = await signup(app);
    const b = await signup(app);
    const res = await call(`/user/${app.id}/${b._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(a.token) }, json: { colour: "red" } });
    expect(await errorOf(res)).toMatchObject({ status: 401, error: "InsufficientCredentials" });
    const after = (await (await call(`/user/${app.id}/${b._id}`, { headers: { Authorization: kinveyAuth(b.token) } })).json()) as any;
    expect(after.colour).toBeUndefined();
  });

  it("a password change revokes every session and returns a fresh token", async () => {
    const app = await createApp();
    const u = await signup(app);
    const other = (await (await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: u.password } })).json()) as any;
    const res = await call(`/user/${app.id}/${u._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(u.token) }, json: { username: u.username, password: "a brand new password", currentPassword: u.password } });
    expect(res.status).toBe(200);
    const fresh = ((await res.json()) as any)._kmd.authtoken as string;
    expect(fresh).toBeTruthy();
    expect(fresh).not.toBe(u.token);
    for (const old of [u.token, other._kmd.authtoken]) {
      expect(await errorOf(await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(old) } }))).toMatchObject({ status: 401, error: "InvalidCredentials" });
    }
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(fresh) } })).status).toBe(200);
    const oldLogin = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: u.password } });
    expect(oldLogin.status).toBe(401);
    const newLogin = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: "a brand new password" } });
    expect(newLogin.status).toBe(200);
  });

  it("a changed email is no longer verified", async () => {
    const app = await createApp();
    const u = await signup(app);
    await env.DB.prepare("UPDATE users SET email = 'a@example.com', email_verified = 1 WHERE id = ?").bind(u._id).run();
    const same = (await (await call(`/user/${app.id}/${u._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(u.token) }, json: { email: "a@example.com" } })).json()) as any;
    expect(same._kmd.emailVerification.status).toBe("confirmed");
    const moved = (await (await call(`/user/${app.id}/${u._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(u.token) }, json: { email: "victim@example.com" } })).json()) as any;
    expect(moved._kmd.emailVerification.status).toBe("unconfirmed");
  });

  it("refuses a username or email that another user signs in with (409)", async () => {
    const app = await createApp();
    const victim = await signup(app);
    await call(`/user/${app.id}/${victim._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(victim.token) }, json: { email: "victim@example.com" } });
    const shadow = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: "Victim@Example.com", password: "password123" } });
    expect(await errorOf(shadow)).toMatchObject({ status: 409, error: "UserAlreadyExists" });
    const named = await signup(app, "named@example.com");
    const other = await signup(app);
    const steal = await call(`/user/${app.id}/${other._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(other.token) }, json: { email: named.username } });
    expect(await errorOf(steal)).toMatchObject({ status: 409, error: "UserAlreadyExists" });
  });

  it("refuses a too-short new password and keeps the old one", async () => {
    const app = await createApp();
    const u = await signup(app);
    const res = await call(`/user/${app.id}/${u._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(u.token) }, json: { password: "short", currentPassword: u.password } });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "BadRequest" });
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(u.token) } })).status).toBe(200);
  });

  it("refuses renaming to a taken username with 409", async () => {
    const app = await createApp();
    const a = await signup(app);
    const b = await signup(app);
    const res = await call(`/user/${app.id}/${a._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(a.token) }, json: { username: b.username } });
    expect(await errorOf(res)).toMatchObject({ status: 409, error: "UserAlreadyExists" });
  });
});

describe("user deletion and token revocation", () => {
  it("soft delete disables the user: sessions die, login fails, only master still sees it", async () => {
    const app = await createApp();
    const u = await signup(app);
    const reader = await signup(app);
    expect((await call(`/user/${app.id}/${u._id}`, { method: "DELETE", headers: { Authorization: kinveyAuth(u.token) } })).status).toBe(204);
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(u.token) } })).status).toBe(401);
    expect((await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: u.username, password: u.password } })).status).toBe(401);
    expect((await call(`/user/${app.id}/${u._id}`, { headers: { Authorization: kinveyAuth(reader.token) } })).status).toBe(404);
    const asMaster = (await (await call(`/user/${app.id}/${u._id}`, { headers: { Authorization: masterAuth(app) } })).json()) as any;
    expect(asMaster._kmd.status.val).toBe("disabled");
  });

  it("hard delete removes the user; another user may not delete it", async () => {
    const app = await createApp();
    const u = await signup(app);
    const other = await signup(app);
    expect(await errorOf(await call(`/user/${app.id}/${u._id}?hard=true`, { method: "DELETE", headers: { Authorization: kinveyAuth(other.token) } }))).toMatchObject({ status: 401, error: "InsufficientCredentials" });
    expect((await call(`/user/${app.id}/${u._id}?hard=true`, { method: "DELETE", headers: { Authorization: masterAuth(app) } })).status).toBe(204);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM users WHERE id = ?").bind(u._id).first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(u._id).first("n")).toBe(0);
  });

  it("DELETE /{id}/tokens revokes every token of the user", async () => {
    const app = await createApp();
    const u = await signup(app);
    expect((await call(`/user/${app.id}/${u._id}/tokens`, { method: "DELETE", headers: { Authorization: masterAuth(app) } })).status).toBe(204);
    expect((await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(u.token) } })).status).toBe(401);
  });
});

describe("_lookup and rpc", () => {
  it("_lookup finds users for any signed-in user and never returns secrets", async () => {
    const app = await createApp();
    const a = await signup(app);
    const b = await signup(app);
    await call(`/user/${app.id}/${b._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(b.token) }, json: { first_name: "Bea" } });
    const res = await call(`/user/${app.id}/_lookup`, { method: "POST", headers: { Authorization: kinveyAuth(a.token) }, json: { first_name: "Bea" } });
    expect(res.status).toBe(200);
    const found = (await res.json()) as any[];
    expect(found.map((u) => u._id)).toEqual([b._id]);
    expect(found[0]._kmd.authtoken).toBeUndefined();
    expect(JSON.stringify(found)).not.toMatch(/scrypt|password/);
  });

  it("_lookup refuses app credentials and password or operator fields", async () => {
    const app = await createApp();
    const a = await signup(app);
    expect(await errorOf(await call(`/user/${app.id}/_lookup`, { method: "POST", headers: { Authorization: appAuth(app) }, json: {} }))).toMatchObject({ status: 401, error: "InsufficientCredentials" });
    for (const query of [{ password: "x" }, { "a') OR 1=1 --": "x" }, { username: { $regex: "^a" } }]) {
      const res = await call(`/user/${app.id}/_lookup`, { method: "POST", headers: { Authorization: kinveyAuth(a.token) }, json: query });
      expect(await errorOf(res)).toMatchObject({ status: 400, error: "InvalidQuerySyntax" });
    }
  });

  it("_lookup refuses more than 20 fields with InvalidQuerySyntax, not a 500", async () => {
    const app = await createApp();
    const a = await signup(app);
    const query = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, "x"]));
    const res = await call(`/user/${app.id}/_lookup`, { method: "POST", headers: { Authorization: kinveyAuth(a.token) }, json: query });
    expect(await errorOf(res)).toMatchObject({ status: 400, error: "InvalidQuerySyntax" });
  });

  it("check-username-exists answers both ways", async () => {
    const app = await createApp();
    const u = await signup(app);
    for (const [username, exists] of [[u.username, true], ["nobody-here", false]] as const) {
      const res = await call(`/rpc/${app.id}/check-username-exists`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username } });
      expect(await res.json()).toEqual({ usernameExists: exists });
    }
  });

  it("password-reset-initiate is 204 whether or not the user exists", async () => {
    const app = await createApp();
    const u = await signup(app);
    // Only an account with an email can be mailed a link (test/account/reset.test.ts).
    const put = await call(`/user/${app.id}/${u._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(u.token) }, json: { username: u.username, email: `${u.username}@example.com` } });
    expect(put.status).toBe(200);
    for (const name of [u.username, "ghost"]) {
      const res = await call(`/rpc/${app.id}/${name}/user-password-reset-initiate`, { method: "POST", headers: { Authorization: appAuth(app) } });
      expect(res.status).toBe(204);
    }
    const events = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE app_id = ? AND type = 'user.password_reset_requested'").bind(app.id).first("n");
    expect(events).toBe(1);
  });
});

