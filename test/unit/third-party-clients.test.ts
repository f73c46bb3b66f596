/** Third-party client rules (pure): registration metadata, metadata documents, targets, consent, loopback redirects. */
import { describe, expect, it } from "vitest";
import { parseClientMetadata, redirectUriProblem } from "../../worker/identity/client-registration";
import { cacheLifetimeMs, documentMetadata, metadataUrlProblem } from "../../worker/identity/client-metadata";
import { clientExpired } from "../../worker/identity/clients";
import { consentCovers } from "../../worker/identity/consents";
import { redirectUriAllowed } from "../../worker/oauth/authorize-request";
import { narrowTargets, refusedTarget, requestedTargets } from "../../worker/oauth/resources";
import { USER_SCOPES } from "../../worker/oauth/scopes";

const rules = { knownScopes: USER_SCOPES, document: false };

describe("registration metadata (RFC 7591 §2)", () => {
  it("accepts a native MCP client and applies the RFC defaults", () => {
    const ok = parseClientMetadata({ redirect_uris: ["http://127.0.0.1:33418/callback"], client_name: "Agent", token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"], scope: "openid offline", unknown_field: 1 }, rules);
    expect(ok).toEqual({
      ok: true,
      metadata: { redirect_uris: ["http://127.0.0.1:33418/callback"], client_name: "Agent", token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], scope: "openid offline" },
    });
    const defaults = parseClientMetadata({ redirect_uris: ["https://app.example/cb"] }, rules);
    expect(defaults.ok && defaults.metadata).toMatchObject({ token_endpoint_auth_method: "client_secret_basic", grant_types: ["authorization_code"], response_types: ["code"] });
  });

  it.each([
    "http://app.example/cb",
    "http://192.168.1.2/cb",
    "https://app.example/cb#frag",
    "javascript:alert(1)",
    "data:text/html,hi",
    "myapp:/cb",
    "/relative",
    "",
  ])("refuses the redirect URI %j", (uri) => {
    expect(redirectUriProblem(uri)).not.toBeNull();
    expect(parseClientMetadata({ redirect_uris: [uri] }, rules)).toMatchObject({ ok: false, error: "invalid_redirect_uri" });
  });

  it("allows https, loopback on any port and reverse-domain schemes", () => {
    for (const uri of ["https://app.example/cb", "http://127.0.0.1/cb", "http://[::1]:50000/cb", "http://localhost:8000/cb", "com.example.app:/oauth"]) {
      expect(redirectUriProblem(uri), uri).toBeNull();
    }
  });

  it.each([
    [{ redirect_uris: [] }, "invalid_redirect_uri"],
    [{}, "invalid_redirect_uri"],
    [{ redirect_uris: ["https://a.example/cb"], token_endpoint_auth_method: "private_key_jwt" }, "invalid_client_metadata"],
    [{ redirect_uris: ["https://a.example/cb"], grant_types: ["client_credentials"] }, "invalid_client_metadata"],
    [{ redirect_uris: ["https://a.example/cb"], grant_types: ["refresh_token"] }, "invalid_client_metadata"],
    [{ redirect_uris: ["https://a.example/cb"], response_types: ["token"] }, "invalid_client_metadata"],
    [{ redirect_uris: ["https://a.example/cb"], scope: "openid admin" }, "invalid_client_metadata"],
    [{ redirect_uris: ["https://a.example/cb"], client_name: "a\u0000b" }, "invalid_client_metadata"],
    [{ redirect_uris: ["https://a.example/cb"], logo_uri: "http://a.example/logo.png" }, "invalid_client_metadata"],
  ])("refuses %j with %s", (input, error) => {
    expect(parseClientMetadata(input as Record<string, unknown>, rules)).toMatchObject({ ok: false, error });
  });
});

describe("Client ID Metadata Documents", () => {
  const url = "https://agent.example/oauth/client.json";

  it("checks the URL's form before any fetch", () => {
    expect(metadataUrlProblem(url, { development: false })).toBeNull();
    for (const bad of ["https://agent.example", "https://agent.example/", "https://agent.example/a/../client.json", "https://agent.example/./c.json", "https://agent.example/c.json#x", "http://agent.example/c.json", "https://10.0.0.1/c.json", "https://127.0.0.1/c.json", "https://u:p@agent.example/c.json"]) {
      expect(metadataUrlProblem(bad, { development: false }), bad).not.toBeNull();
    }
    expect(metadataUrlProblem("http://127.0.0.1:4000/client.json", { development: true })).toBeNull();
    expect(metadataUrlProblem("http://127.0.0.1:4000/client.json", { development: false })).not.toBeNull();
  });

  it("needs client_id equal to the URL, no shared secret, and good metadata", () => {
    const doc = { client_id: url, client_name: "Agent", redirect_uris: ["http://127.0.0.1:9/cb"] };
    expect(documentMetadata(url, doc, USER_SCOPES)).toMatchObject({ ok: true, metadata: { token_endpoint_auth_method: "none", client_name: "Agent" } });
    expect(documentMetadata(url, { ...doc, client_id: "https://agent.example/other.json" }, USER_SCOPES)).toEqual({ ok: false, reason: "the document's client_id is not its URL" });
    expect(documentMetadata(url, { ...doc, client_id: url + "/" }, USER_SCOPES).ok).toBe(false);
    expect(documentMetadata(url, { ...doc, token_endpoint_auth_method: "client_secret_basic" }, USER_SCOPES).ok).toBe(false);
    expect(documentMetadata(url, { ...doc, client_secret: "x" }, USER_SCOPES).ok).toBe(false);
    expect(documentMetadata(url, [doc], USER_SCOPES).ok).toBe(false);
  });

  it("caches by Cache-Control within bounds", () => {
    expect(cacheLifetimeMs(null)).toBe(300_000);
    expect(cacheLifetimeMs("max-age=5")).toBe(60_000);
    expect(cacheLifetimeMs("public, max-age=600")).toBe(600_000);
    expect(cacheLifetimeMs("max-age=999999999")).toBe(86_400_000);
    expect(cacheLifetimeMs("no-store")).toBe(60_000);
  });
});

describe("audiences and resources (RFC 8707, issue 18)", () => {
  const client = { id: "c1", audiences: ["https://api.example"] };

  it("collects resource and audience values", () => {
    const params = new URLSearchParams([["resource", "https://mcp.example/mcp"], ["audience", "https://api.example other"], ["resource", "https://mcp.example/mcp"]]);
    expect(requestedTargets(params)).toEqual({ ok: true, targets: ["https://mcp.example/mcp", "https://api.example", "other"] });
    expect(requestedTargets(new URLSearchParams("resource=not-a-uri"))).toMatchObject({ ok: false, error: "invalid_target" });
    expect(requestedTargets(new URLSearchParams("resource=https://a.example/x%23frag"))).toMatchObject({ ok: false, error: "invalid_target" });
  });

  it("allows the client id, the client's audiences and the app's resources only", () => {
    expect(refusedTarget([], client, [])).toBeNull();
    expect(refusedTarget(["c1", "https://api.example", "https://mcp.example/mcp"], client, ["https://mcp.example/mcp"])).toBeNull();
    expect(refusedTarget(["https://evil.example"], client, ["https://mcp.example/mcp"])).toBe("https://evil.example");
    expect(refusedTarget(["https://mcp.example/mcp/"], client, ["https://mcp.example/mcp"])).toBe("https://mcp.example/mcp/");
  });

  it("narrows, never widens", () => {
    expect(narrowTargets(["a", "b"], [], "c1")).toEqual(["a", "b"]);
    expect(narrowTargets(["a", "b"], ["b"], "c1")).toEqual(["b"]);
    expect(narrowTargets(["a"], ["a", "x"], "c1")).toBeNull();
    expect(narrowTargets([], ["c1"], "c1")).toEqual(["c1"]);
    expect(narrowTargets([], ["x"], "c1")).toBeNull();
  });
});

describe("consent, expiry and loopback redirects", () => {
  it("a consent covers requests within it", () => {
    expect(consentCovers(null, [], [])).toBe(false);
    expect(consentCovers({ scopes: ["openid", "offline"], resources: ["r"] }, ["openid"], ["r"])).toBe(true);
    expect(consentCovers({ scopes: ["openid"], resources: [] }, ["openid", "email"], [])).toBe(false);
    expect(consentCovers({ scopes: ["openid"], resources: [] }, ["openid"], ["r"])).toBe(false);
  });

  it("dynamic clients expire unused; operator clients never", () => {
    const day = 86_400_000;
    expect(clientExpired({ registration: "dynamic", lastUsedAt: 10 * day, createdAt: 0 }, 30 * 86400, 39 * day)).toBe(false);
    expect(clientExpired({ registration: "dynamic", lastUsedAt: 10 * day, createdAt: 0 }, 30 * 86400, 40 * day)).toBe(true);
    expect(clientExpired({ registration: "dynamic", lastUsedAt: null, createdAt: 0 }, 30 * 86400, 31 * day)).toBe(true);
    expect(clientExpired({ registration: "operator", lastUsedAt: null, createdAt: 0 }, 30 * 86400, 999 * day)).toBe(false);
  });

  it("loopback IP redirect URIs match with any port (RFC 8252 §7.3), nothing else loosens", () => {
    const c = { redirectUris: ["http://127.0.0.1/callback", "http://[::1]:8000/cb?x=1", "https://app.example/cb", "http://localhost:3000/cb"] };
    expect(redirectUriAllowed(c, "http://127.0.0.1:51234/callback")).toBe(true);
    expect(redirectUriAllowed(c, "http://[::1]:9/cb?x=1")).toBe(true);
    expect(redirectUriAllowed(c, "http://127.0.0.1:51234/callback/")).toBe(false);
    expect(redirectUriAllowed(c, "http://127.0.0.1:51234/other")).toBe(false);
    expect(redirectUriAllowed(c, "http://[::1]:9/cb?x=2")).toBe(false);
    expect(redirectUriAllowed(c, "https://app.example:8443/cb")).toBe(false);
    expect(redirectUriAllowed(c, "http://localhost:4000/cb")).toBe(false);
  });
});
