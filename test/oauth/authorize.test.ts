/** /oauth2/auth and the hosted page (SPEC §4): form shape, sessions, prompts, and every refusal. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addClient, authorizePath, Browser, hiddenFields, inputValue, login, newUser, oauthApp, pkce, REDIRECT, type OAuthTestApp, type TestClient } from "./helpers";

async function baseParams(client: TestClient, extra: Record<string, string> = {}) {
  const { challenge } = await pkce();
  return {
    response_type: "code",
    client_id: client.client_id,
    redirect_uri: client.redirect_uris[0]!,
    scope: "openid profile email offline",
    state: "s1",
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  };
}

function at(app: OAuthTestApp, path: string, init: RequestInit = {}) {
  return SELF.fetch(`${app.origin}${path}`, { redirect: "manual", ...init });
}

function redirectError(res: Response) {
  expect(res.status).toBe(302);
  const url = new URL(res.headers.get("location")!);
  expect(url.origin + url.pathname).toBe(REDIRECT);
  return { error: url.searchParams.get("error"), state: url.searchParams.get("state"), description: url.searchParams.get("error_description") };
}

describe("hosted login page", () => {
  it("has one POST form with visible username and password, the rest hidden, login_hint prefilled, Kinde extras dropped", async () => {
    const app = await oauthApp({ name: "Page App" });
    const client = await addClient(app);
    const res = await at(app, authorizePath(await baseParams(client, { login_hint: "alice@example.com", lang: "en", org_code: "org_1", is_create_org: "false" })));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("set-cookie")).toMatch(/^latch_csrf=[A-Za-z0-9_-]{43}; .*HttpOnly; SameSite=Lax/);
    const html = await res.text();
    expect(html.match(/<form /g)).toHaveLength(1);
    expect(html).toMatch(/<form method="post" action="\/oauth2\/auth">/);
    const visible = [...html.matchAll(/<input([^>]*)>/g)].map((m) => m[1]!).filter((a) => !a.includes('type="hidden"'));
    expect(visible.map((a) => /name="([^"]+)"/.exec(a)![1])).toEqual(["username", "password"]);
    expect(inputValue(html, "username")).toBe("alice@example.com");
    const hidden = hiddenFields(html);
    expect(hidden.get("client_id")).toBe(client.client_id);
    expect(hidden.get("csrf")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hidden.has("lang")).toBe(false);
    expect(hidden.has("org_code")).toBe(false);
    expect(html).toContain("Page App");
  });

  it("shows an error on a wrong password and no session is made", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const browser = new Browser(app);
    const page = await browser.fetch(authorizePath(await baseParams(client)));
    const form = hiddenFields(await page.text());
    form.set("username", user.username);
    form.set("password", "wrong password");
    const res = await browser.post("/oauth2/auth", form, { Origin: app.origin });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("Incorrect username or password.");
    expect(browser.cookies.has("latch_session")).toBe(false);
  });

  it("refuses a post without the CSRF token, with another cookie's token, or from another origin", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const browser = new Browser(app);
    const page = await browser.fetch(authorizePath(await baseParams(client)));
    const form = hiddenFields(await page.text());
    form.set("username", user.username);
    form.set("password", user.password);

    const noToken = new URLSearchParams(form);
    noToken.delete("csrf");
    const r1 = await browser.post("/oauth2/auth", noToken, { Origin: app.origin });
    expect(r1.status).toBe(403);
    expect(await r1.text()).toContain("Your sign-in form expired");

    // The token of one browser is worthless with another browser's cookie.
    const other = new Browser(app);
    await other.fetch(authorizePath(await baseParams(client)));
    const r2 = await other.post("/oauth2/auth", form, { Origin: app.origin });
    expect(r2.status).toBe(403);

    const r3 = await browser.post("/oauth2/auth", form, { Origin: "https://evil.example" });
    expect(r3.status).toBe(403);
    expect(await r3.text()).toContain("posted from another site");
    expect(browser.cookies.has("latch_session")).toBe(false);

    // The genuine post still works (the refusals changed nothing).
    const ok = await browser.post("/oauth2/auth", form, { Origin: app.origin });
    expect(ok.status).toBe(303);
  });

  it("signs up with prompt=create (and Kinde's start_page=registration)", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    for (const extra of [{ prompt: "create" }, { start_page: "registration" }] as Record<string, string>[]) {
      const browser = new Browser(app);
      const page = await browser.fetch(authorizePath(await baseParams(client, extra)));
      const html = await page.text();
      expect(html).toContain("Create your account");
      const form = hiddenFields(html);
      expect(form.get("action")).toBe("signup");
      const username = `new${Math.random().toString(36).slice(2)}`;
      form.set("username", username);
      form.set("password", "short");
      const weak = await browser.post("/oauth2/auth", form, { Origin: app.origin });
      expect(weak.status).toBe(400);
      form.set("password", "long enough password");
      form.set("email", `${username}@Example.com`);
      const res = await browser.post("/oauth2/auth", form, { Origin: app.origin });
      expect(res.status).toBe(303);
      expect(new URL(res.headers.get("location")!).searchParams.get("code")).toBeTruthy();
      const taken = await new Browser(app).fetch(authorizePath(await baseParams(client, extra)));
      const again = hiddenFields(await taken.text());
      again.set("username", username);
      again.set("password", "long enough password");
      // A fresh browser has no CSRF cookie yet for this post: reuse the first one's jar.
      const dup = await browser.post("/oauth2/auth", new URLSearchParams([...again].map(([k, v]): [string, string] => [k, k === "csrf" ? form.get("csrf")! : v])), { Origin: app.origin });
      expect(dup.status).toBe(409);
    }
  });
});

describe("browser session and prompts", () => {
  it("answers from the session without the form, honours prompt=login and prompt=none", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const first = await login(app, client, user);
    expect(first.browser.cookies.get("latch_session")).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const silent = await first.browser.fetch(authorizePath(await baseParams(client, { prompt: "none" })));
    expect(silent.status).toBe(302);
    expect(new URL(silent.headers.get("location")!).searchParams.get("code")).toBeTruthy();

    const again = await first.browser.fetch(authorizePath(await baseParams(client)));
    expect(again.status).toBe(302);

    const forced = await first.browser.fetch(authorizePath(await baseParams(client, { prompt: "login" })));
    expect(forced.status).toBe(200);

    const stranger = await new Browser(app).fetch(authorizePath(await baseParams(client, { prompt: "none", state: "x y" })));
    expect(redirectError(stranger)).toMatchObject({ error: "login_required", state: "x y" });
  });

  it("max_age forces a new login when the session is older", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const first = await login(app, client, user);
    await new Promise((r) => setTimeout(r, 1100));
    const res = await first.browser.fetch(authorizePath(await baseParams(client, { max_age: "0" })));
    expect(res.status).toBe(200);
  });
});

describe("authorization request refusals", () => {
  it("shows an error page (no redirect) for an unknown client or a redirect URI that is not registered exactly", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { redirect_uris: ["https://client.example/cb"] });
    const unknown = await at(app, authorizePath({ ...(await baseParams(client)), client_id: "nope" }));
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("location")).toBeNull();
    expect(await unknown.text()).toContain("invalid_client");
    for (const uri of [
      "https://client.example/cb/extra",
      "https://client.example/c",
      "https://client.example/cb?x=1",
      "https://CLIENT.example/cb",
      "https://client.example/CB",
      "https://client.example/cb/",
      "https://client.example.evil.com/cb",
      "http://client.example/cb",
      "https://client.example:443/cb",
    ]) {
      const res = await at(app, authorizePath({ ...(await baseParams(client)), redirect_uri: uri }));
      expect(res.status, uri).toBe(400);
      expect(res.headers.get("location"), uri).toBeNull();
    }
    const missing = new URLSearchParams(await baseParams(client));
    missing.delete("redirect_uri");
    expect((await at(app, `/oauth2/auth?${missing}`)).status).toBe(400);
  });

  it("redirects PKCE, scope, response type and prompt errors with the state", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const { challenge } = await pkce();
    const p = await baseParams(client);
    const cases: [Record<string, string>, string][] = [
      [{ code_challenge_method: "plain", code_challenge: challenge }, "invalid_request"],
      [{ code_challenge_method: "" }, "invalid_request"],
      [{ code_challenge: "short" }, "invalid_request"],
      [{ scope: "openid admin" }, "invalid_scope"],
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ prompt: "none login" }, "invalid_request"],
      [{ prompt: "bogus" }, "invalid_request"],
      [{ audience: `${app.origin}/api` }, "invalid_request"],
    ];
    for (const [extra, error] of cases) {
      const res = await at(app, authorizePath({ ...p, ...extra }));
      expect(redirectError(res), JSON.stringify(extra)).toMatchObject({ error, state: "s1" });
    }
    const noPkce = new URLSearchParams(p);
    noPkce.delete("code_challenge");
    noPkce.delete("code_challenge_method");
    expect(redirectError(await at(app, `/oauth2/auth?${noPkce}`))).toMatchObject({ error: "invalid_request" });
    const plainOnly = new URLSearchParams(p);
    plainOnly.delete("code_challenge_method");
    expect(redirectError(await at(app, `/oauth2/auth?${plainOnly}`))).toMatchObject({ error: "invalid_request" });
  });

  it("lets a confidential client skip PKCE but refuses m2m clients", async () => {
    const app = await oauthApp();
    const web = await addClient(app, { type: "confidential" });
    const p = new URLSearchParams(await baseParams(web));
    p.delete("code_challenge");
    p.delete("code_challenge_method");
    expect((await at(app, `/oauth2/auth?${p}`)).status).toBe(200);
    const m2m = await addClient(app, { type: "m2m", redirect_uris: [] });
    // An m2m client has no redirect URI, so nothing can be redirected: error page.
    const res = await at(app, authorizePath({ ...(await baseParams(web)), client_id: m2m.client_id }));
    expect(res.status).toBe(400);
  });

  it("answers 404 on a host that serves no app and 405 on a wrong method", async () => {
    const res = await SELF.fetch("http://nosuchapp.example.com/.well-known/openid-configuration");
    expect(res.status).toBe(404);
    const app = await oauthApp();
    const put = await at(app, "/oauth2/token", { method: "PUT" });
    expect(put.status).toBe(405);
    expect((await put.json<{ error: string }>()).error).toBe("method_not_allowed");
  });
});
