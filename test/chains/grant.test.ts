/** The refresh_token grant over HTTP (/oauth2/token) through the chain objects. */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addClient, decodeJwt, newUser, oauthApp, tokenRequest, tokensFor, type OAuthTestApp, type TestClient, type TokenBody } from "../oauth/helpers";

function refresh(app: OAuthTestApp, client: TestClient, token: string) {
  return tokenRequest(app, { grant_type: "refresh_token", refresh_token: token, client_id: client.client_id });
}

async function refreshed(app: OAuthTestApp, client: TestClient, token: string): Promise<TokenBody> {
  const res = await refresh(app, client, token);
  if (res.status !== 200) throw new Error(`refresh: ${res.status} ${await res.text()}`);
  return res.json<TokenBody>();
}

async function expectInvalidGrant(res: Response, description: RegExp) {
  expect(res.status).toBe(400);
  const body = await res.json<{ error: string; error_description: string }>();
  expect(body.error).toBe("invalid_grant");
  expect(body.error_description).toMatch(description);
}

async function setup() {
  const app = await oauthApp();
  const client = await addClient(app);
  const user = await newUser(app);
  const tokens = await tokensFor(app, client, user);
  return { app, client, user, first: tokens.refresh_token! };
}

describe("refresh_token grant", () => {
  it("rotates and returns a fresh access token for the chain's user", async () => {
    const { app, client, user, first } = await setup();
    const r1 = await refreshed(app, client, first);
    expect(r1.refresh_token).toBeTypeOf("string");
    expect(r1.refresh_token).not.toBe(first);
    expect(decodeJwt(r1.access_token).payload).toMatchObject({ sub: user._id, client_id: client.client_id });
    const r2 = await refreshed(app, client, r1.refresh_token!);
    expect(r2.refresh_token).not.toBe(r1.refresh_token);
  });

  it("50 simultaneous refreshes of one token: all 200 with one successor, which then works", async () => {
    const { app, client, first } = await setup();
    const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(app, client, first)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const bodies = await Promise.all(responses.map((r) => r.json<TokenBody>()));
    expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(1);
    expect(bodies.every((b) => typeof b.access_token === "string")).toBe(true);
    const next = await refreshed(app, client, bodies[0]!.refresh_token!);
    expect(next.refresh_token).not.toBe(bodies[0]!.refresh_token);
  });

  it("a grand-parent token is refused with invalid_grant, revokes the chain and logs reuse", async () => {
    const { app, client, user, first } = await setup();
    const r1 = await refreshed(app, client, first);
    const r2 = await refreshed(app, client, r1.refresh_token!);
    await expectInvalidGrant(await refresh(app, client, first), /already used/);
    await expectInvalidGrant(await refresh(app, client, r2.refresh_token!), /revoked/);
    const n = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE app_id = ? AND user_id = ? AND type = 'refresh_token.reuse_detected'")
      .bind(app.id, user._id)
      .first<number>("n");
    expect(n).toBe(1);
  });

  it("another client of the same app is refused and the chain keeps working for its own client", async () => {
    const { app, client, first } = await setup();
    const other = await addClient(app);
    await expectInvalidGrant(await refresh(app, other, first), /another client/);
    await refreshed(app, client, first);
  });

  it("a malformed or unknown token is invalid_grant", async () => {
    const { app, client, first } = await setup();
    await expectInvalidGrant(await refresh(app, client, "not-a-token"), /malformed/);
    await expectInvalidGrant(await refresh(app, client, first.slice(0, -4) + "AAAA"), /not valid/);
    await refreshed(app, client, first);
  });

  it("RFC 7009 revocation answers 200 and ends the chain", async () => {
    const { app, client, first } = await setup();
    const r1 = await refreshed(app, client, first);
    const res = await SELF.fetch(`${app.origin}/oauth2/revoke`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: r1.refresh_token!, client_id: client.client_id }),
    });
    expect(res.status).toBe(200);
    await expectInvalidGrant(await refresh(app, client, r1.refresh_token!), /revoked/);
  });
});
