/** App resolution by Host (SPEC §1) against real D1. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appByHost, clearAppCache } from "../../worker/tenancy/apps";
import { createApp } from "../helpers";

describe("tenancy", () => {
  it("resolves slug hosts, custom auth domains and the default app, ignoring ports", async () => {
    const plain = await createApp();
    const domain = `c${Date.now().toString(36)}.localhost`;
    const custom = await createApp({ custom_domain: domain });
    clearAppCache();
    expect((await appByHost(env, `${plain.slug}.localhost:8787`))?.id).toBe(plain.id);
    expect((await appByHost(env, `${plain.slug.toUpperCase()}.LOCALHOST`))?.id).toBe(plain.id);
    expect((await appByHost(env, `auth.${domain}:8787`))?.id).toBe(custom.id);
    expect(await appByHost(env, "nothing.example.com")).toBeNull(); // DEFAULT_APP "demo" is not seeded in tests
    expect(await appByHost({ ...env, DEFAULT_APP: plain.slug }, "nothing.example.com")).toMatchObject({ id: plain.id });
  });

});
