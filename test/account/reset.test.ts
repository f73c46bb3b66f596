/**
 * Password reset end to end through the dev mail transport (issue 14): the hosted
 * "Forgot password?" page and Kinvey's user-password-reset-initiate mail a single-use link;
 * its page sets a new password under the app's rules and ends every session and chain.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { appAuth, call, errorOf, kinveyAuth } from "../helpers";
import { Browser, authorizePath, login, pkce, tokenRequest, tokensFor } from "../oauth/helpers";
import { api, okJson } from "../manage/helpers";
import { accountApp, mailbox, nextMail, pathOf, signupWithEmail, submit } from "./helpers";

const LINK_ERROR = "This link is not valid: it has expired, it was already used, or a newer one replaced it.";

async function authorizeQuery(client: { client_id: string; redirect_uris: string[] }) {
  const { challenge } = await pkce();
  return { response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, scope: "openid email offline", state: "s1", code_challenge: challenge, code_challenge_method: "S256" };
}

async function forgot(browser: Browser, identifier: string, query: Record<string, string> = {}): Promise<Response> {
  return submit(browser, `/account/forgot-password?${new URLSearchParams(query)}`, { username: identifier });
}

describe("password reset", () => {
  it("mails a link from the sign-in page's Forgot password?; the new password ends every session and chain and the lockout", async () => {
    const { app, client } = await accountApp();
    const user = await signupWithEmail(app);
    const tokens = await tokensFor(app, client, user);
    const kinveyBefore = user.token!;
    const oldSession = tokens.login.browser;
    // Someone guessed until the account locked.
    const guesses = await Promise.all(Array.from({ length: 11 }, () => call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: "not it" } })));
    expect(guesses.map((r) => r.status).sort()).toEqual([...Array(10).fill(401), 429]);

    // The sign-in page links to the forgot-password page, carrying the authorization request.
    const query = await authorizeQuery(client);
    const browser = new Browser(app);
    const signIn = await (await browser.fetch(authorizePath(query))).text();
    const forgotHref = /href="(\/account\/forgot-password\?[^"]+)"/.exec(signIn)?.[1]?.replace(/&amp;/g, "&");
    expect(forgotHref).toContain(`client_id=${client.client_id}`);
    const sent = await submit(browser, forgotHref!, { username: user.email.toUpperCase() });
    expect(sent.status).toBe(200);
    expect(await sent.text()).toContain("If an account with an email matches what you entered");

    const mail = await nextMail(user.email, "password_reset");
    expect(mail.subject).toBe("Reset your Test App password");
    expect(mail.text).toContain(mail.link);
    expect(mail.html).toContain("Choose a new password");
    expect(mail.link).toMatch(new RegExp(`^${app.origin}/account/reset-password\\?token=[A-Za-z0-9_-]{43}$`));

    const form = await (await browser.fetch(pathOf(mail.link!))).text();
    expect(form).toContain(user.username);
    // The app's rules apply; a refused password leaves the link usable.
    const short = await submit(browser, pathOf(mail.link!), { password: "short", password_confirm: "short" }, form);
    expect(short.status).toBe(400);
    expect(await short.text()).toContain("at least 8 characters");
    const differ = await submit(browser, pathOf(mail.link!), { password: "new password 22", password_confirm: "new password 23" }, form);
    expect(differ.status).toBe(400);
    const done = await submit(browser, pathOf(mail.link!), { password: "new password 22", password_confirm: "new password 22" }, form);
    expect(done.status).toBe(200);
    const donePage = await done.text();
    expect(donePage).toContain("Your password has been changed");
    // "Sign in" goes back to the authorization request.
    expect(donePage).toContain(`href="/oauth2/auth?`);

    // Every way in the old password opened is dead.
    expect(await errorOf(await call(`/user/${app.id}/_me`, { headers: { Authorization: kinveyAuth(kinveyBefore) } }))).toMatchObject({ status: 401, error: "InvalidCredentials" });
    const refresh = await tokenRequest(app, { grant_type: "refresh_token", refresh_token: tokens.refresh_token!, client_id: client.client_id });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe("invalid_grant");
    const again = await oldSession.fetch(authorizePath(await authorizeQuery(client)));
    expect(again.status).toBe(200); // the sign-in form: the old browser session is gone
    // The lockout is gone: the new password signs in at once, and the old one is merely wrong.
    expect((await login(app, client, { username: user.username, password: "new password 22" })).code).toBeTruthy();
    const oldLogin = await call(`/user/${app.id}/login`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username: user.username, password: user.password } });
    expect(oldLogin.status).toBe(401);

    // The link was single-use.
    const reused = await browser.fetch(pathOf(mail.link!));
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain(LINK_ERROR);

    const types = (await env.DB.prepare("SELECT type FROM events WHERE app_id = ? AND user_id = ? ORDER BY created_at").bind(app.id, user._id).all<{ type: string }>()).results.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(["user.password_reset_requested", "user.password_reset", "user.updated"]));
    // The event log keeps the message sealed: neither the link nor its token is readable there.
    const events = await okJson(api(app, `/events?user_id=${user._id}&type=user.password_reset_requested`));
    expect(JSON.stringify(events)).not.toContain(new URL(mail.link!).searchParams.get("token"));
    const row = await env.DB.prepare("SELECT * FROM events WHERE app_id = ? AND type = 'user.password_reset_requested'").bind(app.id).first<{ sealed: string; data: string }>();
    expect(row!.sealed).toMatch(/^m1\./);
    expect(row!.sealed + row!.data).not.toContain(new URL(mail.link!).searchParams.get("token"));
  });

  it("refuses an expired, reused, superseded or foreign link with the page's error, and a link of another kind", async () => {
    const { app } = await accountApp({ email_verification: "optional" });
    const { app: other } = await accountApp();
    const user = await signupWithEmail(app);
    const seen = new Set<string>();
    const verification = await nextMail(user.email, "email_verification", seen);
    const browser = new Browser(app);
    await forgot(browser, user.username);
    const first = await nextMail(user.email, "password_reset", seen);
    await forgot(browser, user.username);
    const second = await nextMail(user.email, "password_reset", seen);

    const refused = async (b: Browser, path: string) => {
      const res = await b.fetch(path);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(LINK_ERROR);
    };
    // Foreign: another app's host does not know the link.
    await refused(new Browser(other), pathOf(first.link!));
    // Another kind: a verification link is no reset link.
    await refused(browser, `/account/reset-password${new URL(verification.link!).search}`);
    await refused(browser, "/account/reset-password?token=not-a-token");
    await refused(browser, "/account/reset-password");

    // Expired: 30 minutes after it was mailed.
    const token = new URL(second.link!).searchParams.get("token")!;
    await env.DB.prepare("UPDATE one_time_tokens SET expires_at = ? WHERE app_id = ? AND kind = 'password_reset' AND created_at = (SELECT max(created_at) FROM one_time_tokens WHERE app_id = ? AND kind = 'password_reset')")
      .bind(Date.now() - 1, app.id, app.id)
      .run();
    await refused(browser, `/account/reset-password?token=${token}`);
    const expiredPost = await submit(browser, pathOf(first.link!), { password: "new password 33", password_confirm: "new password 33" });
    expect(expiredPost.status).toBe(200);
    // The first link worked; it changed the password hash, and with it every other link is void.
    await refused(browser, pathOf(first.link!));
    const lifetime = await env.DB.prepare("SELECT expires_at - created_at AS ms FROM one_time_tokens WHERE app_id = ? AND kind = 'password_reset' LIMIT 1").bind(app.id).first<number>("ms");
    expect(lifetime).toBe(30 * 60_000);
  });

  it("answers an unknown account exactly like a known one: same status, same page, same limits, no mail", async () => {
    const { app } = await accountApp();
    const user = await signupWithEmail(app);
    const browser = new Browser(app);
    const known = await forgot(browser, user.username);
    const unknown = await forgot(browser, "nobody-here");
    expect(unknown.status).toBe(known.status);
    expect(await unknown.text()).toBe(await known.text());
    expect([...unknown.headers.keys()]).toEqual([...known.headers.keys()]);
    await nextMail(user.email, "password_reset");
    expect(await mailbox("nobody-here")).toEqual([]);

    const rpc = (who: string) => call(`/rpc/${app.id}/${encodeURIComponent(who)}/user-password-reset-initiate`, { method: "POST", headers: { Authorization: appAuth(app) } });
    const [a, b] = [await rpc(user.email), await rpc("nobody@example.com")];
    expect([a.status, b.status]).toEqual([204, 204]);
    expect(await a.text()).toBe(await b.text());
    // Both wrote one row; only the real one can ever match anything.
    const rows = (await env.DB.prepare("SELECT user_id FROM one_time_tokens WHERE app_id = ? ORDER BY created_at").bind(app.id).all<{ user_id: string | null }>()).results;
    expect(rows.map((r) => r.user_id)).toEqual([user._id, null, user._id, null]);

    // Five requests per name in 15 minutes, counted alike for both: the sixth gets no mail and says so.
    for (const [who, before] of [[user.username, 1], ["nobody-here", 1]] as const) {
      const statuses: number[] = [];
      for (let i = before; i < 6; i++) statuses.push((await forgot(browser, who)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
    }
  });

  it("makes the next hosted sign-in choose a new password when the management API requests it (is_password_reset_requested)", async () => {
    const { app, client } = await accountApp();
    const user = await signupWithEmail(app);
    await okJson(api(app, `/user?id=${user._id}`, { method: "PATCH", json: { is_password_reset_requested: true } }));
    const browser = new Browser(app);
    const query = await authorizeQuery(client);
    const page = await (await browser.fetch(authorizePath(query))).text();
    const step = await submit(browser, authorizePath(query), { username: user.username, password: user.password }, page);
    expect(step.status).toBe(200);
    const stepPage = await step.text();
    expect(stepPage).toContain("asks you to choose a new password");
    expect([...browser.cookies.keys()]).not.toContain("latch_session");
    const done = await submit(browser, "/account/reset-password", { password: "chosen anew 1", password_confirm: "chosen anew 1" }, stepPage);
    expect(done.status).toBe(200);
    const doneHtml = await done.text();
    const href = /href="(\/oauth2\/auth\?[^"]+)"/.exec(doneHtml)![1]!.replace(/&amp;/g, "&");
    const row = await env.DB.prepare("SELECT password_reset_required FROM users WHERE id = ?").bind(user._id).first<number>("password_reset_required");
    expect(row).toBe(0);
    const signInAgain = await submit(browser, href, { username: user.username, password: "chosen anew 1" });
    expect(signInAgain.status).toBe(303);
    expect(new URL(signInAgain.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });
});
