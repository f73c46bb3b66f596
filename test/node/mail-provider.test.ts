/**
 * The HTTP mail provider (issue 14) against a loopback stub that checks the request Resend
 * documents (POST /emails, Bearer key, JSON {from, to, subject, html, text}, Idempotency-Key).
 * The worker runs with MAIL_TRANSPORT=resend and the stub as MAIL_API_URL; the stub fails
 * the first attempt, and the outbox retries the same message until it is taken. Postmark's
 * request is checked against the same stub through the transport itself.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderMail } from "../../worker/mail/templates";
import { sendMail } from "../../worker/mail/transports";
import { createApp, OWN_STATE, startOwnWorker, type CreatedApp, type RunningWorker } from "./harness";
import { kinveySignup } from "./oauth-helpers";

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** Answers `failures` requests with 503, then like the provider: 200 with an id. */
async function stub(failures: number): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => {
      received.push({ method: req.method!, path: req.url!, headers: req.headers, body: JSON.parse(text || "{}") as Record<string, unknown> });
      if (received.length <= failures) res.writeHead(503, { "Content-Type": "application/json" }).end('{"message":"try later"}');
      else res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ id: `msg_${received.length}`, ErrorCode: 0, Message: "OK" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received, server };
}

async function until<T>(what: string, check: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let resend: Awaited<ReturnType<typeof stub>>;
let worker: RunningWorker;
let app: CreatedApp;

beforeAll(async () => {
  resend = await stub(1);
  worker = await startOwnWorker({
    persist: OWN_STATE,
    bindings: { MAIL_TRANSPORT: "resend", MAIL_API_URL: resend.url, MAIL_API_KEY: "re_test_key", MAIL_FROM: "no-reply@auth.example.com", WEBHOOK_RETRY_SCHEDULE: "1,1,1" },
  });
  app = await createApp(worker.url, { name: "Provider App" });
});

afterAll(async () => {
  await worker?.dispose();
  await new Promise((resolve) => resend?.server.close(resolve));
});

describe("HTTP mail provider", () => {
  it("Resend: the documented request, retried with the same Idempotency-Key after a failure", async () => {
    const username = `r${Date.now().toString(36)}`;
    await kinveySignup(worker.url, app, username, "provider password 1", { email: `${username}@example.com` });
    const res = await fetch(`${worker.url}/rpc/${app.id}/${username}/user-password-reset-initiate`, { method: "POST", headers: { Authorization: `Basic ${btoa(`${app.id}:${app.app_secret}`)}` } });
    expect(res.status).toBe(204);

    const [failed, taken] = await until("two attempts", () => (resend.received.length >= 2 ? resend.received : undefined));
    for (const r of [failed!, taken!]) {
      expect(r.method).toBe("POST");
      expect(r.path).toBe("/emails");
      expect(r.headers.authorization).toBe("Bearer re_test_key");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["user-agent"]).toMatch(/^Latch-Mail\//);
      expect(r.headers["idempotency-key"]).toMatch(/^whd_[0-9a-f]{24}$/);
      expect(r.body).toEqual({
        from: '"Provider App" <no-reply@auth.example.com>',
        to: [`${username}@example.com`],
        subject: "Reset your Provider App password",
        html: expect.stringContaining("/account/reset-password?token="),
        text: expect.stringMatching(/\/account\/reset-password\?token=[A-Za-z0-9_-]{43}/),
      });
    }
    // The retry is the same message: the provider can drop a duplicate.
    expect(taken!.headers["idempotency-key"]).toBe(failed!.headers["idempotency-key"]);
    expect(taken!.body).toEqual(failed!.body);
    await new Promise((r) => setTimeout(r, 300));
    expect(resend.received).toHaveLength(2);
  });

  it("Postmark: the documented request (X-Postmark-Server-Token, From/To/Subject/HtmlBody/TextBody/MessageStream)", async () => {
    const postmark = await stub(0);
    try {
      const config = { transport: "postmark", apiUrl: postmark.url, apiKey: "pm-token", from: "no-reply@auth.example.com" } as const;
      const message = renderMail({ kind: "email_code", appName: "Acme", to: "ada@example.com", username: "ada", minutes: 10, code: "424242" });
      expect(await sendMail(config, { message, appName: "Acme", idempotencyKey: "whd_x" })).toBeNull();
      const [r] = postmark.received;
      expect(r).toMatchObject({ method: "POST", path: "/email", headers: { "x-postmark-server-token": "pm-token", accept: "application/json", "content-type": "application/json" } });
      expect(r!.body).toEqual({ From: '"Acme" <no-reply@auth.example.com>', To: "ada@example.com", Subject: "Your Acme sign-in code: 424242", HtmlBody: message.html, TextBody: message.text, MessageStream: "outbound" });
      // An error answer is kept for the operator and retried by the outbox.
      const failing = await stub(1);
      const failed = await sendMail({ ...config, apiUrl: failing.url }, { message, appName: "Acme", idempotencyKey: "whd_y" });
      expect(failed).toBe('HTTP 503 {"message":"try later"}');
      await new Promise((resolve) => failing.server.close(resolve));
    } finally {
      await new Promise((resolve) => postmark.server.close(resolve));
    }
  });
});
