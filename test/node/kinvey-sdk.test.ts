/**
 * The unmodified kinvey-node-sdk@3.12.5 against the running worker (SPEC §2, §3).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, startWorker, type CreatedApp, type RunningWorker } from "./harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Kinvey = (await import("kinvey-node-sdk")).default as any;

let worker: RunningWorker;
let app: CreatedApp;

beforeAll(async () => {
  worker = await startWorker();
  app = await createApp(worker.url, { name: "SDK App" });
  Kinvey.init({ appKey: app.id, appSecret: app.app_secret, apiHostname: worker.url, micHostname: worker.url });
});

afterAll(async () => {
  await worker?.dispose();
});

describe("kinvey-node-sdk users", () => {
  it("pings, signs up, logs out, logs in, reads and updates itself, and loses a stale token", async () => {
    const ping = await Kinvey.ping();
    expect(ping.kinvey).toBe("hello SDK App");

    const username = `sdk-${Date.now()}`;
    const user = await Kinvey.User.signup({ username, password: "sdk password 1", favourite: "tea" });
    expect(user.username).toBe(username);
    expect(user.authtoken).toBeTruthy();
    const firstToken = user.authtoken;

    await Kinvey.User.logout();
    expect(Kinvey.User.getActiveUser()).toBeNull();

    // The token the SDK just logged out is dead on the wire.
    const stale = await fetch(`${worker.url}/user/${app.id}/_me`, { headers: { Authorization: `Kinvey ${firstToken}` } });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toBe("InvalidCredentials");

    const again = await Kinvey.User.login(username, "sdk password 1");
    expect(again._id).toBe(user._id);

    const me = await Kinvey.User.me();
    expect(me.data.favourite).toBe("tea");

    const active = Kinvey.User.getActiveUser();
    await active.update({ favourite: "coffee", email: "sdk@example.com" });
    const meAfter = await Kinvey.User.me();
    expect(meAfter.data.favourite).toBe("coffee");
    expect(meAfter.data.email).toBe("sdk@example.com");

    await Kinvey.User.logout();
    await expect(Kinvey.User.login(username, "wrong password")).rejects.toMatchObject({ name: "InvalidCredentialsError" });
  });
});
