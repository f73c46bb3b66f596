/** What /logout does (worker/oauth/logout-rules.ts): only a valid hint for the signed-in user signs out at once. */
import { describe, expect, it } from "vitest";
import { decideLogout, logoutParams } from "../../worker/oauth/logout-rules";

const hint = { sub: "u1", aud: ["c1"], azp: "c1", sid: "s1" };

describe("decideLogout", () => {
  it("signs out at once with a valid hint for the signed-in user, or with no session at all", () => {
    expect(decideLogout({ hint, clientId: null, sessionUserId: "u1" })).toEqual({ kind: "now", clientId: "c1" });
    expect(decideLogout({ hint, clientId: "c1", sessionUserId: null })).toEqual({ kind: "now", clientId: "c1" });
  });

  it("asks without a hint, keeping the redirect and the named client", () => {
    expect(decideLogout({ hint: "absent", clientId: "c2", sessionUserId: "u1" })).toEqual({ kind: "confirm", redirect: true, clientId: "c2" });
  });

  it("asks and forfeits the redirect for an invalid hint or a client_id that is not the hint's audience", () => {
    expect(decideLogout({ hint: "invalid", clientId: "c1", sessionUserId: "u1" })).toEqual({ kind: "confirm", redirect: false, clientId: null });
    expect(decideLogout({ hint, clientId: "c2", sessionUserId: "u1" })).toEqual({ kind: "confirm", redirect: false, clientId: null });
  });

  it("asks when the hint is for another user than the signed-in one", () => {
    expect(decideLogout({ hint, clientId: null, sessionUserId: "u2" })).toEqual({ kind: "confirm", redirect: true, clientId: "c1" });
  });
});

describe("logoutParams", () => {
  it("reads OIDC's post_logout_redirect_uri or Kinde's redirect", () => {
    expect(logoutParams(new URLSearchParams("redirect=https%3A%2F%2Fa.example%2F&state=x"))).toEqual({ target: "https://a.example/", state: "x", clientId: null, hint: null });
    expect(logoutParams(new URLSearchParams("post_logout_redirect_uri=https%3A%2F%2Fb.example%2F&redirect=https%3A%2F%2Fa.example%2F")).target).toBe("https://b.example/");
  });
});
