/** The pure rules of upstream sign-in: linking decisions, profile mapping, presets, URLs. */
import { describe, expect, it } from "vitest";
import { decideLink, type LinkFacts } from "../../worker/identity/linking";
import { authMethodOf, expectedIssuer, protocolOf } from "../../worker/connections/presets";
import { authorizationUrl, mapProfile, upstreamUrlProblem } from "../../worker/connections/upstream";

const base: LinkFacts = {
  identity: null,
  pending: null,
  emailUser: null,
  profile: { email: "a@example.com", emailVerified: true },
  settings: { linkByEmail: true, signup: true },
};

describe("decideLink", () => {
  it("an identity already linked signs its user in, whatever the email says", () => {
    expect(decideLink({ ...base, identity: { id: "i1", userId: "u1" }, emailUser: { id: "u2", emailVerified: true } })).toEqual({ kind: "existing", userId: "u1", identityId: "i1" });
  });
  it("links by email only when the provider and Latch both verified it and the app allows it", () => {
    const emailUser = { id: "u2", emailVerified: true };
    expect(decideLink({ ...base, emailUser })).toEqual({ kind: "link", userId: "u2" });
    expect(decideLink({ ...base, emailUser, profile: { email: "a@example.com", emailVerified: false } })).toEqual({ kind: "refuse", reason: "email_taken" });
    expect(decideLink({ ...base, emailUser: { id: "u2", emailVerified: false } })).toEqual({ kind: "refuse", reason: "email_taken" });
    expect(decideLink({ ...base, emailUser, settings: { linkByEmail: false, signup: true } })).toEqual({ kind: "refuse", reason: "email_taken" });
  });
  it("claims a management API pre-link only with a verified email", () => {
    const pending = { id: "i9", userId: "u9" };
    expect(decideLink({ ...base, pending })).toEqual({ kind: "claim", userId: "u9", identityId: "i9" });
    expect(decideLink({ ...base, pending, profile: { email: "a@example.com", emailVerified: false } })).toEqual({ kind: "create" });
  });
  it("creates a user only when the app allows sign-up through connections", () => {
    expect(decideLink(base)).toEqual({ kind: "create" });
    expect(decideLink({ ...base, profile: { email: null, emailVerified: false } })).toEqual({ kind: "create" });
    expect(decideLink({ ...base, settings: { linkByEmail: true, signup: false } })).toEqual({ kind: "refuse", reason: "signup_closed" });
  });
});

describe("mapProfile", () => {
  it("reads through the mapping; numeric ids become strings; Apple's string booleans count", () => {
    expect(mapProfile({ id: 42, name: "Octo", avatar_url: "https://x/a.png" }, protocolOf("oauth2:github", {}).mapping)).toEqual({
      subject: "42",
      email: null,
      emailVerified: false,
      name: "Octo",
      picture: "https://x/a.png",
    });
    expect(mapProfile({ sub: "s", email: "a@b.c", email_verified: "true" }, protocolOf("oauth2:apple", {}).mapping)).toMatchObject({ email: "a@b.c", emailVerified: true });
    expect(mapProfile({ sub: "s", email: "a@b.c", email_verified: "false" }, protocolOf("oauth2:apple", {}).mapping).emailVerified).toBe(false);
  });
  it("takes a custom claim mapping, nested paths included", () => {
    const mapping = protocolOf("oidc:custom", { claim_mapping: { email: "contact.mail", email_verified: "contact.ok" } }).mapping;
    expect(mapProfile({ sub: "x", contact: { mail: "m@x.y", ok: true } }, mapping)).toMatchObject({ subject: "x", email: "m@x.y", emailVerified: true });
  });
  it("refuses a profile without a usable subject", () => {
    expect(() => mapProfile({ email: "a@b.c" }, protocolOf("oidc:custom", {}).mapping)).toThrow(/subject/);
    expect(() => mapProfile({ sub: "" }, protocolOf("oidc:custom", {}).mapping)).toThrow(/subject/);
  });
});

describe("presets", () => {
  const input = { clientId: "cid", redirectUri: "https://auth.example.com/upstream/callback", state: "st", nonce: "no", codeChallenge: "ch" };

  it("Google: the documented endpoints, PKCE and a nonce", () => {
    const url = new URL(authorizationUrl(protocolOf("oauth2:google", {}), input));
    expect(url.origin + url.pathname).toBe("https://accounts.google.com/o/oauth2/v2/auth");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "cid",
      redirect_uri: input.redirectUri,
      scope: "openid email profile",
      state: "st",
      nonce: "no",
      code_challenge: "ch",
      code_challenge_method: "S256",
    });
  });

  it("Microsoft: tenant endpoints, and the issuer of the signing-in user's own tenant", () => {
    const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const common = protocolOf("oauth2:microsoft", {});
    expect(common.authorization).toBe("https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
    expect(common.token).toBe("https://login.microsoftonline.com/common/oauth2/v2.0/token");
    expect(common.jwks).toBe("https://login.microsoftonline.com/common/discovery/v2.0/keys");
    expect(expectedIssuer(common, { tid })).toBe(`https://login.microsoftonline.com/${tid}/v2.0`);
    expect(expectedIssuer(common, { tid: "not-a-tenant" })).toBeNull();
    const pinned = protocolOf("oauth2:microsoft", { tenant: tid });
    expect(pinned.authorization).toBe(`https://login.microsoftonline.com/${tid}/oauth2/v2.0/authorize`);
    expect(expectedIssuer(pinned, { tid: "00000000-0000-0000-0000-000000000000" })).toBe(`https://login.microsoftonline.com/${tid}/v2.0`);
  });

  it("Apple: form_post, no PKCE, name and email", () => {
    const url = new URL(authorizationUrl(protocolOf("oauth2:apple", {}), input));
    expect(url.origin + url.pathname).toBe("https://appleid.apple.com/auth/authorize");
    expect(url.searchParams.get("response_mode")).toBe("form_post");
    expect(url.searchParams.get("scope")).toBe("name email");
    expect(url.searchParams.has("code_challenge")).toBe(false);
    expect(url.searchParams.get("nonce")).toBe("no");
  });

  it("GitHub: OAuth2 with PKCE and no nonce", () => {
    const url = new URL(authorizationUrl(protocolOf("oauth2:github", {}), input));
    expect(url.origin + url.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(url.searchParams.get("scope")).toBe("read:user user:email");
    expect(url.searchParams.has("nonce")).toBe(false);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
  });

  it("auth_method names the protocol and the connection", () => {
    expect(authMethodOf("oauth2:google", "google")).toBe("oidc:google");
    expect(authMethodOf("oauth2:github", "github")).toBe("oauth2:github");
    expect(authMethodOf("oidc:custom", "corp")).toBe("oidc:corp");
  });
});

describe("upstream URLs", () => {
  it("https only, except http on loopback in local development", () => {
    expect(upstreamUrlProblem("https://idp.example.com", false)).toBeNull();
    expect(upstreamUrlProblem("http://idp.example.com", true)).toMatch(/https/);
    expect(upstreamUrlProblem("http://127.0.0.1:9000", false)).toMatch(/https/);
    expect(upstreamUrlProblem("http://127.0.0.1:9000", true)).toBeNull();
    expect(upstreamUrlProblem("https://user:pw@idp.example.com", false)).toMatch(/credentials/);
  });
});
