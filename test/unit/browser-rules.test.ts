/** The pure rules of the browser face: cookie names and attributes, admission, expiry, limits. */
import { describe, expect, it } from "vitest";
import {
  browserMode,
  clearRefreshCookie,
  clearSessionCookie,
  isLocalDev,
  kindeMarkerCookie,
  parseRefreshCookieValue,
  readCookie,
  refreshCookie,
  refreshCookieValue,
  sessionCookie,
} from "../../worker/sessions/cookies";
import { FailureLimiter } from "../../worker/browser/limit";
import { admit } from "../../worker/browser/origin";
import { rotationFailure } from "../../worker/browser/refresh";
import { slideExpiry, SLIDE_STEP_MS } from "../../worker/browser/session";

const cookieApp = { customDomain: "yourapp.com" };
const exchangeApp = { customDomain: null };
/** A cookie's attributes, in no particular order (the serializer's order is not part of the contract). */
const attrs = (cookie: string) => cookie.split("; ").slice(1).sort();
const same = (expected: string[]) => [...expected].sort();
/** The same cookie: name=value first, then the same attributes in any order. */
const cookieOf = (cookie: string) => ({ pair: cookie.split("; ")[0], attributes: attrs(cookie) });

describe("cookies", () => {
  it("cookie mode: __Secure-latch_session on the custom domain, Lax, HttpOnly, Secure", () => {
    const c = sessionCookie({ app: cookieApp, host: "auth.yourapp.com" }, "tok", 3600);
    expect(c.split("; ")[0]).toBe("__Secure-latch_session=tok");
    expect(attrs(c)).toEqual(same(["Domain=yourapp.com", "Path=/", "Max-Age=3600", "Secure", "HttpOnly", "SameSite=Lax"]));
  });

  it("exchange mode: __Host-latch_rt, host-only, Partitioned, SameSite=None, Secure, HttpOnly", () => {
    const c = refreshCookie({ app: exchangeApp, host: "acme.latch.example" }, "v", 60);
    expect(c.split("; ")[0]).toBe("__Host-latch_rt=v");
    expect(attrs(c)).toEqual(same(["Path=/", "Max-Age=60", "Secure", "HttpOnly", "SameSite=None", "Partitioned"]));
    expect(c).not.toMatch(/Domain=/);
  });

  it("exchange mode's own session cookie is host-only (__Host-)", () => {
    const c = sessionCookie({ app: exchangeApp, host: "acme.latch.example" }, "tok", 10);
    expect(c.split("; ")[0]).toBe("__Host-latch_session=tok");
    expect(c).not.toMatch(/Domain=/);
    expect(attrs(c)).toContain("Secure");
  });

  it("on localhost over http the prefixes and the session's Secure are dropped", () => {
    const site = { app: { customDomain: "acme.localhost" }, host: "auth.acme.localhost:8787" };
    const s = sessionCookie(site, "tok", 5);
    expect(s.split("; ")[0]).toBe("latch_session=tok");
    expect(attrs(s)).toEqual(same(["Domain=acme.localhost", "Path=/", "Max-Age=5", "HttpOnly", "SameSite=Lax"]));
    const r = refreshCookie({ app: exchangeApp, host: "demo.localhost:8787" }, "v", 5);
    expect(r.split("; ")[0]).toBe("latch_rt=v");
    // Browsers refuse SameSite=None without Secure; Chromium accepts Secure from http://*.localhost.
    expect(attrs(r)).toEqual(same(["Path=/", "Max-Age=5", "Secure", "HttpOnly", "SameSite=None", "Partitioned"]));
  });

  it("keeps the prefixes on every other host, even look-alikes", () => {
    expect(isLocalDev({ host: "demo.localhost:8787" })).toBe(true);
    expect(isLocalDev({ host: "127.0.0.1:8787" })).toBe(true);
    expect(isLocalDev({ host: "localhost.example.com" })).toBe(false);
    expect(isLocalDev({ host: "mylocalhost" })).toBe(false);
    expect(isLocalDev({ host: "localhost.evil.com:8787" })).toBe(false);
    const s = sessionCookie({ app: cookieApp, host: "auth.yourapp.com" }, "t", 1);
    expect(s.startsWith("__Secure-latch_session=")).toBe(true);
    expect(refreshCookie({ app: exchangeApp, host: "x.localhost.example.com" }, "v", 1).startsWith("__Host-latch_rt=")).toBe(true);
  });

  it("clearing uses the same name and attributes with an empty value and Max-Age=0", () => {
    const site = { app: cookieApp, host: "auth.yourapp.com" };
    expect(cookieOf(clearSessionCookie(site))).toEqual(cookieOf("__Secure-latch_session=; Domain=yourapp.com; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax"));
    expect(cookieOf(clearRefreshCookie(site))).toEqual(cookieOf("__Host-latch_rt=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=None; Partitioned"));
  });

  it("Kinde's _kbrte marker is readable by script and carries no secret", () => {
    const m = kindeMarkerCookie({ app: cookieApp, host: "auth.yourapp.com" }, 100);
    expect(cookieOf(m)).toEqual(cookieOf("_kbrte=1; Domain=yourapp.com; Path=/; Max-Age=100; Secure; SameSite=Lax"));
    expect(m).not.toMatch(/HttpOnly/);
  });

  it("mode is cookie exactly when the app has a custom domain", () => {
    expect(browserMode(cookieApp)).toBe("cookie");
    expect(browserMode(exchangeApp)).toBe("exchange");
  });

  it("the refresh cookie value carries the client id and round-trips; junk does not parse", () => {
    const v = refreshCookieValue("abc123", "AAA.BBB.0123456789abcdef01234567.secret");
    expect(parseRefreshCookieValue(v)).toEqual({ clientId: "abc123", refreshToken: "AAA.BBB.0123456789abcdef01234567.secret" });
    for (const junk of ["", "~x", "x~", "a~b~c", "noseparator"]) expect(parseRefreshCookieValue(junk)).toBeNull();
  });

  it("reads one cookie by exact name", () => {
    expect(readCookie("a=1; __Host-latch_rt=xyz; latch_rt=local", "latch_rt")).toBe("local");
    expect(readCookie("a=1; __Host-latch_rt=xyz", "__Host-latch_rt")).toBe("xyz");
    expect(readCookie("xlatch_rt=1", "latch_rt")).toBeNull();
    expect(readCookie(undefined, "latch_rt")).toBeNull();
  });
});

describe("admission", () => {
  const base = { fetchSite: null };
  it("state-changing requests need an issuer or allow-listed Origin", () => {
    expect(admit({ ...base, method: "POST", origin: "absent" }).ok).toBe(false);
    expect(admit({ ...base, method: "POST", origin: "foreign" }).ok).toBe(false);
    expect(admit({ ...base, method: "POST", origin: "allowed" }).ok).toBe(true);
    expect(admit({ ...base, method: "POST", origin: "issuer" }).ok).toBe(true);
  });

  it("a foreign Origin is refused even on GET; an absent one is fine for non-browsers", () => {
    expect(admit({ ...base, method: "GET", origin: "foreign" }).ok).toBe(false);
    expect(admit({ ...base, method: "GET", origin: "absent" }).ok).toBe(true);
  });

  it("Fetch Metadata: another page's request must carry an allowed Origin (refuses no-cors loads)", () => {
    expect(admit({ method: "GET", origin: "absent", fetchSite: "cross-site" }).ok).toBe(false);
    expect(admit({ method: "GET", origin: "absent", fetchSite: "same-site" }).ok).toBe(false);
    expect(admit({ method: "GET", origin: "allowed", fetchSite: "cross-site" }).ok).toBe(true);
    expect(admit({ method: "GET", origin: "absent", fetchSite: "same-origin" }).ok).toBe(true);
    expect(admit({ method: "GET", origin: "absent", fetchSite: "none" }).ok).toBe(true);
  });
});

describe("session expiry and refresh failures", () => {
  const settings = { refresh_token_ttl: 100, refresh_absolute_ttl: 1000 };
  it("slides by the idle lifetime, capped by the absolute one, at most once per step", () => {
    const created = 1_000_000;
    expect(slideExpiry({ created_at: created, last_seen_at: created, expires_at: created + 100_000 }, settings, created + SLIDE_STEP_MS - 1)).toBeNull();
    expect(slideExpiry({ created_at: created, last_seen_at: created, expires_at: created + 100_000 }, settings, created + SLIDE_STEP_MS)).toBe(created + SLIDE_STEP_MS + 100_000);
    expect(slideExpiry({ created_at: created, last_seen_at: created, expires_at: created + 950_000 }, settings, created + 950_000 - 1)).toBe(created + 1_000_000);
  });

  it("only a dead chain is a 401; a client mismatch is a 400", () => {
    for (const reason of ["malformed", "unknown", "expired", "revoked", "reused"] as const) expect(rotationFailure(reason)).toEqual({ status: 401, dead: true });
    expect(rotationFailure("client_mismatch")).toEqual({ status: 400, dead: false });
  });

  it("the failure limiter counts failures per key in a window", () => {
    const l = new FailureLimiter({ max: 2, windowMs: 10_000 });
    l.fail("k", 0);
    expect(l.retryAfter("k", 1)).toBe(0);
    l.fail("k", 2);
    expect(l.retryAfter("k", 3)).toBe(10);
    expect(l.retryAfter("other", 3)).toBe(0);
    expect(l.retryAfter("k", 10_000)).toBe(0);
  });
});
