/**
 * Email verification through the dev mail transport (issue 14): a link on sign-up
 * (optional or required), Kinvey's user-email-verification-initiate, the claims, and
 * `required` blocking every sign-in until the link is used.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appAuth, basic, call, errorOf, kinveyAuth, uniqueSlug } from "../helpers";
import { Browser, authorizePath, decodeJwt, hiddenFields, login, pkce, tokenRequest, type OAuthTestApp, type TestClient } from "../oauth/helpers";
import { accountApp, mailbox, nextMail, pathOf, signupWithEmail, submit } from "./helpers";

async function query(client: TestClient, extra: Record<string, string> = {}) {
  const { challenge, verifier } = await pkce();
  return {
    verifier,
    params: { response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, scope: "openid email offline", state: "s", code_challenge: challenge, code_challenge_method: "S256", ...extra },
  };
}

async function exchange(app: OAuthTestApp, client: TestClient, location: string, verifier: string) {
  const code = new URL(location).searchParams.get("code")!;
  const res = await tokenRequest(app, { grant_type: "authorization_code", code, redirect_uri: client.redirect_uris[0]!, code_verifier: verifier, client_id: client.client_id });
  expect(res.status).toBe(200);
  return res.json<{ access_token: string; id_token: string; refresh_token: string }>();
}

async function confirm(browser: Browser, link: string): Promise<Response> {
  const page = await browser.fetch(pathOf(link));
  expect(page.status).toBe(200);
  return submit(browser, pathOf(link), {}, await page.text());
}

describe("email verification", () => {
  it("mails a link on hosted sign-up (optional); confirming it makes the next token say email_verified", async () => {
    const { app, client } = await accountApp({ email_verification: "optional" });
    const browser = new Browser(app);
    const { params, verifier } = await query(client, { prompt: "create" });
    const username = uniqueSlug("v");
    const email = `${username}@example.com`;
    const signedUp = await submit(browser, authorizePath(params), { username, email, password: "verify me 123" });
    expect(signedUp.status).toBe(303); // optional: the sign-up signs in at once
    const first = await exchange(app, client, signedUp.headers.get("location")!, verifier);
    expect(decodeJwt(first.access_token).payload.emailVerified).toBe(false);
    expect(decodeJwt(first.id_token).payload.email_verified).toBe(false);

    const mail = await nextMail(email, "email_verification");
    expect(mail.subject).toBe("Confirm your email for Test App");
    expect(mail.link).toMatch(new RegExp(`^${app.origin}/account/verify-email\\?token=`));
    // Opening the link does not use it (mail scanners prefetch); confirming does.
    const done = await confirm(new Browser(app), mail.link!);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain(`${email} is confirmed`);
    const again = await new Browser(app).fetch(pathOf(mail.link!));
    expect(again.status).toBe(400);

    const refreshed = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: first.refresh_token, client_id: client.client_id });
    expect(refreshed.status).toBe(200);
    const next = await refreshed.json<{ access_token: string; id_token?: string }>();
    expect(decodeJwt(next.access_token).payload.emailVerified).toBe(true);
    const user = await env.DB.prepare("SELECT id, email_verified FROM users WHERE app_id = ? AND username = ?").bind(app.id, username).first<{ id: string; email_verified: number }>();
    expect(user!.email_verified).toBe(1);
    const me = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username, password: "verify me 123" } });
    expect(((await me.json()) as { _kmd: { emailVerification: unknown } })._kmd.emailVerification).toEqual({ status: "confirmed" });
    const types = (await env.DB.prepare("SELECT type FROM events WHERE app_id = ? AND user_id = ?").bind(app.id, user!.id).all<{ type: string }>()).results.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(["user.email_verification_requested", "user.email_verified", "user.updated"]));
  });

  it("required: blocks Kinvey and hosted sign-in until the link is used, with a resend action", async () => {
    const { app, client } = await accountApp({ email_verification: "required" });
    // No email, no account: it could never be verified.
    const noEmail = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: uniqueSlug("n"), password: "no email 1234" } });
    expect(await errorOf(noEmail)).toMatchObject({ status: 400, error: "BadRequest" });
    const user = await signupWithEmail(app);
    expect(user.token).toBeUndefined(); // no session before verification
    const seen = new Set<string>();
    const signupMail = await nextMail(user.email, "email_verification", seen);

    const kinveyLogin = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: user.password } });
    expect(await errorOf(kinveyLogin)).toMatchObject({ status: 401, error: "InsufficientCredentials" });
    const basicUser = await call(`/user/${app.id}/_me`, { headers: { Authorization: basic(user.username, user.password) } });
    expect(await errorOf(basicUser)).toMatchObject({ status: 401, error: "InsufficientCredentials" });
    // A wrong password is still just wrong.
    const wrong = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: "nope nope" } });
    expect(await errorOf(wrong)).toMatchObject({ status: 401, error: "InvalidCredentials" });

    const browser = new Browser(app);
    const { params, verifier } = await query(client);
    const blocked = await submit(browser, authorizePath(params), { username: user.username, password: user.password });
    expect(blocked.status).toBe(403);
    const blockedPage = await blocked.text();
    expect(blockedPage).toContain("Verify your email first");
    expect([...browser.cookies.keys()]).not.toContain("latch_session");
    // The resend button mails another link.
    const resent = await submit(browser, "/account/verify-email/resend", {}, blockedPage);
    expect(resent.status).toBe(200);
    expect(await resent.text()).toContain("We sent a new link");
    const resentMail = await nextMail(user.email, "email_verification", seen);
    expect(resentMail.link).not.toBe(signupMail.link);
    // A forged ticket gets nothing.
    const forged = await browser.post("/account/verify-email/resend", (() => { const f = hiddenFields(blockedPage); f.set("ticket", `${user._id}.99999999999999.00`); return f; })(), { Origin: app.origin });
    expect(forged.status).toBe(400);

    expect((await confirm(browser, signupMail.link!)).status).toBe(200);
    const signedIn = await submit(browser, authorizePath(params), { username: user.username, password: user.password });
    expect(signedIn.status).toBe(303);
    const tokens = await exchange(app, client, signedIn.headers.get("location")!, verifier);
    expect(decodeJwt(tokens.id_token).payload.email_verified).toBe(true);
    const kinveyAfter = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: user.password } });
    expect(kinveyAfter.status).toBe(200);
  });

  it("Kinvey user-email-verification-initiate mails a link (204 for anyone); a changed email is unverified and kills the link", async () => {
    const { app } = await accountApp({ email_verification: "optional" });
    const user = await signupWithEmail(app);
    const seen = new Set<string>();
    await nextMail(user.email, "email_verification", seen);
    const initiate = (who: string) => call(`/rpc/${app.id}/${encodeURIComponent(who)}/user-email-verification-initiate`, { method: "POST", headers: { Authorization: appAuth(app) } });
    expect((await initiate(user.username)).status).toBe(204);
    expect((await initiate("nobody-at-all")).status).toBe(204);
    const mail = await nextMail(user.email, "email_verification", seen);

    const changed = await call(`/user/${app.id}/${user._id}`, { method: "PUT", headers: { Authorization: kinveyAuth(user.token!) }, json: { username: user.username, email: `new-${user.email}` } });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { _kmd: { emailVerification: unknown } })._kmd.emailVerification).toEqual({ status: "unconfirmed" });
    const dead = await new Browser(app).fetch(pathOf(mail.link!));
    expect(dead.status).toBe(400);
    expect(await mailbox("nobody-at-all")).toEqual([]);
  });

  it("off: no link on sign-up and none on request", async () => {
    const { app, client } = await accountApp();
    const user = await signupWithEmail(app);
    expect((await call(`/rpc/${app.id}/${user.username}/user-email-verification-initiate`, { method: "POST", headers: { Authorization: appAuth(app) } })).status).toBe(204);
    // A reset request is queued after them; once it arrived, nothing else did.
    await call(`/rpc/${app.id}/${user.username}/user-password-reset-initiate`, { method: "POST", headers: { Authorization: appAuth(app) } });
    await nextMail(user.email, "password_reset");
    expect((await mailbox(user.email)).map((m) => m.kind)).toEqual(["password_reset"]);
    expect((await login(app, client, user)).code).toBeTruthy();
  });
});
