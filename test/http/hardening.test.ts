/**
 * The transport and request rules every face shares (README "Security rules"): nosniff and
 * HSTS, plain http outside localhost, 405 with Allow, short and deep bodies, and the
 * characters error_description may carry. Each case is the request that must be refused
 * and its exact answer in the face's own format.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, createApp, masterAuth, signup } from "../helpers";
import { api, hostOf } from "../manage/helpers";
import { addClient, authorizePath, oauthApp, REDIRECT } from "../oauth/helpers";

type Face = "kinvey" | "oauth" | "api";

/** The wire error of a response, whichever face answered. */
async function wireError(res: Response): Promise<{ face: Face; code: string; text: string }> {
  const body = (await res.json()) as Record<string, any>;
  if (Array.isArray(body.errors)) return { face: "api", code: body.errors[0].code, text: body.errors[0].message };
  if ("error_description" in body) return { face: "oauth", code: body.error, text: body.error_description };
  // Kinvey's description is fixed per error name; what went wrong is in debug.
  return { face: "kinvey", code: body.error, text: body.debug };
}

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
}

describe("X-Content-Type-Options: nosniff on every response", () => {
  it("answers, errors, redirects and 404s of every face carry it", async () => {
    const app = await createApp();
    const o = await oauthApp();
    const responses = [
      await SELF.fetch(`${BASE}/appdata/${app.id}`, { headers: { Authorization: masterAuth(app) } }),
      await SELF.fetch(`${BASE}/appdata/${app.id}`),
      await SELF.fetch(`${BASE}/nowhere`),
      await SELF.fetch(`${o.origin}/.well-known/openid-configuration`),
      await SELF.fetch(`${o.origin}/oauth2/token`, { method: "POST" }),
      await api(app, "/users"),
      await SELF.fetch("http://auth.example.com/", { redirect: "manual" }),
    ];
    for (const res of responses) expect([res.status, res.headers.get("X-Content-Type-Options")]).toEqual([res.status, "nosniff"]);
  });
});

describe("plain http outside localhost", () => {
  it("GET and HEAD are redirected 308 to the same URL on https, with no cookie", async () => {
    for (const method of ["GET", "HEAD"]) {
      const res = await SELF.fetch("http://auth.acme.example/oauth2/auth?client_id=x&state=y", { method, redirect: "manual" });
      expect(res.status).toBe(308);
      expect(res.headers.get("Location")).toBe("https://auth.acme.example/oauth2/auth?client_id=x&state=y");
      expect(res.headers.get("Set-Cookie")).toBeNull();
      expect(res.headers.get("Strict-Transport-Security")).toBeNull();
    }
  });

  it("any other method is refused 400 in the face's format, before any handler runs", async () => {
    const app = await createApp();
    const cases: [string, RequestInit, Face, string][] = [
      ["http://auth.acme.example/oauth2/token", { method: "POST", body: new URLSearchParams({ grant_type: "client_credentials" }) }, "oauth", "invalid_request"],
      ["http://auth.acme.example/oauth2/auth", { method: "POST", body: new URLSearchParams({ username: "u", password: "p" }) }, "oauth", "invalid_request"],
      [`http://auth.acme.example/user/${app.id}/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }, "kinvey", "BadRequest"],
      ["http://auth.acme.example/api/v1/user", { method: "POST", headers: { Authorization: masterAuth(app) }, body: "{}" }, "api", "INVALID_REQUEST"],
      ["http://auth.acme.example/logout", { method: "DELETE" }, "oauth", "invalid_request"],
    ];
    for (const [url, init, face, code] of cases) {
      const res = await SELF.fetch(url, init);
      expect([url, res.status, res.headers.get("Set-Cookie")]).toEqual([url, 400, null]);
      expect(await wireError(res)).toEqual({ face, code, text: expect.stringContaining("https") });
    }
  });

  it("localhost, *.localhost and loopback keep plain http, with no HSTS", async () => {
    const o = await oauthApp();
    for (const url of [`${o.origin}/.well-known/openid-configuration`, `http://${hostOf(o)}/.well-known/jwks.json`, `${BASE}/`, "http://[::1]:8787/", "http://localhost:8787/"]) {
      const res = await SELF.fetch(url, { redirect: "manual" });
      expect([url, res.status === 308, res.headers.get("Strict-Transport-Security")]).toEqual([url, false, null]);
    }
  });

  it("https answers carry HSTS; a custom domain's host without includeSubDomains", async () => {
    const res = await SELF.fetch("https://auth.acme.example/.well-known/openid-configuration");
    expect(res.headers.get("Strict-Transport-Security")).toBe("max-age=31536000");
  });
});

describe("405 with Allow for a known path and a wrong method", () => {
  it("every face answers it in its format; an unknown path stays 404", async () => {
    const app = await createApp();
    const o = await oauthApp();
    const user = await signup(app);
    const cases: [string, RequestInit, Face, string, string][] = [
      [`http://${hostOf(app)}/api/v1/users/${user._id}/refresh_claims`, { headers: { Authorization: masterAuth(app) } }, "api", "METHOD_NOT_ALLOWED", "POST"],
      [`${o.origin}/logout`, { method: "DELETE" }, "oauth", "method_not_allowed", "GET, HEAD, POST"],
      [`${BASE}/appdata/${app.id}`, { method: "DELETE", headers: { Authorization: masterAuth(app) } }, "kinvey", "MethodNotAllowed", "GET, HEAD"],
      [`${BASE}/appdata/${app.id}/things/t1`, { method: "PATCH", headers: { Authorization: masterAuth(app) } }, "kinvey", "MethodNotAllowed", "DELETE, GET, HEAD, PUT"],
      [`${BASE}/user/${app.id}/${user._id}`, { method: "PATCH", headers: { Authorization: masterAuth(app) } }, "kinvey", "MethodNotAllowed", "DELETE, GET, HEAD, PUT"],
      [`${o.origin}/oauth2/revoke`, { method: "PUT" }, "oauth", "method_not_allowed", "POST, OPTIONS"],
    ];
    for (const [url, init, face, code, allow] of cases) {
      const res = await SELF.fetch(url, init);
      expect([url, res.status, res.headers.get("Allow")]).toEqual([url, 405, allow]);
      expect(await wireError(res)).toMatchObject({ face, code });
    }
    const unknown = await SELF.fetch(`${BASE}/appdata/${app.id}/nothing/here/at/all`, { method: "PATCH", headers: { Authorization: masterAuth(app) } });
    expect(unknown.status).toBe(404);
  });
});

describe("request bodies", () => {
  async function short(url: string, headers: Record<string, string>): Promise<Response> {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a":'));
        controller.close();
      },
    });
    return SELF.fetch(url, { method: "POST", headers: { ...headers, "Content-Length": "100" }, body, duplex: "half" } as RequestInit);
  }

  it("a body shorter than its Content-Length is a 400 in the face's format", async () => {
    const app = await createApp();
    const o = await oauthApp();
    const cases: [string, Record<string, string>, Face, string][] = [
      [`${BASE}/appdata/${app.id}/things`, { Authorization: masterAuth(app), "Content-Type": "application/json" }, "kinvey", "IncompleteRequestBody"],
      [`${o.origin}/oauth2/token`, { "Content-Type": "application/x-www-form-urlencoded" }, "oauth", "invalid_request"],
      [`http://${hostOf(app)}/api/v1/user`, { Authorization: masterAuth(app), "Content-Type": "application/json" }, "api", "INVALID_REQUEST"],
    ];
    for (const [url, headers, face, code] of cases) {
      const res = await short(url, headers);
      expect([url, res.status]).toEqual([url, 400]);
      expect(await wireError(res)).toEqual({ face, code, text: expect.stringContaining("Content-Length") });
    }
  });

  it("JSON nested deeper than 32 levels is a 400 in the face's format; 32 levels are fine", async () => {
    const app = await createApp();
    const o = await oauthApp({ settings: { registration: "open" } });
    const deep = nested(10_000);
    const cases: [string, Record<string, string>, Face, string][] = [
      [`${BASE}/appdata/${app.id}/things`, { Authorization: masterAuth(app) }, "kinvey", "BadRequest"],
      [`http://${hostOf(app)}/api/v1/user`, { Authorization: masterAuth(app) }, "api", "INVALID_JSON"],
      [`${o.origin}/oauth2/register`, {}, "oauth", "invalid_request"],
    ];
    for (const [url, headers, face, code] of cases) {
      for (const body of [deep, nested(33), `[${nested(32)}]`]) {
        const res = await SELF.fetch(url, { method: "POST", headers: { ...headers, "Content-Type": "application/json" }, body });
        expect([url, res.status]).toEqual([url, 400]);
        expect(await wireError(res)).toEqual({ face, code, text: "The request body nests deeper than 32 levels." });
      }
    }
    const fine = await SELF.fetch(`${BASE}/appdata/${app.id}/things`, {
      method: "POST",
      headers: { Authorization: masterAuth(app), "Content-Type": "application/json" },
      body: nested(32).replace('{"a":', '{"s":"[[[[{{{{\\"[[[[","a":'),
    });
    expect(fine.status).toBe(201);
  });
});

describe("error_description stays within RFC 6749 §4.1.2.1's characters", () => {
  const allowed = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

  it("in a JSON error: an unsupported grant_type of ✓ and an RTL override", async () => {
    const o = await oauthApp();
    const client = await addClient(o);
    const res = await SELF.fetch(`${o.origin}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "✓\u202Eevil\"\\", client_id: client.client_id }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("unsupported_grant_type");
    expect(body.error_description).toBe("grant_type ??evil'? is not supported.");
    expect(body.error_description).toMatch(allowed);
  });

  it("in a redirect: an unknown scope ✓ and U+202E", async () => {
    const o = await oauthApp();
    const client = await addClient(o);
    const res = await SELF.fetch(
      `${o.origin}${authorizePath({ response_type: "code", client_id: client.client_id, redirect_uri: REDIRECT, scope: "openid ✓ \u202Egnp.", state: "s", code_challenge: "x".repeat(43), code_challenge_method: "S256" })}`,
      { redirect: "manual" },
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("Location")!);
    expect(location.searchParams.get("error")).toBe("invalid_scope");
    expect(location.searchParams.get("error_description")).toBe("Unknown scope: ? ?gnp..");
    expect(location.searchParams.get("error_description")).toMatch(allowed);
  });
});
