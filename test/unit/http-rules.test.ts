/** The pure rules behind worker/http's hardening: transport, JSON depth, error_description text. */
import { describe, expect, it } from "vitest";
import { jsonTooDeep } from "../../worker/http/body";
import { faceError, oauthErrorText, RequestError } from "../../worker/http/errors";
import { clientScheme, transportDecision } from "../../worker/http/transport";

const BASE_HOST = "latch.example.com";
const decide = (url: string, method = "GET", host = new URL(url).host) => transportDecision(new URL(url), host, method, BASE_HOST);

describe("transportDecision", () => {
  it("https under BASE_HOST pins subdomains; a custom domain's auth host only itself", () => {
    expect(decide("https://acme.latch.example.com/x")).toEqual({ action: "pass", hsts: "max-age=31536000; includeSubDomains" });
    expect(decide("https://latch.example.com/admin")).toEqual({ action: "pass", hsts: "max-age=31536000; includeSubDomains" });
    expect(decide("https://auth.acme.com/oauth2/auth")).toEqual({ action: "pass", hsts: "max-age=31536000" });
    // A name merely ending like BASE_HOST is not under it.
    expect(decide("https://evillatch.example.com/")).toEqual({ action: "pass", hsts: "max-age=31536000" });
  });

  it("plain http: GET/HEAD redirect to https (port dropped), other methods are refused", () => {
    expect(decide("http://auth.acme.com:80/oauth2/auth?a=1#f")).toEqual({ action: "redirect", location: "https://auth.acme.com/oauth2/auth?a=1#f" });
    expect(decide("http://auth.acme.com/x", "HEAD")).toMatchObject({ action: "redirect" });
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) expect(decide("http://auth.acme.com/x", method)).toEqual({ action: "refuse" });
  });

  it("local hosts keep http and get no HSTS, even over https", () => {
    for (const url of ["http://localhost:8787/", "http://demo.localhost:8787/", "http://127.0.0.1:8787/", "http://[::1]:8787/", "https://demo.localhost/"]) {
      expect(decide(url, "POST")).toEqual({ action: "pass", hsts: null });
    }
    expect(decide("http://localhost.evil.com/", "POST")).toEqual({ action: "refuse" });
  });
});

describe("jsonTooDeep", () => {
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  it("counts arrays and objects, not brackets inside strings", () => {
    expect(jsonTooDeep(nest(32))).toBe(false);
    expect(jsonTooDeep(nest(33))).toBe(true);
    expect(jsonTooDeep(`{"a":${nest(31)}}`)).toBe(false);
    expect(jsonTooDeep(`{"a":${nest(32)}}`)).toBe(true);
    expect(jsonTooDeep(JSON.stringify({ s: "[".repeat(100) + '\\"{{{' }))).toBe(false);
    expect(jsonTooDeep(`[${nest(10)},${nest(10)},${nest(31)}]`)).toBe(false);
  });
});

describe("oauthErrorText", () => {
  it("keeps RFC 6749's set, turns \" into ' and anything else into one ? per character", () => {
    expect(oauthErrorText("Unknown scope: read:all.")).toBe("Unknown scope: read:all.");
    expect(oauthErrorText('a "b" \\ c')).toBe("a 'b' ? c");
    expect(oauthErrorText("✓ \u202Egnp 😀 é\n\t")).toBe("? ?gnp ? ???");
  });
});

describe("a refused chains call in each face", () => {
  it("is 503 temporarily_unavailable with Retry-After on the OAuth face", () => {
    const e = faceError("oauth", new RequestError("unavailable", "busy", 1));
    expect([e.status, e.code, e.headers]).toEqual([503, "temporarily_unavailable", { "Retry-After": "1" }]);
  });
});

describe("clientScheme", () => {
  const url = new URL("http://auth.example.com/x");
  it("is the URL's unless FORWARDED_PROTO_HEADER is set; then the header's last value, https or else http", () => {
    const headers = new Headers({ "X-Forwarded-Proto": "https" });
    expect(clientScheme(url, headers)).toBe("http:");
    expect(clientScheme(url, headers, "x-forwarded-proto")).toBe("https:");
    expect(clientScheme(new URL("https://auth.example.com/"), new Headers(), "x-forwarded-proto")).toBe("http:");
    expect(clientScheme(url, new Headers({ "X-Forwarded-Proto": "https, http" }), "x-forwarded-proto")).toBe("http:");
  });
});
