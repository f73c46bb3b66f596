/**
 * The unmodified kinvey-node-sdk@3.12.5 changing its own password (issue 18): with only the
 * session's auth token the change needs `currentPassword`, which the SDK passes through
 * `user.update` like any field; without it the change is refused and the password kept.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, startWorker, type CreatedApp, type RunningWorker } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Kinvey = (await import("kinvey-node-sdk")).default as any;

let worker: RunningWorker;
let app: CreatedApp;

beforeAll(async () => {
  worker = await startWorker();
  app = await createApp(worker.url, { name: "SDK Password App" });
  Kinvey.init({ appKey: app.id, appSecret: app.app_secret, apiHostname: worker.url, micHostname: worker.url });
});

afterAll(async () => {
  await worker?.dispose();
});

describe("kinvey-node-sdk password change", () => {
  it("needs currentPassword; with it the SDK keeps a working session", async () => {
    const username = `sdk-pw-${Date.now()}`;
    await Kinvey.User.signup({ username, password: "sdk password 1" });

    await expect(Kinvey.User.getActiveUser().update({ password: "sdk password 2" })).rejects.toMatchObject({ name: "InvalidCredentialsError" });
    if (!Kinvey.User.getActiveUser()) await Kinvey.User.login(username, "sdk password 1");
    expect((await Kinvey.User.me()).data.username).toBe(username);

    await Kinvey.User.getActiveUser().update({ password: "sdk password 2", currentPassword: "sdk password 1" });
    const me = await Kinvey.User.me();
    expect(me.data.username).toBe(username);
    expect(me.data).not.toHaveProperty("currentPassword");

    await Kinvey.User.logout();
    await expect(Kinvey.User.login(username, "sdk password 1")).rejects.toMatchObject({ name: "InvalidCredentialsError" });
    expect((await Kinvey.User.login(username, "sdk password 2")).username).toBe(username);
  });
});
