/**
 * The `webhook` mail transport (issue 14): Latch sends no mail; the event of each message
 * carries it, link or code included, to the app's webhooks subscribed to that event type.
 * The worker is the real app with MAIL_TRANSPORT=webhook in its configuration.
 */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import { webhookPayload } from "../../worker/events/delivery";
import { appAuth } from "../helpers";
import { api, okJson } from "../manage/helpers";
import { Browser } from "../oauth/helpers";
import { accountApp, pathOf, signupWithEmail, submit } from "./helpers";

const webhookDeployment = buildApp();

async function asDeployment(transport: string, url: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await webhookDeployment.fetch(new Request(url, init), { ...env, MAIL_TRANSPORT: transport }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

interface DeliveryRow {
  id: string;
  channel: string;
  event_id: string;
  type: string;
  source: string;
  user_id: string | null;
  data: string;
  sealed: string | null;
  created_at: number;
}

const rowsFor = (appId: string) =>
  env.DB.prepare(
    `SELECT d.id, d.channel, e.id AS event_id, e.type, e.source, e.user_id, e.data, e.sealed, e.created_at
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.app_id = ? AND e.type = 'user.password_reset_requested' ORDER BY e.created_at`,
  )
    .bind(appId)
    .all<DeliveryRow>();

describe("mail transports by deployment", () => {
  it("puts the message and its link in the subscribed webhook's payload, and queues no mail", async () => {
    const { app } = await accountApp();
    const user = await signupWithEmail(app);
    await okJson(api(app, "/webhooks", { method: "POST", json: { endpoint: "http://127.0.0.1:9/mail", event_types: ["user.password_reset_requested"], name: "Mailer" } }));
    const initiate = (transport: string) =>
      asDeployment(transport, `http://127.0.0.1:8787/rpc/${app.id}/${user.username}/user-password-reset-initiate`, { method: "POST", headers: { Authorization: appAuth(app) } });
    expect((await initiate("webhook")).status).toBe(204);

    const [webhookRow, ...others] = (await rowsFor(app.id)).results;
    expect(others).toEqual([]);
    expect(webhookRow!.channel).toBe("webhook");
    const payload = await webhookPayload(env, webhookRow!, app.id);
    expect(payload).toMatchObject({ type: "user.password_reset_requested", data: { user: { id: user._id }, mail: { kind: "password_reset", transport: "webhook" } } });
    const message = payload.data.message as { to: string; subject: string; text: string; html: string; link: string };
    expect(message).toMatchObject({ kind: "password_reset", to: user.email, subject: "Reset your Test App password" });
    expect(message.text).toContain(message.link);
    expect(message.html).toContain("Choose a new password");

    // The link it carries is the real one: it resets the password.
    const browser = new Browser(app);
    const done = await submit(browser, pathOf(message.link), { password: "via webhook 1", password_confirm: "via webhook 1" });
    expect(done.status).toBe(200);

    // Under a mail transport the same event goes to the webhook without the message, and a mail row is queued.
    expect((await initiate("dev")).status).toBe(204);
    const rows = (await rowsFor(app.id)).results;
    expect(rows.map((r) => r.channel).sort()).toEqual(["mail", "webhook", "webhook"]);
    const devHook = rows.filter((r) => r.channel === "webhook")[1]!;
    expect((await webhookPayload(env, devHook, app.id)).data.message).toBeUndefined();
  });

  it("outside development there is no dev mailbox", async () => {
    const deployed = { ...env, DEV_MODE: undefined, DEFAULT_APP: undefined };
    for (const path of ["/dev/mailbox", "/dev/mailbox.json"]) {
      const res = await webhookDeployment.fetch(new Request(`http://127.0.0.1:8787${path}`), deployed, createExecutionContext());
      expect(res.status).toBe(404);
    }
    expect((await SELF.fetch("http://127.0.0.1:8787/dev/mailbox")).status).toBe(200);
  });
});
