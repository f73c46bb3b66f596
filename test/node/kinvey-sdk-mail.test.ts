/**
 * The unmodified kinvey-node-sdk@3.12.5 asks for a password reset and an email verification
 * (User.resetPassword, User.verifyEmail); the messages arrive in the dev mailbox, and the
 * verification link, confirmed on its page, shows in the SDK's `_kmd.emailVerification`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, startWorker, type CreatedApp, type RunningWorker } from "./harness";
import { hiddenFields, Jar, resolveLocalhostSubdomains } from "./oauth-helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Kinvey = (await import("kinvey-node-sdk")).default as any;

let worker: RunningWorker;
let app: CreatedApp;

interface Mail {
  id: string;
  kind: string;
  to: string;
  subject: string;
  link?: string;
}

async function mails(to: string, want: (all: Mail[]) => boolean): Promise<Mail[]> {
  for (let i = 0; i < 200; i++) {
    const { messages } = (await (await fetch(`${worker.url}/dev/mailbox.json?to=${encodeURIComponent(to)}`)).json()) as { messages: Mail[] };
    if (want(messages)) return messages;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mail to ${to} did not arrive`);
}

beforeAll(async () => {
  resolveLocalhostSubdomains();
  worker = await startWorker();
  app = await createApp(worker.url, { name: "SDK Mail App", settings: { email_verification: "optional" } });
  Kinvey.init({ appKey: app.id, appSecret: app.app_secret, apiHostname: worker.url, micHostname: worker.url });
});

afterAll(async () => {
  await worker?.dispose();
});

describe("kinvey-node-sdk account mail", () => {
  it("User.resetPassword and User.verifyEmail mail their links to the dev mailbox", async () => {
    const username = `mail-${Date.now().toString(36)}`;
    const email = `${username}@example.com`;
    await Kinvey.User.signup({ username, password: "sdk mail password", email });
    await Kinvey.User.logout();

    await Kinvey.User.resetPassword(username);
    await Kinvey.User.verifyEmail(username);
    const arrived = await mails(email, (all) => all.filter((m) => m.kind === "email_verification").length === 2 && all.some((m) => m.kind === "password_reset"));
    const reset = arrived.find((m) => m.kind === "password_reset")!;
    expect(reset.subject).toBe("Reset your SDK Mail App password");
    expect(reset.link).toMatch(/\/account\/reset-password\?token=/);
    const [newest] = arrived.filter((m) => m.kind === "email_verification");
    expect(newest!.subject).toBe("Confirm your email for SDK Mail App");

    // The link opens the app's hosted page; confirming it is what the SDK then sees.
    const jar = new Jar();
    const page = await jar.fetch(newest!.link!);
    expect(page.status).toBe(200);
    const form = hiddenFields(await page.text());
    const confirmed = await jar.fetch(new URL("/account/verify-email", newest!.link!), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(newest!.link!).origin },
      body: form,
    });
    expect(confirmed.status).toBe(200);
    const user = await Kinvey.User.login(username, "sdk mail password");
    expect(user.data._kmd.emailVerification).toEqual({ status: "confirmed" });
    await Kinvey.User.logout();
    // Unknown users get the same silent success.
    await expect(Kinvey.User.resetPassword("nobody-like-this")).resolves.toBeDefined();
  });
});
