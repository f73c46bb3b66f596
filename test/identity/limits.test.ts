/**
 * Credential-guessing limits (README "Credential-guessing limits"): counted in Durable
 * Objects, keyed by the account, passable by the owner from their own address.
 */
import { createExecutionContext, env, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { ATTEMPT_LIMITS } from "../../worker/identity/attempt-rules";
import { attemptKeys, clearAccountFailures, countAccountAttempt, countAddressAttempt } from "../../worker/identity/rate-limit";
import { signupWithEmail } from "../account/helpers";
import { appAuth, BASE, call, createApp, errorOf, signup, type TestApp } from "../helpers";

function login(app: TestApp, username: string, password: string, address?: string): Promise<Response> {
  return call(`/user/${app.id}/login`, {
    method: "POST",
    headers: { Authorization: appAuth(app), ...(address ? { "CF-Connecting-IP": address } : {}) },
    json: { username, password },
  });
}

/** Every row of every table: any insert, update or delete changes it. */
async function dumpD1(): Promise<string> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name").all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables.results) {
    const rows = await env.DB.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all();
    parts.push(`${name}:${JSON.stringify(rows.results)}`);
  }
  return parts.join("\n");
}

async function expect429(res: Response): Promise<void> {
  expect(await errorOf(res)).toMatchObject({ status: 429, error: "TooManyRequests" });
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}

describe("credential-guessing limits", () => {
  it("a failed login writes nothing to D1, for an existing account or an unknown identifier, until a lock fills", async () => {
    const app = await createApp();
    const u = await signup(app);
    // The detector itself: a successful login writes (its session).
    let before = await dumpD1();
    expect((await login(app, u.username, u.password)).status).toBe(200);
    expect(await dumpD1()).not.toBe(before);

    before = await dumpD1();
    for (let i = 0; i < 9; i++) expect((await login(app, u.username, `wrong ${i}`)).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await login(app, u.username, `wrong ${i}`, `10.0.0.${i}`)).status).toBe(401);
    expect((await login(app, "nobody-at-all", "whatever")).status).toBe(401);
    expect((await login(app, "nobody-at-all", "whatever", "10.9.9.9")).status).toBe(401);
    expect(await dumpD1()).toBe(before);
    // The failure that fills this address's lock on the account is logged, once.
    expect((await login(app, u.username, "wrong 9")).status).toBe(401);
    const events = await env.DB.prepare("SELECT user_id, data FROM events WHERE app_id = ? AND type = 'user.authentication_failed'").bind(app.id).all<{ user_id: string; data: string }>();
    expect(events.results.map((e) => e.user_id)).toEqual([u._id]);
    expect(events.results[0]!.data).toContain("too_many_failures");
    // Refusals write nothing either.
    before = await dumpD1();
    await expect429(await login(app, u.username, "wrong 10"));
    for (let i = 0; i < 10; i++) await login(app, "flooded", `x${i}`, "10.8.8.8");
    await expect429(await login(app, "flooded", "x", "10.8.8.8"));
    expect(await dumpD1()).toBe(before);
  });

  it("the owner passes: 11 failures from 11 addresses leave the owner's address able to sign in", async () => {
    const app = await createApp();
    const u = await signup(app);
    for (let i = 0; i < 11; i++) expect((await login(app, u.username, `guess ${i}`, `192.0.2.${i + 1}`)).status).toBe(401);
    const owner = await login(app, u.username, u.password, "198.51.100.7");
    expect(owner.status).toBe(200);
  });

  it("11 failures from one address: that address is refused with 429 and Retry-After, even with the right password; others are not", async () => {
    const app = await createApp();
    const u = await signup(app);
    for (let i = 0; i < 10; i++) expect((await login(app, u.username, `guess ${i}`, "203.0.113.5")).status).toBe(401);
    await expect429(await login(app, u.username, "guess 10", "203.0.113.5"));
    await expect429(await login(app, u.username, u.password, "203.0.113.5"));
    expect((await login(app, u.username, u.password, "198.51.100.7")).status).toBe(200);
  });

  it("username and email share one budget", async () => {
    const app = await createApp();
    const u = await signupWithEmail(app);
    for (let i = 0; i < 5; i++) expect((await login(app, u.username, `by name ${i}`)).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await login(app, u.email.toUpperCase(), `by email ${i}`)).status).toBe(401);
    await expect429(await login(app, u.username, u.password));
    await expect429(await login(app, u.email, u.password));
  });

  it("an unknown identifier is limited like an account, under its normalised form", async () => {
    const app = await createApp();
    for (let i = 0; i < 10; i++) expect((await login(app, i % 2 ? "Ghost" : "ghost", `g${i}`)).status).toBe(401);
    await expect429(await login(app, "GHOST", "g"));
  });

  it("a success forgives its address; a password reset's clearAccountFailures lifts the lock", async () => {
    const app = await createApp();
    const u = await signup(app);
    for (let i = 0; i < 9; i++) await login(app, u.username, `guess ${i}`);
    expect((await login(app, u.username, u.password)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await login(app, u.username, `again ${i}`)).status).toBe(401);
    await expect429(await login(app, u.username, u.password));
    await clearAccountFailures(env, app.id, { id: u._id });
    expect((await login(app, u.username, u.password)).status).toBe(200);
  });

  // The next two fill the counters through the object itself (no password hashing per attempt), then sign in.
  it("the account-wide limit: 100 failures from ten addresses refuse every address until the window ends", async () => {
    const app = await createApp();
    const u = await signup(app);
    const keys = await attemptKeys(app.id, "-", u.username, { id: u._id });
    const now = Date.now();
    for (let a = 0; a < 10; a++) {
      for (let i = 0; i < 10; i++) expect((await countAccountAttempt(env, keys, `192.0.2.${a + 1}`, now)).wait).toBe(0);
    }
    expect(await countAccountAttempt(env, keys, "192.0.2.99", now)).toMatchObject({ wait: 900, counts: { account: 100, pair: 0 } });
    await expect429(await login(app, u.username, u.password, "198.51.100.7"));
    expect((await countAccountAttempt(env, keys, "198.51.100.7", now + ATTEMPT_LIMITS.account.windowMs)).wait).toBe(0);
  });

  it("the account-wide limit is waived for an address the owner signed in from: a distributed guesser cannot lock them out there", async () => {
    const app = await createApp();
    const u = await signup(app);
    expect((await login(app, u.username, u.password, "203.0.113.50")).status).toBe(200);
    const keys = await attemptKeys(app.id, "-", u.username, { id: u._id });
    const now = Date.now();
    for (let a = 0; a < 10; a++) {
      for (let i = 0; i < 10; i++) expect((await countAccountAttempt(env, keys, `192.0.2.${a + 1}`, now)).wait).toBe(0);
    }
    // A new address meets the full account-wide counter; the owner's known address does not.
    await expect429(await login(app, u.username, u.password, "198.51.100.7"));
    expect((await login(app, u.username, u.password, "203.0.113.50")).status).toBe(200);
    // Its own pair limit still holds there: ten wrong passwords from it, then 429.
    for (let i = 0; i < 10; i++) expect((await login(app, u.username, `wrong ${i}`, "203.0.113.50")).status).toBe(401);
    await expect429(await login(app, u.username, u.password, "203.0.113.50"));
  });

  it("the per-address limit: 100 failures from one address across accounts, then 429 for any account", async () => {
    const app = await createApp();
    const u = await signup(app);
    const key = `addr:${app.id}:203.0.113.9`;
    for (let i = 0; i < 99; i++) expect(await countAddressAttempt(env, key, Date.now())).toBe(0);
    expect((await login(app, "stuffed", "p", "203.0.113.9")).status).toBe(401);
    await expect429(await login(app, u.username, u.password, "203.0.113.9"));
    expect((await login(app, u.username, u.password, "203.0.113.10")).status).toBe(200);
  });

  it("reads the client address from CLIENT_ADDRESS_HEADER when set, ignoring cf-connecting-ip", async () => {
    const app = await createApp();
    const u = await signup(app);
    const selfHosted = { ...env, CLIENT_ADDRESS_HEADER: "X-Real-IP" };
    const attempt = async (password: string, realIp: string, cfIp: string) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`${BASE}/user/${app.id}/login`, {
          method: "POST",
          headers: { Authorization: appAuth(app), "Content-Type": "application/json", "X-Real-IP": realIp, "CF-Connecting-IP": cfIp },
          body: JSON.stringify({ username: u.username, password }),
        }),
        selfHosted,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res;
    };
    // A fresh cf-connecting-ip per guess buys nothing: the trusted header is the same.
    for (let i = 0; i < 10; i++) expect((await attempt(`guess ${i}`, "192.0.2.50", `10.1.1.${i}`)).status).toBe(401);
    await expect429(await attempt(u.password, "192.0.2.50", "10.1.1.99"));
    expect((await attempt(u.password, "192.0.2.51", "10.1.1.0")).status).toBe(200);
  });

  it("the object's alarm sweeps windows that have ended and keeps live ones", async () => {
    const stub = env.ATTEMPTS.get(env.ATTEMPTS.idFromName("sweep-test"));
    const now = Date.now();
    await stub.attempt([{ key: "old", kind: "pair" }], now - ATTEMPT_LIMITS.pair.windowMs - 1);
    await stub.attempt([{ key: "live", kind: "pair" }], now);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const keys = await runInDurableObject(stub, async (_o, state) => [...(await state.storage.list()).keys()]);
    expect(keys).toEqual(["live"]);
    // Still a counter left: another sweep is pending.
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).not.toBeNull();
  });
});
