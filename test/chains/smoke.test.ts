import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { rotateChain, startChain } from "../../worker/chains/api";
import { fixture, grant } from "./setup";

describe("chains smoke", () => {
  it("starts and rotates", async () => {
    const { app, user } = await fixture();
    const started = await startChain(env, app, user._id, grant());
    const r = await rotateChain(env, app, started.refreshToken, "client-a");
    expect(r).toMatchObject({ ok: true, chainId: started.chainId, userId: user._id, claimsStale: false });
  });
});
