import { abortAllDurableObjects, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  ChainStartRefused,
  chainsStub,
  endChain,
  endSessionChains,
  endUserChains,
  listUserChains,
  newUserChainId,
  revokeRefreshToken,
  rotateChain,
  startChain,
  type RotateResult,
} from "../../worker/chains/api";
import { formatRefreshToken, newChainId, routingKey } from "../../worker/chains/token";
import { sha256Hex } from "../../worker/util/crypto";
import { call, kinveyAuth, masterAuth } from "../helpers";
import { fixture, grant } from "./setup";

function ok(r: RotateResult): Extract<RotateResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}`);
  return r;
}

async function kinveySessionId(token: string): Promise<string> {
  const id = await env.DB.prepare("SELECT id FROM sessions WHERE token_hash = ?").bind(await sha256Hex(token)).first<string>("id");
  if (!id) throw new Error("no session");
  return id;
}

async function liveIndexRows(appId: string, userId: string): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM chains WHERE app_id = ? AND user_id = ? AND ended_at IS NULL").bind(appId, userId).first<number>("n")) ?? -1;
}

describe("chains end with the user's credentials", () => {
  it("a password change (Kinvey PUT /user/{appKey}/{id}) ends every chain", async () => {
    const { test, app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant());
    const b = await startChain(env, app, user._id, grant({ clientId: "client-b" }));
    const res = await call(`/user/${test.id}/${user._id}`, {
      method: "PUT",
      headers: { Authorization: kinveyAuth(user.token) },
      json: { username: user.username, password: "a brand new password", currentPassword: user.password },
    });
    expect(res.status).toBe(200);
    expect(await rotateChain(env, app, a.refreshToken, "client-a")).toEqual({ ok: false, reason: "revoked" });
    expect(await rotateChain(env, app, b.refreshToken, "client-b")).toEqual({ ok: false, reason: "revoked" });
    expect(await liveIndexRows(app.id, user._id)).toBe(0);
  });

  it("a profile change without a password keeps chains but marks their claims stale", async () => {
    const { test, app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant());
    const res = await call(`/user/${test.id}/${user._id}`, {
      method: "PUT",
      headers: { Authorization: kinveyAuth(user.token) },
      json: { username: user.username, email: "changed@example.com" },
    });
    expect(res.status).toBe(200);
    expect(ok(await rotateChain(env, app, a.refreshToken, "client-a")).claimsStale).toBe(true);
  });

  it("Kinvey logout ends the chains its session began, and only those", async () => {
    const { test, app, user } = await fixture();
    const sessionId = await kinveySessionId(user.token);
    const mine = await startChain(env, app, user._id, grant({ sessionId }));
    const other = await startChain(env, app, user._id, grant({ sessionId: "another-session" }));
    const res = await call(`/user/${test.id}/_logout`, { method: "POST", headers: { Authorization: kinveyAuth(user.token) } });
    expect(res.status).toBe(204);
    expect(await rotateChain(env, app, mine.refreshToken, "client-a")).toEqual({ ok: false, reason: "revoked" });
    ok(await rotateChain(env, app, other.refreshToken, "client-a"));
    expect((await listUserChains(env, app.id, user._id)).map((c) => c.id)).toEqual([other.chainId]);
  });

  it("endSessionChains (hosted /logout) ends that session's chains", async () => {
    const { app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant({ sessionId: "browser-1" }));
    const b = await startChain(env, app, user._id, grant({ sessionId: "browser-2" }));
    await endSessionChains(env, app.id, user._id, "browser-1", "logout");
    expect(await rotateChain(env, app, a.refreshToken, "client-a")).toEqual({ ok: false, reason: "revoked" });
    ok(await rotateChain(env, app, b.refreshToken, "client-a"));
    expect(await liveIndexRows(app.id, user._id)).toBe(1);
  });

  it("revoking all tokens (DELETE /user/{appKey}/{id}/tokens) and deleting the user end chains", async () => {
    const { test, app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant());
    expect((await call(`/user/${test.id}/${user._id}/tokens`, { method: "DELETE", headers: { Authorization: masterAuth(test) } })).status).toBe(204);
    expect(await rotateChain(env, app, a.refreshToken, "client-a")).toEqual({ ok: false, reason: "revoked" });
    const b = await startChain(env, app, user._id, grant());
    expect((await call(`/user/${test.id}/${user._id}`, { method: "DELETE", headers: { Authorization: masterAuth(test) } })).status).toBe(204);
    expect(await rotateChain(env, app, b.refreshToken, "client-a")).toEqual({ ok: false, reason: "revoked" });
    expect(await endUserChains(env, app.id, user._id, "again")).toBe(0);
  });

  it("RFC 7009 revocation ends the token's chain for its own client only", async () => {
    const { app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant());
    const b = await startChain(env, app, user._id, grant());
    await revokeRefreshToken(env, app, a.refreshToken, "client-b");
    await revokeRefreshToken(env, app, "not a token", "client-a");
    const a1 = ok(await rotateChain(env, app, a.refreshToken, "client-a"));
    await revokeRefreshToken(env, app, a1.refreshToken, "client-a");
    expect(await rotateChain(env, app, a1.refreshToken, "client-a")).toEqual({ ok: false, reason: "revoked" });
    ok(await rotateChain(env, app, b.refreshToken, "client-a"));
    await endChain(env, app.id, user._id, b.chainId, "admin");
    expect(await listUserChains(env, app.id, user._id)).toEqual([]);
    expect(await liveIndexRows(app.id, user._id)).toBe(0);
  });
});

describe("the D1 index stays a superset of live chains", () => {
  async function insertRow(appId: string, userId: string, id: string, createdAt: number) {
    await env.DB.prepare("INSERT INTO chains (id, app_id, user_id, client_id, session_id, created_at, expires_at) VALUES (?, ?, ?, 'client-a', NULL, ?, ?)")
      .bind(id, appId, userId, createdAt, createdAt + 1e9)
      .run();
  }
  const ended = async (id: string) => (await env.DB.prepare("SELECT ended_at FROM chains WHERE id = ?").bind(id).first<number | null>("ended_at")) !== null;

  it("ending all closes rows the object ended, rows left by a crashed end, and old rows of starts that never landed", async () => {
    const { app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant());
    const b = await startChain(env, app, user._id, grant());
    // A crash after the object ended b but before D1 heard of it.
    expect(await chainsStub(env, app.id, user._id).revokeChain(b.chainId, "admin", Date.now())).toBe(true);
    // A start that wrote its row two minutes ago and died before reaching the object.
    await insertRow(app.id, user._id, "f".repeat(24), Date.now() - 120_000);
    expect(await endUserChains(env, app.id, user._id, "password_changed")).toBe(1);
    for (const id of [a.chainId, b.chainId, "f".repeat(24)]) expect(await ended(id), id).toBe(true);
  });

  it("ending all never closes the row of a start in flight, so that chain stays endable", async () => {
    const { app, user } = await fixture();
    await startChain(env, app, user._id, grant());
    // A start in flight: its row is written, its object call has not landed yet.
    const inflight = newChainId(routingKey(env.KEY_ENCRYPTION_SECRET), app.id, user._id);
    await insertRow(app.id, user._id, inflight, Date.now());
    await endUserChains(env, app.id, user._id, "password_changed");
    expect(await ended(inflight)).toBe(false);
    // The start lands; a later end still reaches it because the index still lists it.
    const started = await chainsStub(env, app.id, user._id).start(inflight, { ...grant(), claims: "{}" }, Date.now(), {
      ...app.settings,
    });
    const token = formatRefreshToken(app.id, user._id, inflight, started.secret!);
    ok(await rotateChain(env, app, token, "client-a"));
    expect(await endUserChains(env, app.id, user._id, "tokens_revoked")).toBe(1);
    expect(await ended(inflight)).toBe(true);
  });
});

describe("a chain ended before it started", () => {
  it("stays ended: the start is refused and nothing is live (a code replay racing its exchange)", async () => {
    const { app, user } = await fixture();
    const chainId = newUserChainId(env, app.id, user._id);
    // The replay's end reaches the object before the exchange's start does.
    await endChain(env, app.id, user._id, chainId, "code_replay");
    await expect(startChain(env, app, user._id, grant(), Date.now(), { chainId })).rejects.toBeInstanceOf(ChainStartRefused);
    expect(await listUserChains(env, app.id, user._id)).toEqual([]);
    // A fresh chain still starts.
    ok(await rotateChain(env, app, (await startChain(env, app, user._id, grant())).refreshToken, "client-a"));
  });
});

describe("concurrency and durability", () => {
  it("50 simultaneous refreshes of one token yield exactly one successor, all ok, and it then works", async () => {
    const { app, user } = await fixture();
    const start = await startChain(env, app, user._id, grant());
    const results = await Promise.all(Array.from({ length: 50 }, () => rotateChain(env, app, start.refreshToken, "client-a")));
    expect(results.every((r) => r.ok)).toBe(true);
    const successors = new Set(results.map((r) => (r.ok ? r.refreshToken : "")));
    expect(successors.size).toBe(1);
    const [successor] = [...successors] as [string];
    expect(successor).not.toBe(start.refreshToken);
    const next = ok(await rotateChain(env, app, successor, "client-a"));
    expect(next.refreshToken).not.toBe(successor);
    const events = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE app_id = ? AND type = 'refresh_token.reuse_detected'").bind(app.id).first<number>("n");
    expect(events).toBe(0);
  });

  it("state survives aborting every object: refresh and overlap work after the restart", async () => {
    const { app, user } = await fixture();
    const start = await startChain(env, app, user._id, grant());
    const r1 = ok(await rotateChain(env, app, start.refreshToken, "client-a"));
    await abortAllDurableObjects();
    // The overlap successor is recovered from storage, not memory.
    expect(ok(await rotateChain(env, app, start.refreshToken, "client-a")).refreshToken).toBe(r1.refreshToken);
    const r2 = ok(await rotateChain(env, app, r1.refreshToken, "client-a"));
    await abortAllDurableObjects();
    ok(await rotateChain(env, app, r2.refreshToken, "client-a"));
    expect((await listUserChains(env, app.id, user._id)).map((c) => c.id)).toEqual([start.chainId]);
  });
});
