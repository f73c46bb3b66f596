/** The operator console's pure rules: where it lives, what a custom domain implies, what a suspension toggle does. */
import { describe, expect, it } from "vitest";
import { consoleCookieValue, isConsoleHost, setConsoleCookie, verifyConsoleCookie } from "../../worker/console/auth";
import { appMode } from "../../worker/tenancy/app-admin";
import { suspensionStatus } from "../../worker/identity/user-admin";
import type { Env } from "../../worker/env";

describe("console rules", () => {
  it("lives on BASE_HOST only, whatever the port", () => {
    const env = { BASE_HOST: "latch.example.com" };
    expect(isConsoleHost(env, "latch.example.com")).toBe(true);
    expect(isConsoleHost(env, "LATCH.example.com:443")).toBe(true);
    expect(isConsoleHost(env, "acme.latch.example.com")).toBe(false);
    expect(isConsoleHost(env, "auth.acme.com")).toBe(false);
    expect(isConsoleHost({ BASE_HOST: "localhost:8787" }, "localhost:1234")).toBe(true);
    expect(isConsoleHost({ BASE_HOST: "localhost:8787" }, "127.0.0.1:8787")).toBe(false);
  });

  it("signs the cookie with the operator token as context and expires it", async () => {
    const env = { KEY_ENCRYPTION_SECRET: "k".repeat(40), ADMIN_TOKEN: "operator" } as Env;
    const now = Date.UTC(2026, 0, 1);
    const value = await consoleCookieValue(env, now);
    expect(await verifyConsoleCookie(env, value, now + 1000)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await verifyConsoleCookie(env, value, now + 8 * 3600_000 + 1)).toBeNull();
    expect(await verifyConsoleCookie({ ...env, ADMIN_TOKEN: "rotated" }, value, now)).toBeNull();
    expect(await verifyConsoleCookie({ ...env, ADMIN_TOKEN: "" }, value, now)).toBeNull();
    const [nonce, expires, mac] = value.split(".");
    expect(await verifyConsoleCookie(env, `${nonce}.${Number(expires) + 3600}.${mac}`, now)).toBeNull();
    expect(setConsoleCookie(value)).toBe(`latch_console=${value}; Max-Age=28800; Path=/console; HttpOnly; Secure; SameSite=Strict`);
  });

  it("derives the mode from the custom domain and keeps a disabled user disabled", () => {
    expect(appMode({ customDomain: "acme.com" })).toBe("cookie");
    expect(appMode({ customDomain: null })).toBe("exchange");
    expect(suspensionStatus({ status: "active" }, true)).toBe("suspended");
    expect(suspensionStatus({ status: "suspended" }, false)).toBe("active");
    expect(suspensionStatus({ status: "disabled" }, false)).toBeUndefined();
  });
});
