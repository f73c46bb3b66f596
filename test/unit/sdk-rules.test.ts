/**
 * The SDKs' pure decisions, from their sources: when a token is refreshed, what a failed
 * refresh clears, kiavi-auth.json parsing, RFC 6750 header parsing and challenges, RFC 9728
 * metadata URLs and the claim helpers.
 */
import { describe, expect, it } from "vitest";
import { bearerChallenge, bearerToken } from "../../sdk/server/src/bearer";
import { getFlag, hasPermission, hasRole, scopesOf } from "../../sdk/server/src/claims";
import { createProtectedResource, protectedResourceMetadataUrl } from "../../sdk/server/src/resource";

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
