/** GET /logout (SPEC §4): ends the auth-host session and its chains; redirects only to registered URIs. */
import { describe, expect, it } from "vitest";
import { addClient, authorizePath, Browser, login, newUser, oauthApp, pkce, tokenRequest } from "./helpers";

describe("logout", () => {
  it("ends the browser session and the chains begun under it, then follows Kinde's redirect", async () => {
    const app = await oauthApp();
    const client = await addClient(app, { post_logout_redirect_uris: ["https://client.example/bye"] });
    const user = await newUser(app);
    const l = await login(app, client, user);
    const ex = await tokenRequest(app, { grant_type: "authorization_code", code: l.code, redirect_uri: client.redirect_uris[0]!, code_verifier: l.verifier, client_id: client.client_id });
    const { refresh_token } = await ex.json<{ refresh_token: string }>();

    const out = await l.browser.fetch("/logout?redirect=https%3A%2F%2Fclient.example%2Fbye");
    expect(out.status).toBe(302);
    expect(out.headers.get("location")).toBe("https://client.example/bye");
    expect(out.headers.get("set-cookie")).toMatch(/^latch_session=; Max-Age=0/);

    const refresh = await tokenRequest(app, { grant_type: "refresh_token", refresh_token, client_id: client.client_id });
    expect(refresh.status).toBe(400);

    // The old cookie, replayed, is dead too.
    const replay = new Browser(app);
    replay.cookies.set("latch_session", l.browser.cookies.get("latch_session") ?? "gone");
    const { challenge } = await pkce();
    const res = await replay.fetch(
      authorizePath({ response_type: "code", client_id: client.client_id, redirect_uri: client.redirect_uris[0]!, code_challenge: challenge, code_challenge_method: "S256", prompt: "none" }),
    );
    expect(new URL(res.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("never redirects to an unregistered URI (prefix and case tricks included)", async () => {
    const app = await oauthApp();
    await addClient(app, { post_logout_redirect_uris: ["https://client.example/bye"] });
    const browser = new Browser(app);
    for (const uri of ["https://evil.example/", "https://client.example/bye/x", "https://CLIENT.example/bye", "https://client.example/by"]) {
      const res = await browser.fetch(`/logout?post_logout_redirect_uri=${encodeURIComponent(uri)}`);
      expect(res.status, uri).toBe(400);
      expect(res.headers.get("location")).toBeNull();
    }
    const plain = await browser.fetch("/logout");
    expect(plain.status).toBe(200);
    expect(await plain.text()).toContain("You are signed out");
  });

  it("with id_token_hint only the hinted client's URIs count", async () => {
    const app = await oauthApp();
    const a = await addClient(app, { post_logout_redirect_uris: ["https://a.example/bye"] });
    await addClient(app, { post_logout_redirect_uris: ["https://b.example/bye"] });
    const user = await newUser(app);
    const l = await login(app, a, user);
    const ex = await tokenRequest(app, { grant_type: "authorization_code", code: l.code, redirect_uri: a.redirect_uris[0]!, code_verifier: l.verifier, client_id: a.client_id });
    const { id_token } = await ex.json<{ id_token: string }>();
    const wrong = await l.browser.fetch(`/logout?post_logout_redirect_uri=${encodeURIComponent("https://b.example/bye")}&id_token_hint=${id_token}`);
    expect(wrong.status).toBe(400);
    const right = await new Browser(app).fetch(`/logout?post_logout_redirect_uri=${encodeURIComponent("https://a.example/bye")}&id_token_hint=${id_token}&state=s%201`);
    expect(right.headers.get("location")).toBe("https://a.example/bye?state=s+1");
  });
});
