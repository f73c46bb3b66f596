/**
 * Who reaches the operator console: only the deployment's own host, only with the
 * operator token, only with a form's CSRF token; sign-in attempts are limited.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { consoleCookieValue, verifyConsoleCookie, CONSOLE_TTL_S } from "../../worker/console/auth";
import { ADMIN, BASE, createApp } from "../helpers";
import { address, CONSOLE, cookieOf, csrfOf, operator, postSignIn, signIn, signInForm } from "./helpers";

describe("operator console: access", () => {
  it("signs in with the operator token and sets a signed, host-only, strict cookie for /console", async () => {
    const ip = address();
    const form = await signInForm(ip);
    const res = await postSignIn(ip, form, "test-admin-token");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/console/apps");
    const line = res.headers.getAll("Set-Cookie").find((l: string) => l.startsWith("latch_console="))!;
    expect(line).toMatch(/; Max-Age=28800; Path=\/console; HttpOnly; Secure; SameSite=Strict$/);
    const page = await operator(cookieOf(res, "latch_console")!).get("/apps");
    expect(page.status).toBe(200);
    expect(page.html).toContain("Create an app");
    expect(page.res.headers.get("cache-control")).toBe("no-store");
  });

  it("refuses every page and action without the credential", async () => {
    for (const path of ["/apps", "/apps/kid_x", "/apps/kid_x/users"]) {
      const res = await SELF.fetch(`${CONSOLE}${path}`, { redirect: "manual" });
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location")).toBe("/console");
    }
    const post = await SELF.fetch(`${CONSOLE}/apps`, { method: "POST", body: new URLSearchParams({ name: "x", slug: "x" }), redirect: "manual" });
    expect(post.status).toBe(401);
    // A made-up cookie, and a cookie signed while another operator token was set.
    const forged = operator(`${"A".repeat(43)}.9999999999.${"B".repeat(43)}`);
    expect((await forged.get("/apps")).status).toBe(303);
    const other = operator(await consoleCookieValue({ ...env, ADMIN_TOKEN: "another-token" }));
    expect((await other.get("/apps")).status).toBe(303);
  });

  it("refuses a wrong token, a missing token and a sign-in without its CSRF token", async () => {
    const ip = address();
    const form = await signInForm(ip);
    const wrong = await postSignIn(ip, form, "test-admin-tokeN");
    expect(wrong.status).toBe(401);
    expect(cookieOf(wrong, "latch_console")).toBeNull();
    expect(await wrong.text()).toContain("That is not the operator token.");
    expect((await postSignIn(ip, form, null)).status).toBe(401);
    const noCsrf = await postSignIn(ip, { ...form, csrf: "" }, "test-admin-token");
    expect(noCsrf.status).toBe(403);
    expect(cookieOf(noCsrf, "latch_console")).toBeNull();
    // The token of one pre-login cookie does not pass with another.
    const otherForm = await signInForm(ip);
    expect((await postSignIn(ip, { csrf: form.csrf, cookie: otherForm.cookie }, "test-admin-token")).status).toBe(403);
  });

  it("limits sign-in attempts per client address, before the token is compared", async () => {
    const ip = address();
    const form = await signInForm(ip);
    for (let i = 0; i < 10; i++) expect((await postSignIn(ip, form, `guess-${i}`)).status).toBe(401);
    const limited = await postSignIn(ip, form, "test-admin-token");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(cookieOf(limited, "latch_console")).toBeNull();
    // Another address is not affected; a success does not use up an attempt.
    const ip2 = address();
    const form2 = await signInForm(ip2);
    for (let i = 0; i < 12; i++) expect((await postSignIn(ip2, form2, "test-admin-token")).status).toBe(303);
  });

  it("expires the cookie after 8 hours", async () => {
    const value = await consoleCookieValue(env, Date.now() - CONSOLE_TTL_S * 1000 - 1000);
    expect(await verifyConsoleCookie(env, value)).toBeNull();
    expect(await verifyConsoleCookie(env, await consoleCookieValue(env))).not.toBeNull();
    expect((await operator(value).get("/apps")).status).toBe(303);
  });

  it("does not exist on an app's host or any host but BASE_HOST", async () => {
    const app = await createApp();
    const op = await signIn();
    for (const origin of [`http://${app.slug}.localhost:8787`, BASE]) {
      for (const path of ["/console", "/console/apps"]) {
        const res = await SELF.fetch(`${origin}${path}`, { headers: { Cookie: `latch_console=${op.cookie}` }, redirect: "manual" });
        expect(res.status, `${origin}${path}`).toBe(404);
      }
    }
  });

  it("refuses a form without the session's CSRF token and does nothing", async () => {
    const op = await signIn();
    const slug = `csrf${Date.now().toString(36)}`;
    const missing = await op.post("/apps", { name: "No", slug }, { csrf: null });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain("CSRF token is missing or wrong");
    // Another session's token does not pass either.
    const other = await signIn();
    const otherToken = csrfOf((await other.get("/apps")).html);
    expect((await op.post("/apps", { name: "No", slug }, { csrf: otherToken })).status).toBe(403);
    const list = (await (await SELF.fetch(`${BASE}/admin/apps`, { headers: ADMIN })).json()) as { apps: { slug: string }[] };
    expect(list.apps.some((a) => a.slug === slug)).toBe(false);
    // Only urlencoded forms are read.
    const json = await SELF.fetch(`${CONSOLE}/apps`, { method: "POST", headers: { Cookie: `latch_console=${op.cookie}`, "Content-Type": "application/json" }, body: JSON.stringify({ name: "No", slug }) });
    expect(json.status).toBe(415);
    // Sign-out needs it too.
    expect((await op.post("/sign-out", {}, { csrf: null })).status).toBe(403);
    const out = await op.post("/sign-out");
    expect(out.status).toBe(303);
    expect(out.headers.getAll("Set-Cookie")[0]).toMatch(/^latch_console=; Max-Age=0; Path=\/console/);
  });
});
