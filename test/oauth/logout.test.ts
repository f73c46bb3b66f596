/**
 * /logout (SPEC §4, OIDC RP-Initiated Logout §2 and §4): a valid id_token_hint for the
 * signed-in user ends the session at once; anything else asks on a confirmation page that
 * posts back with a CSRF token. Redirects go only to registered post-logout URIs, and never
 * after a hint that does not validate.
 */
import { env } from "cloudflare:test";
import { generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signJwt } from "../../worker/keys/sign";
import { appById } from "../../worker/tenancy/apps";
import { addClient, authorizePath, b64url, Browser, hiddenFields, login, newUser, oauthApp, pkce, tokenRequest, type OAuthTestApp, type TestClient, type TokenBody } from "./helpers";

const BYE = "https://client.example/bye";

async function signedIn(app: OAuthTestApp, client: TestClient) {
  const user = await newUser(app);
  const l = await login(app, client, user);
  const ex = await tokenRequest(app, { grant_type: "authorization_code", code: l.code, redirect_uri: client.redirect_uris[0]!, code_verifier: l.verifier, client_id: client.client_id });
  const tokens = await ex.json<TokenBody>();
  return { user, browser: l.browser, tokens };
}

/** Whether the browser's session still signs in without UI. */
async function sessionAlive(app: OAuthTestApp, client: TestClient, browser: Browser): Promise<boolean> {
  const { challenge } = await pkce();
  const res = await browser.fetch(
    authorizePath({ response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, code_challenge: challenge, code_challenge_method: "S256", prompt: "none" }),
  );
  return new URL(res.headers.get("location")!).searchParams.has("code");
}

function logoutUrl(params: Record<string, string>): string {
  return `/logout?${new URLSearchParams(params)}`;
}

const enc = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));
const dec = (part: string) => JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));

describe("GET /logout without a valid hint asks first", () => {
  it("shows a confirmation page that changes nothing; its CSRF-bound POST ends the session and its chains and follows Kinde's redirect", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { post_logout_redirect_uris: [BYE] });
    const { browser, tokens } = await signedIn(app, client);

    const page = await browser.fetch(`/logout?redirect=${encodeURIComponent(BYE)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("location")).toBeNull();
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.getAll("set-cookie").some((c) => c.startsWith("latch_session="))).toBe(false);
    const html = await page.text();
    expect(html).toMatch(/<form method="post" action="\/logout">/);
    const form = hiddenFields(html);
    expect(form.get("post_logout_redirect_uri")).toBe(BYE);
    expect(form.get("csrf")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessionAlive(app, client, browser)).toBe(true);

    const out = await browser.post("/logout", form, { Origin: app.origin });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe(BYE);
    expect(out.headers.get("set-cookie")).toMatch(/^latch_session=; Max-Age=0/);
    expect(await sessionAlive(app, client, browser)).toBe(false);
    const refresh = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: client.client_id });
    expect(refresh.status).toBe(400);
  });

  it("refuses the confirmation without its CSRF cookie, with a wrong token, or from another site (403), and the session lives", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { post_logout_redirect_uris: [BYE] });
    const { browser } = await signedIn(app, client);
    const form = hiddenFields(await (await browser.fetch(`/logout?redirect=${encodeURIComponent(BYE)}`)).text());

    const stranger = new Browser(app);
    stranger.cookies.set("latch_session", browser.cookies.get("latch_session")!);
    const attempts: [Browser, URLSearchParams, Record<string, string>][] = [
      [stranger, form, { Origin: app.origin }],
      [browser, new URLSearchParams({ ...Object.fromEntries(form), csrf: "A".repeat(43) }), { Origin: app.origin }],
      [browser, form, { Origin: "https://evil.example" }],
    ];
    for (const [who, body, headers] of attempts) {
      const res = await who.post("/logout", body, headers);
      expect(res.status).toBe(403);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("This sign-out form expired or came from another site.");
    }
    expect(await sessionAlive(app, client, browser)).toBe(true);
  });

  it("an RP's form POST of the parameters is sent on to the GET: without a hint it asks, with a valid hint it signs out", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { post_logout_redirect_uris: [BYE] });
    const { browser, tokens } = await signedIn(app, client);
    const viaPost = async (form: Record<string, string>) => {
      const posted = await browser.post("/logout", { ...form, extra: "dropped" }, { Origin: "https://client.example" });
      expect(posted.status).toBe(303);
      expect(posted.headers.get("set-cookie")).toBeNull();
      const next = new URL(posted.headers.get("location")!, app.origin);
      expect(Object.fromEntries(next.searchParams)).toEqual(form);
      return browser.fetch(next.pathname + next.search);
    };
    const asked = await viaPost({ post_logout_redirect_uri: BYE, client_id: client.client_id });
    expect(asked.status).toBe(200);
    expect(await asked.text()).toContain("Sign out?");
    expect(await sessionAlive(app, client, browser)).toBe(true);
    const out = await viaPost({ post_logout_redirect_uri: BYE, id_token_hint: tokens.id_token!, state: "s" });
    expect(out.status).toBe(302);
    expect(out.headers.get("location")).toBe(`${BYE}?state=s`);
    expect(await sessionAlive(app, client, browser)).toBe(false);
  });
});

describe("GET /logout with id_token_hint", () => {
  it("a valid hint (an expired one too) for the signed-in user ends the session at once and redirects with state", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { post_logout_redirect_uris: [BYE] });
    const { browser, tokens } = await signedIn(app, client);
    // The same ID token, as the app's key would have signed it an hour ago.
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await signJwt(env, (await appById(env, app.id))!, { typ: "JWT" }, { ...dec(tokens.id_token!.split(".")[1]!), iat: past, exp: past + 60 });
    const out = await browser.fetch(logoutUrl({ post_logout_redirect_uri: BYE, id_token_hint: expired, state: "s 1" }));
    expect(out.status).toBe(302);
    expect(out.headers.get("location")).toBe(`${BYE}?state=s+1`);
    expect(await sessionAlive(app, client, browser)).toBe(false);
  });

  it("refuses to redirect after a hint that does not validate: alg none, another key, not.a.jwt, a tampered sub, another issuer, an access token, another client's client_id", async () => {
    const domain = `${Math.random().toString(36).slice(2)}.example`;
    const app = await oauthApp({ custom_domain: domain });
    const client = await addClient(app, { post_logout_redirect_uris: [BYE] });
    const other = await addClient(app, { post_logout_redirect_uris: ["https://other.example/bye"] });
    const { browser, tokens } = await signedIn(app, client);
    const [h, p, s] = tokens.id_token!.split(".") as [string, string, string];
    const header = dec(h);
    const payload = dec(p);
    const { privateKey } = await generateKeyPair("ES256");
    const foreignKey = await new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: header.kid, typ: "JWT" }).sign(privateKey);
    const tampered = `${h}.${enc({ ...payload, sub: "someone-else" })}.${s}`;

    const cases: [string, Record<string, string>][] = [
      ["alg none", { id_token_hint: `${enc({ ...header, alg: "none" })}.${p}.` }],
      ["another key", { id_token_hint: foreignKey }],
      ["not.a.jwt", { id_token_hint: "not.a.jwt" }],
      ["tampered sub", { id_token_hint: tampered }],
      ["an access token", { id_token_hint: tokens.access_token }],
      ["another client's client_id", { id_token_hint: tokens.id_token!, client_id: other.client_id }],
    ];
    for (const [why, params] of cases) {
      const res = await browser.fetch(logoutUrl({ post_logout_redirect_uri: BYE, ...params }));
      expect({ why, status: res.status, location: res.headers.get("location") }).toEqual({ why, status: 200, location: null });
      const form = hiddenFields(await res.text());
      expect({ why, carried: form.get("post_logout_redirect_uri") }).toEqual({ why, carried: null });
      expect(await sessionAlive(app, client, browser), why).toBe(true);
    }
    // Another issuer: the same app and keys, but the hint was issued at the slug host, not at the custom domain's.
    const elsewhere = await new Browser(app).fetch(`https://auth.${domain}${logoutUrl({ post_logout_redirect_uri: BYE, id_token_hint: tokens.id_token! })}`);
    expect({ status: elsewhere.status, location: elsewhere.headers.get("location") }).toEqual({ status: 200, location: null });
    expect(hiddenFields(await elsewhere.text()).get("post_logout_redirect_uri")).toBeNull();

    // Confirming that page signs out but stays here.
    const form = hiddenFields(await (await browser.fetch(logoutUrl({ post_logout_redirect_uri: BYE, id_token_hint: "not.a.jwt" }))).text());
    const out = await browser.post("/logout", form, { Origin: app.origin });
    expect(out.status).toBe(200);
    expect(out.headers.get("location")).toBeNull();
    expect(await out.text()).toContain("You are signed out");
    expect(await sessionAlive(app, client, browser)).toBe(false);
  });

  it("a hint for someone other than the signed-in user asks first", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { post_logout_redirect_uris: [BYE] });
    const first = await signedIn(app, client);
    const second = await signedIn(app, client);
    const res = await second.browser.fetch(logoutUrl({ post_logout_redirect_uri: BYE, id_token_hint: first.tokens.id_token! }));
    expect(res.status).toBe(200);
    expect(hiddenFields(await res.text()).get("post_logout_redirect_uri")).toBe(BYE);
    expect(await sessionAlive(app, client, second.browser)).toBe(true);
  });

  it("only the hinted client's registered URIs count, exactly (prefix and case tricks included)", async () => {
    const app = await oauthApp();
    const a = await addClient(app, { post_logout_redirect_uris: ["https://a.example/bye"] });
    await addClient(app, { post_logout_redirect_uris: ["https://b.example/bye"] });
    const { tokens } = await signedIn(app, a);
    for (const uri of ["https://b.example/bye", "https://evil.example/", "https://a.example/bye/x", "https://A.example/bye", "https://a.example/by"]) {
      const res = await new Browser(app).fetch(logoutUrl({ post_logout_redirect_uri: uri, id_token_hint: tokens.id_token! }));
      expect(res.status, uri).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("not registered");
    }
    const right = await new Browser(app).fetch(logoutUrl({ post_logout_redirect_uri: "https://a.example/bye", id_token_hint: tokens.id_token! }));
    expect(right.headers.get("location")).toBe("https://a.example/bye");
    const plain = await new Browser(app).fetch(logoutUrl({ id_token_hint: tokens.id_token! }));
    expect(plain.status).toBe(200);
    expect(await plain.text()).toContain("You are signed out");
  });
});
