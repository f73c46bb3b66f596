/** The pure rules behind the OAuth face. */
import { describe, expect, it } from "vitest";
import type { Client } from "../../worker/identity/clients";
import { checkAuthorizeRequest, redirectWith } from "../../worker/oauth/authorize-request";
import { presentedClient } from "../../worker/oauth/client-auth";
import { narrowScope, parseScope, wantsOffline } from "../../worker/oauth/scopes";
import { validChallenge, validVerifier, s256 } from "../../worker/oauth/pkce";
import { flagValue } from "../../worker/identity/claims";

const client: Client = { id: "c1", appId: "a", name: "c", type: "public", secretHash: null, redirectUris: ["https://x.example/cb", "com.example.app:/cb"], postLogoutRedirectUris: [], allowedOrigins: [], scopes: [], refreshTokenDelivery: "body", legacyScopes: false, registration: "operator", audiences: [], metadata: null, registrationTokenHash: null, createdAt: 0, lastUsedAt: null };

describe("rules", () => {
  it("scopes", () => {
    expect(parseScope(" openid  openid offline ")).toEqual(["openid", "offline"]);
    expect(wantsOffline(["offline_access"])).toBe(true);
    expect(wantsOffline(["openid"])).toBe(false);
    expect(narrowScope(["a", "b"], [])).toEqual(["a", "b"]);
    expect(narrowScope(["a", "b"], ["b"])).toEqual(["b"]);
    expect(narrowScope(["a"], ["a", "c"])).toBeNull();
  });

  it("PKCE (RFC 7636 appendix B)", async () => {
    expect(await s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    expect(validVerifier("a".repeat(42))).toBe(false);
    expect(validVerifier("a".repeat(129))).toBe(false);
    expect(validChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")).toBe(true);
    expect(validChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=")).toBe(false);
  });

  it("authorization requests: page errors vs redirected errors", () => {
    const ok = new URLSearchParams({ client_id: "c1", redirect_uri: "com.example.app:/cb", response_type: "code", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", state: "s" });
    expect(checkAuthorizeRequest(ok, client, "https://i").kind).toBe("ok");
    expect(checkAuthorizeRequest(ok, null, "https://i").kind).toBe("page");
    const dup = new URLSearchParams(ok);
    dup.append("redirect_uri", "com.example.app:/cb");
    expect(checkAuthorizeRequest(dup, client, "https://i").kind).toBe("page");
    const dupState = new URLSearchParams(ok);
    dupState.append("state", "t");
    expect(checkAuthorizeRequest(dupState, client, "https://i")).toMatchObject({ kind: "redirect", error: "invalid_request" });
  });

  it("redirect URIs keep their query and get the parameters appended", () => {
    expect(redirectWith("https://x.example/cb?a=1", { code: "c", state: "s t", iss: null })).toBe("https://x.example/cb?a=1&code=c&state=s+t");
    expect(redirectWith("com.example.app:/cb", { code: "c" })).toBe("com.example.app:/cb?code=c");
  });

  it("client credentials as presented", () => {
    const basic = `Basic ${btoa("c%3A1:s%2Bx")}`;
    expect(presentedClient(basic, new URLSearchParams())).toEqual({ clientId: "c:1", secret: "s+x", method: "client_secret_basic" });
    expect(presentedClient(null, new URLSearchParams({ client_id: "c" }))).toEqual({ clientId: "c", secret: null, method: "none" });
    expect(() => presentedClient(basic, new URLSearchParams({ client_secret: "x" }))).toThrow(/one client authentication method/);
    expect(() => presentedClient("Basic !!!", new URLSearchParams())).toThrow();
  });

  it("feature flag values by type", () => {
    expect(flagValue("b", "true")).toEqual({ t: "b", v: true });
    expect(flagValue("i", "42")).toEqual({ t: "i", v: 42 });
    expect(flagValue("i", "4.2")).toBeUndefined();
    expect(flagValue("s", "pink")).toEqual({ t: "s", v: "pink" });
  });
});
