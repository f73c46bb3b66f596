/**
 * Parallel refreshes of one token never answer 5xx: the object serialises them, the overlap
 * window gives every one the same successor, and a call the runtime refuses is tried once
 * more (when that is harmless) or answered 503 temporarily_unavailable with Retry-After.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callChains, CHAINS_RETRY_AFTER, chainsStub } from "../../worker/chains/api";
import { RequestError } from "../../worker/http/errors";
import { appById, clearAppCache } from "../../worker/tenancy/apps";
import { addClient, newUser, oauthApp, tokenRequest, tokensFor, type TokenBody } from "../oauth/helpers";
import { grant } from "./setup";

describe("ten parallel native refreshes of one token", () => {
  it("all answer 200 with one successor, also with 300 other objects alive, and the successor then rotates", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const { refresh_token } = await tokensFor(app, client, user);
    clearAppCache();
    const stored = (await appById(env, app.id))!;
    // 300 other users' objects, woken and written before the burst (straight to the objects: the index is not the point).
    const settings = { ...stored.settings, max_chains_per_user: 10 };
    for (let batch = 0; batch < 3; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          chainsStub(env, app.id, `other-${batch}-${i}`).start(`chain-${batch}-${i}`, { ...grant(), claims: "{}" }, Date.now(), settings),
        ),
      );
    }
    const refresh = (token: string) => tokenRequest(app, { grant_type: "refresh_token", refresh_token: token, client_id: client.client_id });
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(refresh_token!)));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    const bodies = await Promise.all(answers.map((r) => r.json<TokenBody>()));
    const successors = new Set(bodies.map((b) => b.refresh_token));
    expect(successors.size).toBe(1);
    const [successor] = [...successors] as [string];
    expect(successor).not.toBe(refresh_token);
    const next = await refresh(successor);
    expect(next.status).toBe(200);
    expect((await next.json<TokenBody>()).refresh_token).not.toBe(successor);
  }, 120_000);
});

describe("callChains: a call the runtime refuses", () => {
  const refusal = (flags: Record<string, boolean>) => Object.assign(new Error("Durable Object reset because its code was updated."), flags);

  it("is tried once more when it is retryable and repeating is harmless", async () => {
    let calls = 0;
    const result = await callChains(async () => {
      calls += 1;
      if (calls === 1) throw refusal({ retryable: true });
      return "ok";
    }, true);
    expect([result, calls]).toEqual(["ok", 2]);
  });

  it("becomes a 503 with Retry-After when it fails again, is an overload, or must not repeat", async () => {
    for (const [flags, repeatable, expectedCalls] of [
      [{ retryable: true }, true, 2],
      [{ overloaded: true, retryable: true }, true, 1],
      [{ retryable: true }, false, 1],
    ] as const) {
      let calls = 0;
      const failure = await callChains(async () => {
        calls += 1;
        throw refusal(flags);
      }, repeatable).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(RequestError);
      expect(failure).toMatchObject({ kind: "unavailable", retryAfter: CHAINS_RETRY_AFTER });
      expect(calls).toBe(expectedCalls);
    }
  });

  it("leaves every other error alone", async () => {
    const boom = new Error("a bug");
    await expect(callChains(async () => Promise.reject(boom), true)).rejects.toBe(boom);
  });
});
