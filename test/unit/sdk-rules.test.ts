/**
 * The SDKs' pure decisions, from their sources: when a token is refreshed, what a failed
 * refresh clears, kiavi-auth.json parsing, RFC 6750 header parsing and challenges, RFC 9728
 * metadata URLs and the claim helpers.
 */
import { describe, expect, it } from "vitest";
import { afterRefreshFailure, expiryOf, freshness } from "../../sdk/browser/src/freshness";
import { parseConfig } from "../../sdk/browser/src/config";
import { LatchError } from "../../sdk/browser/src/errors";
import { bearerChallenge, bearerToken } from "../../sdk/server/src/bearer";
import { getFlag, hasPermission, hasRole, scopesOf } from "../../sdk/server/src/claims";
import { createProtectedResource, protectedResourceMetadataUrl } from "../../sdk/server/src/resource";

describe("browser SDK: lazy refresh", () => {
  const now = 1_000_000;
  it("fresh outside the leeway, refresh inside it, expired at or past exp", () => {
    expect(freshness(now + 31_000, now, 30)).toBe("fresh");
    expect(freshness(now + 30_000, now, 30)).toBe("refresh");
    expect(freshness(now + 1, now, 30)).toBe("refresh");
    expect(freshness(now, now, 30)).toBe("expired");
    expect(freshness(now - 1, now, 30)).toBe("expired");
  });

  it("only a 401 clears state; offline, 5xx, 429, 403 and 400 keep it", () => {
    expect(afterRefreshFailure(401)).toBe("clear");
    for (const status of [null, 400, 403, 429, 500, 502, 503]) expect(afterRefreshFailure(status)).toBe("keep");
  });

  it("expiry counts expires_in from when the answer arrived, not from the token's exp", () => {
    expect(expiryOf(now, 900)).toBe(now + 900_000);
  });

  it("kiavi-auth.json: refuses a document without a mode or with non-URL endpoints", () => {
    const good = {
      mode: "exchange",
      issuer: "https://a.example",
      session_endpoint: "https://a.example/session",
      session_token_endpoint: "https://a.example/session/token",
      authorization_endpoint: "https://a.example/oauth2/auth",
      token_endpoint: "https://a.example/oauth2/token",
      refresh_endpoint: "https://a.example/refresh",
      end_session_endpoint: "https://a.example/logout",
      jwks_uri: "https://a.example/.well-known/jwks.json",
      refresh_leeway_seconds: 30,
      auth_policy: "passkey_preferred",
    };
    expect(parseConfig(good)).toMatchObject({ mode: "exchange", refresh_leeway_seconds: 30, auth_policy: "passkey_preferred" });
    expect(parseConfig({ ...good, refresh_leeway_seconds: undefined, auth_policy: "weird" })).toMatchObject({ refresh_leeway_seconds: 30, auth_policy: "none" });
    for (const bad of [null, [], { ...good, mode: "other" }, { ...good, refresh_endpoint: "javascript:alert(1)" }]) {
      expect(() => parseConfig(bad)).toThrow(LatchError);
    }
  });

  it("errors say whether retrying can help", () => {
    expect(new LatchError("network", "x").retryable).toBe(true);
    expect(new LatchError("server", "x", 503).retryable).toBe(true);
    expect(new LatchError("rate_limited", "x", 429).retryable).toBe(true);
    expect(new LatchError("state_mismatch", "x").retryable).toBe(false);
  });
});

describe("server SDK: RFC 6750", () => {
  it("reads Bearer tokens, case-insensitively; other schemes are no credentials; a bad token is malformed", () => {
    expect(bearerToken("Bearer abc.def-ghi_jkl~+/==")).toBe("abc.def-ghi_jkl~+/==");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken("")).toBeNull();
    expect(bearerToken("Basic dXNlcjpwYXNz")).toBeNull();
    expect(bearerToken("Bearer")).toBe("malformed");
    expect(bearerToken("Bearer a b")).toBe("malformed");
    expect(bearerToken('Bearer a"b')).toBe("malformed");
  });

  it("challenges: bare without an error, quoted parameters, description stripped of quotes and backslashes", () => {
    expect(bearerChallenge({})).toBe("Bearer");
    expect(bearerChallenge({ realm: "api" })).toBe('Bearer realm="api"');
    expect(bearerChallenge({ resourceMetadata: "https://r.example/.well-known/oauth-protected-resource", error: "invalid_token", description: 'bad "token" \\ here' })).toBe(
      'Bearer resource_metadata="https://r.example/.well-known/oauth-protected-resource", error="invalid_token", error_description="bad token  here"',
    );
  });
});

describe("server SDK: RFC 9728", () => {
  it("the well-known URL goes between the host and the path", () => {
    expect(protectedResourceMetadataUrl("https://mcp.example.com/mcp")).toBe("https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
    expect(protectedResourceMetadataUrl("https://mcp.example.com/")).toBe("https://mcp.example.com/.well-known/oauth-protected-resource");
    expect(protectedResourceMetadataUrl("https://mcp.example.com")).toBe("https://mcp.example.com/.well-known/oauth-protected-resource");
    expect(protectedResourceMetadataUrl("http://127.0.0.1:3001/a/b")).toBe("http://127.0.0.1:3001/.well-known/oauth-protected-resource/a/b");
    expect(() => protectedResourceMetadataUrl("https://mcp.example.com/mcp?x=1")).toThrow(TypeError);
    expect(() => protectedResourceMetadataUrl("ftp://mcp.example.com/")).toThrow(TypeError);
  });

  it("serves the document on its paths only, for GET and HEAD", async () => {
    const pr = createProtectedResource({ resource: "https://mcp.example.com/mcp", issuer: "https://acme.latch.example" });
    expect(pr.metadataPaths).toEqual(["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]);
    const res = pr.handleMetadata(new Request("https://mcp.example.com/.well-known/oauth-protected-resource/mcp"))!;
    expect(await res.json()).toEqual({ resource: "https://mcp.example.com/mcp", authorization_servers: ["https://acme.latch.example"], bearer_methods_supported: ["header"] });
    expect(pr.handleMetadata(new Request("https://mcp.example.com/mcp"))).toBeNull();
    expect(pr.handleMetadata(new Request("https://mcp.example.com/.well-known/oauth-protected-resource", { method: "POST" }))!.status).toBe(405);
  });
});

describe("server SDK: claim helpers", () => {
  const claims = {
    permissions: ["read:reports"],
    roles: [{ id: "role_1", key: "admin", name: "Admin" }],
    feature_flags: { theme: { t: "s", v: "dark" }, beta: { t: "b", v: true }, seats: { t: "i", v: 5 } },
    scope: "openid offline",
  };
  it("permissions and roles by key, flags with a typed fallback, scopes as a list", () => {
    expect(hasPermission(claims, "read:reports")).toBe(true);
    expect(hasPermission({ permissions: undefined as never }, "read:reports")).toBe(false);
    expect(hasRole(claims, "admin")).toBe(true);
    expect(hasRole(claims, "Admin")).toBe(false);
    expect(getFlag(claims, "theme", "light")).toBe("dark");
    expect(getFlag(claims, "beta", false)).toBe(true);
    expect(getFlag(claims, "seats", 1)).toBe(5);
    expect(getFlag(claims, "seats", "many")).toBe("many");
    expect(getFlag(claims, "absent", 3)).toBe(3);
    expect(scopesOf(claims)).toEqual(["openid", "offline"]);
  });
});
