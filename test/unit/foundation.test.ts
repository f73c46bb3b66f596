/** Pure modules of the foundation, tested directly. */
import wranglerToml from "../../wrangler.toml?raw";
import { describe, expect, it } from "vitest";
import { decodeBasic } from "../../worker/identity/credentials";
import { hashPassword, needsRehash, passwordParams, PBKDF2_MAX_ITERATIONS, PRODUCTION_PARAMS, verifyPassword } from "../../worker/identity/password";
import { canonicalIssuer, hostName, requestIssuer } from "../../worker/tenancy/apps";
import { DEFAULT_SETTINGS, mergeSettings, SettingsError } from "../../worker/tenancy/settings";
import { openJwk, sealJwk } from "../../worker/keys/seal";
import { derivedHmacKey, derivedKey, hex, hmacSha256 } from "../../worker/util/crypto";

const CHEAP = passwordParams({ PASSWORD_HASH_PARAMS: "scrypt$N=1024,r=8,p=1" });

describe("password hashing", () => {
  it("deployments hash with scrypt N=2^14, r=8, p=1: no binding and wrangler.toml sets none", async () => {
    expect(passwordParams({})).toEqual({ scheme: "scrypt", N: 16384, r: 8, p: 1 });
    expect(PRODUCTION_PARAMS).toEqual({ scheme: "scrypt", N: 16384, r: 8, p: 1 });
    expect(wranglerToml).not.toMatch(/PASSWORD_HASH_PARAMS/);
    const hash = await hashPassword("pässword", PRODUCTION_PARAMS);
    expect(hash).toMatch(/^scrypt\$N=16384,r=8,p=1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword("pässword", hash, CHEAP)).toBe(true);
    expect(needsRehash(hash, PRODUCTION_PARAMS)).toBe(false);
  });

  it("round-trips with the current scheme and refuses a wrong password", async () => {
    const hash = await hashPassword("pässword", CHEAP);
    expect(hash).toMatch(/^scrypt\$N=1024,r=8,p=1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword("pässword", hash, CHEAP)).toBe(true);
    expect(await verifyPassword("password", hash, CHEAP)).toBe(false);
    expect(needsRehash(hash, CHEAP)).toBe(false);
    expect(needsRehash(hash, PRODUCTION_PARAMS)).toBe(true);
  });

  it("refuses a PASSWORD_HASH_PARAMS it cannot read", () => {
    expect(() => passwordParams({ PASSWORD_HASH_PARAMS: "scrypt" })).toThrow(/scheme\$params/);
    expect(() => passwordParams({ PASSWORD_HASH_PARAMS: "md5$i=1" })).toThrow(/scheme\$params/);
  });

  it("verifies older schemes (stored parameters) and flags them for upgrade", async () => {
    const pbkdf2 = await hashPassword("legacy", { scheme: "pbkdf2-sha256", i: 1000 });
    expect(await verifyPassword("legacy", pbkdf2, CHEAP)).toBe(true);
    expect(needsRehash(pbkdf2, CHEAP)).toBe(true);
    const argon = await hashPassword("legacy", { scheme: "argon2id", m: 64, t: 1, p: 1 });
    expect(await verifyPassword("legacy", argon, CHEAP)).toBe(true);
  });

  it("refuses PBKDF2 above the deployed-Workers cap and malformed hashes", async () => {
    await expect(hashPassword("x", { scheme: "pbkdf2-sha256", i: PBKDF2_MAX_ITERATIONS + 1 })).rejects.toThrow(/cap/);
    expect(await verifyPassword("x", "garbage", CHEAP)).toBe(false);
    expect(await verifyPassword("x", "scrypt$N=0,r=8,p=1$AAAA$AAAA", CHEAP)).toBe(false);
  });
});

describe("Basic credentials", () => {
  it("decodes name and secret, keeping colons in the secret", () => {
    expect(decodeBasic(btoa("kid_x:se:cret"))).toEqual(["kid_x", "se:cret"]);
  });
  it.each([["%%%"], [btoa("nocolon")], [btoa(":secret")], [btoa("a\u0001b:c")], ["YQ"]])("refuses %s", (value) => {
    expect(() => decodeBasic(value)).toThrow();
  });
});

describe("settings", () => {
  it("merges valid patches and refuses the rest", () => {
    expect(mergeSettings(DEFAULT_SETTINGS, { refresh_overlap: 0 }).refresh_overlap).toBe(0);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { access_token_ttl: 4 })).toThrow(SettingsError);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { refresh_token_ttl: 10 })).toThrow(/exceed/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { max_chains_per_user: 1.5 })).toThrow(SettingsError);
    expect(() => mergeSettings(DEFAULT_SETTINGS, [])).toThrow(SettingsError);
  });
});

describe("tenancy", () => {
  it("derives issuers: https in production, http with port locally", () => {
    expect(canonicalIssuer({ slug: "acme", customDomain: null }, { BASE_HOST: "latch.dev" })).toBe("https://acme.latch.dev");
    expect(canonicalIssuer({ slug: "acme", customDomain: "acme.com" }, { BASE_HOST: "latch.dev" })).toBe("https://auth.acme.com");
    expect(canonicalIssuer({ slug: "acme", customDomain: null }, { BASE_HOST: "localhost:8787" })).toBe("http://acme.localhost:8787");
    expect(requestIssuer("127.0.0.1:8787")).toBe("http://127.0.0.1:8787");
    expect(requestIssuer("auth.acme.com")).toBe("https://auth.acme.com");
    expect(hostName("[::1]:8787")).toBe("[::1]");
  });
});

describe("derived keys", () => {
  const secret = "a-deployment-secret-0123456789";

  it("refuse a deployment secret shorter than 16 characters, for every use", async () => {
    for (const short of ["", "fifteen-chars!!"]) {
      await expect(derivedHmacKey(short, "latch/csrf/v1")).rejects.toThrow("KEY_ENCRYPTION_SECRET must be set (at least 16 characters)");
      await expect(derivedKey(short, "latch/mail/v1", "app", "aes-gcm")).rejects.toThrow("at least 16 characters");
    }
    await expect(sealJwk({ KEY_ENCRYPTION_SECRET: "too short" }, "app", "kid", {})).rejects.toThrow("at least 16 characters");
  });

  it("give each purpose and info its own key", async () => {
    const mac = async (purpose: string, info = "") => hex(await hmacSha256(await derivedHmacKey(secret, purpose, info), "text"));
    expect(await mac("latch/csrf/v1")).toBe(await mac("latch/csrf/v1"));
    expect(await mac("latch/csrf/v1")).not.toBe(await mac("latch/mic-ticket/v1"));
    expect(await mac("latch/console/v1", "token-a")).not.toBe(await mac("latch/console/v1", "token-b"));
    const sealed = await sealJwk({ KEY_ENCRYPTION_SECRET: secret }, "app-1", "kid-1", { k: "v" });
    expect(await openJwk({ KEY_ENCRYPTION_SECRET: secret }, "app-1", "kid-1", sealed)).toEqual({ k: "v" });
    await expect(openJwk({ KEY_ENCRYPTION_SECRET: secret }, "app-2", "kid-1", sealed)).rejects.toThrow();
  });
});
