/** The pure passkey rules: the policy table, continuations, the relying party of a request. */
import { describe, expect, it } from "vitest";
import { relyingParty } from "../../worker/webauthn/ceremony";
import { methodSatisfies, passwordOutcome, passwordSurfaceAllowed } from "../../worker/identity/auth-policy";
import { safeContinue } from "../../worker/sessions/continue";
import { cleanName } from "../../worker/identity/passkeys";
import { DEFAULT_SETTINGS } from "../../worker/tenancy/settings";
import type { App } from "../../worker/tenancy/apps";

describe("auth policy", () => {
  it("what a correct password leads to", () => {
    expect(passwordOutcome("none", 0)).toBe("session");
    expect(passwordOutcome("none", 3)).toBe("session");
    expect(passwordOutcome("passkey_preferred", 0)).toBe("offer_enrolment");
    expect(passwordOutcome("passkey_preferred", 1)).toBe("session");
    expect(passwordOutcome("passkey_required", 0)).toBe("enrol_first");
    expect(passwordOutcome("passkey_required", 1)).toBe("refuse");
  });

  it("which sessions still count", () => {
    expect(methodSatisfies("none", "password")).toBe(true);
    expect(methodSatisfies("passkey_preferred", "password")).toBe(true);
    expect(methodSatisfies("passkey_required", "password")).toBe(false);
    expect(methodSatisfies("passkey_required", "passkey")).toBe(true);
    expect(methodSatisfies("passkey_required", "")).toBe(false);
    expect(passwordSurfaceAllowed("passkey_preferred")).toBe(true);
    expect(passwordSurfaceAllowed("passkey_required")).toBe(false);
  });
});

describe("continuations", () => {
  it("keep only authorization parameters, drop prompt, never leave the auth host", () => {
    expect(safeContinue("/oauth2/auth?client_id=c&prompt=login&redirect_uri=https%3A%2F%2Fx%2Fcb&evil=1")).toBe("/oauth2/auth?client_id=c&redirect_uri=https%3A%2F%2Fx%2Fcb");
    for (const bad of ["https://evil.example/oauth2/auth?x=1", "//evil.example/", "/oauth2/authx", 5, undefined, `/oauth2/auth?${"a".repeat(5000)}`]) {
      expect(safeContinue(bad)).toBe("/passkeys");
    }
  });
});

describe("relying party", () => {
  const app = (customDomain: string | null) => ({ name: "Shop", slug: "shop", customDomain, settings: DEFAULT_SETTINGS }) as unknown as App;
  it("is the request's host name in exchange mode and auth.{domain} in cookie mode; the origin is the issuer", () => {
    expect(relyingParty(app(null), "shop.localhost:8787", "http://shop.localhost:8787")).toEqual({ id: "shop.localhost", name: "Shop", origin: "http://shop.localhost:8787" });
    expect(relyingParty(app("shop.example"), "auth.shop.example", "https://auth.shop.example")).toEqual({ id: "auth.shop.example", name: "Shop", origin: "https://auth.shop.example" });
  });
});

describe("passkey names", () => {
  it("are trimmed, 1–64 characters, without control characters", () => {
    expect(cleanName("  Laptop ")).toBe("Laptop");
    for (const bad of ["", "   ", "a".repeat(65), "bad\nname", 5, null]) expect(cleanName(bad)).toBeNull();
  });
});
