import { env, listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { invalidateUserClaims, listUserChains, rotateChain, startChain, updateChainClaims, type RotateResult } from "../../worker/chains/api";
import { formatRefreshToken, parseRefreshToken } from "../../worker/chains/token";
import { randomToken } from "../../worker/util/crypto";
import { fixture, grant } from "./setup";

type Ok = Extract<RotateResult, { ok: true }>;
function ok(r: RotateResult): Ok {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}`);
  return r;
}

async function reuseEvents(appId: string, userId: string) {
  return (
    await env.DB.prepare("SELECT type, data FROM events WHERE app_id = ? AND user_id = ? AND type = 'refresh_token.reuse_detected'")
      .bind(appId, userId)
      .all<{ type: string; data: string }>()
  ).results;
}

async function indexRow(chainId: string) {
  return env.DB.prepare("SELECT * FROM chains WHERE id = ?").bind(chainId).first<{ ended_at: number | null; expires_at: number; client_id: string }>();
}

const T = Date.now();

describe("rotation", () => {
  it("rotates: a new token each time, the grant travels with the chain, the index row exists", async () => {
    const { app, user } = await fixture();
    const g = grant({ sessionId: "s1", scope: "openid offline email" });
    const start = await startChain(env, app, user._id, g, T);
    expect(parseRefreshToken(start.refreshToken)).toMatchObject({ appId: app.id, userId: user._id, chainId: start.chainId });
    const row = await indexRow(start.chainId);
    expect(row).toMatchObject({ ended_at: null, client_id: "client-a", expires_at: T + app.settings.refresh_absolute_ttl * 1000 });

    const r1 = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 1000));
    expect(r1).toEqual({ ok: true, chainId: start.chainId, userId: user._id, refreshToken: r1.refreshToken, grant: g, claimsStale: false });
    expect(r1.refreshToken).not.toBe(start.refreshToken);
    const r2 = ok(await rotateChain(env, app, r1.refreshToken, "client-a", T + 2000));
    expect(new Set([start.refreshToken, r1.refreshToken, r2.refreshToken]).size).toBe(3);
  });

  it("overlap: the previous token inside the window gets the identical successor, which then rotates normally", async () => {
    const { app, user } = await fixture();
    const start = await startChain(env, app, user._id, grant(), T);
    const r1 = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 1000));
    const retry = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 1000 + 29_999));
    expect(retry.refreshToken).toBe(r1.refreshToken);
    expect(retry.grant).toEqual(r1.grant);
    const again = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 1000 + 29_999));
    expect(again.refreshToken).toBe(r1.refreshToken);
    const r2 = ok(await rotateChain(env, app, r1.refreshToken, "client-a", T + 2000));
    expect(r2.refreshToken).not.toBe(r1.refreshToken);
    expect(await reuseEvents(app.id, user._id)).toEqual([]);
  });

  it("a retry of the previous token after the window revokes the chain and logs reuse", async () => {
    const { app, user } = await fixture();
    const start = await startChain(env, app, user._id, grant(), T);
    const r1 = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 1000));
    expect(await rotateChain(env, app, start.refreshToken, "client-a", T + 1000 + 30_000)).toEqual({ ok: false, reason: "reused" });
    // The whole chain is dead: the successor no longer works either.
    expect(await rotateChain(env, app, r1.refreshToken, "client-a", T + 1000 + 30_001)).toEqual({ ok: false, reason: "revoked" });
    const events = await reuseEvents(app.id, user._id);
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.data)).toEqual({ chain_id: start.chainId, client_id: "client-a" });
    expect((await indexRow(start.chainId))?.ended_at).toBe(T + 1000 + 30_000);
  });

  it("overlap 0 disables the window: the previous token at once is reuse", async () => {
    const { app, user } = await fixture({ refresh_overlap: 0 });
    const start = await startChain(env, app, user._id, grant(), T);
    const r1 = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 1000));
    expect(await rotateChain(env, app, start.refreshToken, "client-a", T + 1001)).toEqual({ ok: false, reason: "reused" });
    expect(await rotateChain(env, app, r1.refreshToken, "client-a", T + 1002)).toEqual({ ok: false, reason: "revoked" });
  });

  it("a grand-parent token revokes the chain even inside the window", async () => {
    const { app, user } = await fixture();
    const start = await startChain(env, app, user._id, grant(), T);
    const r1 = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 1000));
    const r2 = ok(await rotateChain(env, app, r1.refreshToken, "client-a", T + 2000));
    expect(await rotateChain(env, app, start.refreshToken, "client-a", T + 2001)).toEqual({ ok: false, reason: "reused" });
    expect(await rotateChain(env, app, r2.refreshToken, "client-a", T + 2002)).toEqual({ ok: false, reason: "revoked" });
    expect(await rotateChain(env, app, r1.refreshToken, "client-a", T + 2003)).toEqual({ ok: false, reason: "revoked" });
    expect(await reuseEvents(app.id, user._id)).toHaveLength(1);
  });

  it("a revoked chain stays dead while the user's other chains keep working", async () => {
    const { app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant(), T);
    const b = await startChain(env, app, user._id, grant({ clientId: "client-b" }), T);
    const a1 = ok(await rotateChain(env, app, a.refreshToken, "client-a", T + 1000));
    expect((await rotateChain(env, app, a.refreshToken, "client-a", T + 60_000)).ok).toBe(false);
    for (let i = 0; i < 3; i++) {
      expect(await rotateChain(env, app, a1.refreshToken, "client-a", T + 61_000 + i)).toEqual({ ok: false, reason: "revoked" });
    }
    const b1 = ok(await rotateChain(env, app, b.refreshToken, "client-b", T + 62_000));
    ok(await rotateChain(env, app, b1.refreshToken, "client-b", T + 63_000));
    expect((await listUserChains(env, app.id, user._id)).map((c) => c.id)).toEqual([b.chainId]);
    expect((await indexRow(b.chainId))?.ended_at).toBeNull();
  });

  it("idle expiry: a chain unused for refresh_token_ttl is refused and stays refused", async () => {
    const { app, user } = await fixture({ refresh_token_ttl: 3600 });
    const start = await startChain(env, app, user._id, grant(), T);
    const r1 = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 3_599_999));
    // The idle lifetime counts from the last rotation.
    const r2 = ok(await rotateChain(env, app, r1.refreshToken, "client-a", T + 3_599_999 + 3_599_999));
    expect(await rotateChain(env, app, r2.refreshToken, "client-a", T + 3_599_999 * 2 + 3_600_000)).toEqual({ ok: false, reason: "expired" });
    expect(await rotateChain(env, app, r2.refreshToken, "client-a", T + 3_599_999 * 2 + 3_600_001)).toEqual({ ok: false, reason: "expired" });
    expect((await indexRow(start.chainId))?.ended_at).not.toBeNull();
  });

  it("absolute expiry: a chain in constant use still ends at refresh_absolute_ttl", async () => {
    const { app, user } = await fixture({ refresh_token_ttl: 3600, refresh_absolute_ttl: 7200 });
    const start = await startChain(env, app, user._id, grant(), T);
    let token = start.refreshToken;
    for (const at of [1_800_000, 3_600_000, 5_400_000, 7_199_999]) token = ok(await rotateChain(env, app, token, "client-a", T + at)).refreshToken;
    expect(await rotateChain(env, app, token, "client-a", T + 7_200_000)).toEqual({ ok: false, reason: "expired" });
    expect(await listUserChains(env, app.id, user._id)).toEqual([]);
  });

  it("the per-user cap ends the oldest chain when a new one starts", async () => {
    const { app, user } = await fixture({ max_chains_per_user: 2 });
    const a = await startChain(env, app, user._id, grant(), T);
    const b = await startChain(env, app, user._id, grant(), T + 1);
    const c = await startChain(env, app, user._id, grant(), T + 2);
    expect(await rotateChain(env, app, a.refreshToken, "client-a", T + 3)).toEqual({ ok: false, reason: "revoked" });
    ok(await rotateChain(env, app, b.refreshToken, "client-a", T + 4));
    ok(await rotateChain(env, app, c.refreshToken, "client-a", T + 5));
    const listed = await listUserChains(env, app.id, user._id);
    expect(listed.map((x) => x.id)).toEqual([b.chainId, c.chainId]);
    expect((await indexRow(a.chainId))?.ended_at).toBe(T + 2);
  });

  it("another client is refused and the chain is untouched", async () => {
    const { app, user } = await fixture();
    const start = await startChain(env, app, user._id, grant(), T);
    expect(await rotateChain(env, app, start.refreshToken, "client-b", T + 1000)).toEqual({ ok: false, reason: "client_mismatch" });
    const r1 = ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 2000));
    // An old token presented by another client does not trigger reuse either.
    expect(await rotateChain(env, app, start.refreshToken, "client-b", T + 60_000)).toEqual({ ok: false, reason: "client_mismatch" });
    ok(await rotateChain(env, app, r1.refreshToken, "client-a", T + 60_001));
    expect(await reuseEvents(app.id, user._id)).toEqual([]);
  });

  it("malformed, forged, foreign-app and unknown-chain tokens are refused without touching the chain", async () => {
    const { app, user } = await fixture();
    const other = await fixture();
    const start = await startChain(env, app, user._id, grant(), T);
    const parsed = parseRefreshToken(start.refreshToken)!;
    expect(await rotateChain(env, app, "garbage", "client-a", T + 1)).toEqual({ ok: false, reason: "malformed" });
    expect(await rotateChain(env, app, formatRefreshToken(app.id, user._id, parsed.chainId, randomToken()), "client-a", T + 1)).toEqual({
      ok: false,
      reason: "unknown",
    });
    expect(await rotateChain(env, app, formatRefreshToken(app.id, user._id, "0".repeat(24), parsed.secret), "client-a", T + 1)).toEqual({
      ok: false,
      reason: "unknown",
    });
    expect(await rotateChain(env, other.app, start.refreshToken, "client-a", T + 1)).toEqual({ ok: false, reason: "unknown" });
    // A well-formed token for a made-up user wakes no object at all.
    const objectsBefore = (await listDurableObjectIds(env.CHAINS)).length;
    const forged = formatRefreshToken(app.id, "made-up-user", parsed.chainId, parsed.secret);
    expect(await rotateChain(env, app, forged, "client-a", T + 1)).toEqual({ ok: false, reason: "unknown" });
    expect((await listDurableObjectIds(env.CHAINS)).length).toBe(objectsBefore);
    ok(await rotateChain(env, app, start.refreshToken, "client-a", T + 2));
    expect(await reuseEvents(app.id, user._id)).toEqual([]);
  });

  it("claims: invalidation marks every chain stale until the snapshot is rebuilt", async () => {
    const { app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant(), T);
    const b = await startChain(env, app, user._id, grant(), T);
    await invalidateUserClaims(env, app.id, user._id);
    const a1 = ok(await rotateChain(env, app, a.refreshToken, "client-a", T + 1));
    expect(a1.claimsStale).toBe(true);
    await updateChainClaims(env, app, user._id, a.chainId, { email: "new@example.com" });
    const a2 = ok(await rotateChain(env, app, a1.refreshToken, "client-a", T + 2));
    expect(a2).toMatchObject({ claimsStale: false, grant: { claims: { email: "new@example.com" } } });
    expect(ok(await rotateChain(env, app, b.refreshToken, "client-a", T + 3)).claimsStale).toBe(true);
  });

  it("claims: an invalidation that lands while claims are being rebuilt is not lost", async () => {
    const { app, user } = await fixture();
    const a = await startChain(env, app, user._id, grant(), T);
    await invalidateUserClaims(env, app.id, user._id);
    const a1 = ok(await rotateChain(env, app, a.refreshToken, "client-a", T + 1));
    expect(a1.claimsStale).toBe(true);
    // The caller is rebuilding claims from D1 when another change lands.
    await invalidateUserClaims(env, app.id, user._id);
    await updateChainClaims(env, app, user._id, a.chainId, { email: "rebuilt-before-second-change" });
    const a2 = ok(await rotateChain(env, app, a1.refreshToken, "client-a", T + 2));
    expect(a2.claimsStale).toBe(true);
    await updateChainClaims(env, app, user._id, a.chainId, { email: "rebuilt-after" });
    expect(ok(await rotateChain(env, app, a2.refreshToken, "client-a", T + 3))).toMatchObject({ claimsStale: false, grant: { claims: { email: "rebuilt-after" } } });
  });
});
