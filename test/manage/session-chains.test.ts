/** A user's sessions include their OAuth refresh chains; ending one through the API ends it for good. */
import { describe, expect, it } from "vitest";
import { signup } from "../helpers";
import { addClient, oauthApp, tokenRequest, tokensFor, type OAuthTestApp, type TestClient } from "../oauth/helpers";
import { api, apiError, okJson } from "./helpers";

const refresh = (app: OAuthTestApp, client: TestClient, token: string) =>
  tokenRequest(app, { grant_type: "refresh_token", refresh_token: token, client_id: client.client_id });

interface Session {
  session_id: string;
  type: string;
  client_id: string | null;
  browser_session_id?: string | null;
}

describe("refresh chains as sessions", () => {
  it("lists a chain with its client and ends it by id", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const tokens = await tokensFor(app, client, user);
    const { sessions } = await okJson<{ sessions: Session[] }>(api(app, `/users/${user._id}/sessions`));
    const chain = sessions.find((s) => s.type === "refresh_chain")!;
    expect(chain).toMatchObject({ client_id: client.client_id });
    expect(sessions.some((s) => s.type === "browser")).toBe(true);

    await okJson(api(app, `/users/${user._id}/sessions/${chain.session_id}`, { method: "DELETE" }));
    const res = await refresh(app, client, tokens.refresh_token!);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_grant");
    const after = await okJson<{ sessions: Session[] }>(api(app, `/users/${user._id}/sessions`));
    expect(after.sessions.some((s) => s.session_id === chain.session_id)).toBe(false);
    const ended = await okJson(api(app, "/events?type=session.ended"));
    expect(ended.events[0].data).toMatchObject({ session_id: chain.session_id, kind: "refresh_chain" });
  });

  it("ending the browser session ends the chains it began", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const tokens = await tokensFor(app, client, user);
    const { sessions } = await okJson<{ sessions: Session[] }>(api(app, `/users/${user._id}/sessions`));
    const browser = sessions.find((s) => s.type === "browser")!;
    expect(sessions.find((s) => s.type === "refresh_chain")!.browser_session_id).toBe(browser.session_id);
    await okJson(api(app, `/users/${user._id}/sessions/${browser.session_id}`, { method: "DELETE" }));
    expect((await refresh(app, client, tokens.refresh_token!)).status).toBe(400);
  });

  it("ending all sessions ends every chain", async () => {
    const app = await oauthApp();
    const client = await addClient(app);
    const user = await signup(app);
    const a = await tokensFor(app, client, user);
    const b = await tokensFor(app, client, user);
    const res = await okJson(api(app, `/users/${user._id}/sessions`, { method: "DELETE" }));
    expect(res.chains_ended).toBe(2);
    expect((await refresh(app, client, a.refresh_token!)).status).toBe(400);
    expect((await refresh(app, client, b.refresh_token!)).status).toBe(400);
    expect((await okJson<{ sessions: Session[] }>(api(app, `/users/${user._id}/sessions`))).sessions).toEqual([]);
    expect(await apiError(api(app, `/users/${user._id}/sessions/nope`, { method: "DELETE" }))).toMatchObject({ status: 404 });
  });
});
