/**
 * Sign-in by emailed code (issue 14): 6 digits, 10 minutes, single use, 5 attempts,
 * auth_method "email_code", the auth policy applies; unknown accounts look the same.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createUser } from "../manage/helpers";
import { Browser, authorizePath, decodeJwt, pkce, tokenRequest, type TestClient } from "../oauth/helpers";
import { accountApp, mailbox, nextMail, signupWithEmail, submit } from "./helpers";

async function params(client: TestClient) {
  const { challenge, verifier } = await pkce();
  return {
    verifier,
    query: { response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, scope: "openid email", state: "s", code_challenge: challenge, code_challenge_method: "S256" },
  };
}

/** From the sign-in page's "Email me a sign-in code" to the page that asks for it. */
async function askForCode(browser: Browser, client: TestClient, identifier: string, given?: Awaited<ReturnType<typeof params>>): Promise<{ page: string; status: number; verifier: string }> {
  const { query, verifier } = given ?? (await params(client));
  const signIn = await (await browser.fetch(authorizePath(query))).text();
  const href = /href="(\/account\/email-code\?[^"]+)"/.exec(signIn)?.[1]?.replace(/&amp;/g, "&");
  expect(href).toBeTruthy();
  const res = await submit(browser, href!, { username: identifier });
  return { page: await res.text(), status: res.status, verifier };
}

const enter = (browser: Browser, page: string, code: string) => submit(browser, "/account/email-code", { code }, page);

describe("email one-time codes", () => {
  it("signs in with the mailed code (auth_method email_code, email confirmed); a code works once", async () => {
    const { app, client } = await accountApp({ sign_in_methods: ["password", "email_code"] });
    const user = await signupWithEmail(app);
    const browser = new Browser(app);
    const asked = await askForCode(browser, client, user.email);
    expect(asked.status).toBe(200);
    const mail = await nextMail(user.email, "email_code");
    expect(mail.code).toMatch(/^\d{6}$/);
    expect(mail.subject).toBe(`Your Test App sign-in code: ${mail.code}`);
    const res = await enter(browser, asked.page, `${mail.code!.slice(0, 3)} ${mail.code!.slice(3)}`);
    expect(res.status).toBe(303);
    const location = res.headers.get("location")!;
    expect(location.startsWith("/oauth2/auth?")).toBe(true);
    // The face started the session; /oauth2/auth issues the code from it.
    const authorized = await browser.fetch(location);
    expect(authorized.status).toBe(302);
    const code = new URL(authorized.headers.get("location")!).searchParams.get("code")!;
    const tokens = await tokenRequest(app, { grant_type: "authorization_code", code, redirect_uri: client.redirect_uris[0]!, code_verifier: asked.verifier, client_id: client.client_id });
    const at = decodeJwt(((await tokens.json()) as { access_token: string }).access_token).payload;
    expect(at).toMatchObject({ sub: user._id, auth_method: "email_code", emailVerified: true });
    // Used once: the same code on the same page is refused.
    const reused = await enter(browser, asked.page, mail.code!);
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain("expired or was already used");
    const row = await env.DB.prepare("SELECT expires_at - created_at AS ms FROM one_time_tokens WHERE app_id = ? AND kind = 'email_code'").bind(app.id).first<number>("ms");
    expect(row).toBe(10 * 60_000);
  });

  it("allows 5 attempts per code, then refuses even the right code; an unknown account behaves the same", async () => {
    const { app, client } = await accountApp({ sign_in_methods: ["password", "email_code"] });
    const user = await signupWithEmail(app);
    const browser = new Browser(app);
    const request = await params(client);
    const real = await askForCode(browser, client, user.username, request);
    const ghost = await askForCode(browser, client, "ghost-user", request);
    // Same page for both, apart from the challenge id.
    const strip = (html: string) => html.replace(/ott_[0-9a-z]{24}/g, "ott").replace(/name="csrf" value="[^"]*"/, "");
    expect(strip(ghost.page)).toBe(strip(real.page));
    const mail = await nextMail(user.email, "email_code");
    const wrongCode = mail.code === "000000" ? "000001" : "000000";
    for (const page of [real.page, ghost.page]) {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await enter(browser, page, wrongCode)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
    }
    const spent = await enter(browser, real.page, mail.code!);
    expect(spent.status).toBe(429);
    expect(await spent.text()).toContain("Too many wrong codes");
    expect((await enter(browser, ghost.page, mail.code!)).status).toBe(429);
    expect(await mailbox("ghost-user")).toEqual([]);
    // A malformed code is not an attempt.
    expect((await enter(browser, real.page, "12ab56")).status).toBe(400);
  });

  it("binds a code to the browser that asked; limits codes per account; the page exists only when allowed", async () => {
    const { app, client } = await accountApp({ sign_in_methods: ["password", "email_code"] });
    const user = await signupWithEmail(app);
    const browser = new Browser(app);
    const asked = await askForCode(browser, client, user.username);
    const mail = await nextMail(user.email, "email_code");
    // Another browser, with a valid form of its own and the right code, cannot use the challenge.
    const other = new Browser(app);
    const otherPage = await (await other.fetch(`/account/email-code`)).text();
    const otherCsrf = /name="csrf" value="([^"]*)"/.exec(otherPage)![1]!;
    const page = asked.page.replace(/name="csrf" value="[^"]*"/, `name="csrf" value="${otherCsrf}"`);
    const fromOther = await submit(other, "/account/email-code", { code: mail.code! }, page);
    expect(fromOther.status).toBe(401);
    expect([...other.cookies.keys()]).not.toContain("latch_session");
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await askForCode(browser, client, user.username)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);

    const { app: passwordOnly, client: c2 } = await accountApp();
    const b2 = new Browser(passwordOnly);
    const signIn = await (await b2.fetch(authorizePath((await params(c2)).query))).text();
    expect(signIn).not.toContain("/account/email-code");
    expect((await b2.fetch("/account/email-code")).status).toBe(404);
  });

  it("the auth policy applies: under passkey_required a right code leads to passkey enrolment, not a session", async () => {
    const { app, client } = await accountApp({ sign_in_methods: ["email_code"], auth_policy: "passkey_required" });
    // passkey_required refuses Kinvey signup: the user comes from the management API.
    const user = { email: `pk-${app.slug}@example.com` };
    await createUser(app, { email: user.email });
    const browser = new Browser(app);
    // Without passwords the sign-in page has no password form, only the code link.
    const signIn = await (await browser.fetch(authorizePath((await params(client)).query))).text();
    expect(signIn).not.toContain('name="password"');
    const asked = await askForCode(browser, client, user.email);
    const mail = await nextMail(user.email, "email_code");
    const res = await enter(browser, asked.page, mail.code!);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("data-passkey-enrol");
    expect([...browser.cookies.keys()]).not.toContain("latch_session");
  });
});
