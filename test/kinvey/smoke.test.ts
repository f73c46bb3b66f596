import { describe, expect, it } from "vitest";
import { appAuth, call, createApp } from "../helpers";

describe("ping", () => {
  it("answers the handshake with app credentials", async () => {
    const app = await createApp({ name: "Smoke" });
    const res = await call(`/appdata/${app.id}`, { headers: { Authorization: appAuth(app) } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-kinvey-request-id")).toMatch(/^[0-9a-f]{32}$/);
    expect(await res.json()).toMatchObject({ kinvey: "hello Smoke", appName: "Smoke" });
  });
});
