import { describe, expect, it } from "vitest";
import { addClient, decodeJwt, login, newUser, oauthApp, tokenRequest, tokensFor } from "./helpers";

describe("authorization code flow", () => {
  it("logs in through the hosted form and exchanges the code", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await newUser(app);
    const l = await login(app, client, user, { state: "abc def+/&=" });
    expect(l.state).toBe("abc def+/&=");
    expect(l.location.searchParams.get("iss")).toBe(app.origin);
    const res = await tokenRequest(app, {
      grant_type: "authorization_code",
      code: l.code,
      redirect_uri: client.redirect_uris[0]!,
      code_verifier: l.verifier,
      client_id: client.client_id,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.json<Record<string, unknown>>();
    expect(body.token_type).toBe("Bearer");
    expect(typeof body.expires_in).toBe("number");
    expect(body.refresh_token).toBeTypeOf("string");
    const at = decodeJwt(body.access_token as string);
    expect(at.header.typ).toBe("at+jwt");
    expect(at.payload.sub).toBe(user._id);
    expect(at.payload.aud).toBe(client.client_id);
    const id = decodeJwt(body.id_token as string);
    expect(id.payload.nonce).toBeTypeOf("string");
    expect(id.payload.at_hash).toBeTypeOf("string");
    void tokensFor;
  });
});
