/**
 * Webhooks against a real receiver (SPEC §7): a Node http server on 127.0.0.1 that fails
 * its first attempts, then accepts. The unmodified @kinde/webhooks verifies the delivered
 * JWS against the app's JWKS and refuses a tampered one.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { decodeWebhook } from "@kinde/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OWN_STATE, startOwnWorker, type RunningWorker } from "./harness";
import { createOAuthApp, resolveLocalhostSubdomains, type OAuthApp } from "./oauth-helpers";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/**
 * This file restarts its worker, so it runs its own (on its own state), with a short retry
 * schedule (seconds) so back-off fits in a test.
 */
function startWorkerWithFastRetries(schedule = "1,1,1"): Promise<RunningWorker> {
  return startOwnWorker({ persist: OWN_STATE, bindings: { WEBHOOK_RETRY_SCHEDULE: schedule } });
}

/** A receiver that answers `failures` times with 503, then 200; records every request. */
async function receiver(failures: number, port = 0): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const answered = received.length < failures ? 503 : 200;
      received.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}/hooks/latch`, received, server };
}

const b64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

let worker: RunningWorker;
let app: OAuthApp;
let master: string;

async function api(path: string, init: RequestInit = {}): Promise<Record<string, any>> {
  const res = await fetch(`${app.origin}/api/v1${path}`, {
    ...init,
    headers: { Authorization: master, "Content-Type": "application/json", ...(init.headers as Record<string, string> | undefined) },
  });
  const body = (await res.json()) as Record<string, any>;
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  resolveLocalhostSubdomains();
  worker = await startWorkerWithFastRetries();
  app = await createOAuthApp(worker.url, { name: "Webhook App", settings: { signing_alg: "RS256" } });
  master = `Basic ${btoa(`${app.id}:${app.master_secret}`)}`;
});

afterAll(async () => {
  await worker?.dispose();
});

describe("webhook delivery", () => {
  it("retries a failing receiver with the same webhook-id until it accepts; @kinde/webhooks verifies it", async () => {
    const hook = await receiver(2);
    try {
      const created = await api("/webhooks", { method: "POST", body: JSON.stringify({ endpoint: hook.url, event_types: ["user.created"], name: "Receiver" }) });
      const user = await api("/user", {
        method: "POST",
        body: JSON.stringify({ profile: { given_name: "Hedy", family_name: "Lamarr" }, identities: [{ type: "email", details: { email: "hedy@example.com" } }] }),
      });

      await until("an accepted delivery", () => (hook.received.some((r) => r.answered === 200) ? true : undefined));
      expect(hook.received.map((r) => r.answered)).toEqual([503, 503, 200]);
      const ids = new Set(hook.received.map((r) => r.headers["webhook-id"]));
      expect(ids.size).toBe(1);
      expect([...ids][0]).toMatch(/^whd_/);
      for (const r of hook.received) expect(r.headers["content-type"]).toBe("application/jwt");

      const token = hook.received[2]!.body;
      const event = await decodeWebhook<{ type: string; event_id: string; source: string; timestamp: string; data: { user: { id: string; email: string; first_name: string } } }>(token, app.origin);
      expect(event).not.toBeNull();
      expect(event).toMatchObject({ type: "user.created", source: "api", data: { user: { id: user.id, email: "hedy@example.com", first_name: "Hedy" } } });
      expect(Date.parse(event!.timestamp)).toBeGreaterThan(Date.now() - 120_000);
      const logged = await api(`/events/${event!.event_id}`);
      expect(logged.event).toMatchObject({ type: "user.created", user_id: user.id });

      const deliveries = await until("the delivered status", async () => {
        const d = await api(`/webhooks/${created.webhook.id}/deliveries`);
        return d.deliveries[0]?.status === "delivered" ? d.deliveries : undefined;
      });
      expect(deliveries[0]).toMatchObject({ webhook_id: [...ids][0], event_id: event!.event_id, status: "delivered", attempts: 3 });
    } finally {
      hook.server.close();
    }
  });

  it("rejects a tampered webhook and one checked against another app's keys", async () => {
    const hook = await receiver(0);
    try {
      await api("/webhooks", { method: "POST", body: JSON.stringify({ endpoint: hook.url, event_types: ["role.created"], name: "Roles" }) });
      await api("/roles", { method: "POST", body: JSON.stringify({ key: "auditor", name: "Auditor" }) });
      const delivered = await until("a delivery", () => hook.received[0]);
      expect(await decodeWebhook(delivered.body, app.origin)).toMatchObject({ type: "role.created", data: { role: { key: "auditor" } } });

      const [header, payload, signature] = delivered.body.split(".");
      const forged = b64url(JSON.stringify({ ...JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/"))), type: "user.deleted" }));
      expect(await decodeWebhook(`${header}.${forged}.${signature}`, app.origin)).toBeNull();
      const flipped = signature!.slice(0, 10) + (signature![10] === "A" ? "B" : "A") + signature!.slice(11);
      expect(await decodeWebhook(`${header}.${payload}.${flipped}`, app.origin)).toBeNull();

      const other = await createOAuthApp(worker.url, { name: "Other App", settings: { signing_alg: "RS256" } });
      expect(await decodeWebhook(delivered.body, other.origin)).toBeNull();
    } finally {
      hook.server.close();
    }
  });

  it("refuses a plain-http endpoint that is not loopback", async () => {
    const res = await fetch(`${app.origin}/api/v1/webhooks`, {
      method: "POST",
      headers: { Authorization: master, "Content-Type": "application/json" },
      body: JSON.stringify({ endpoint: "http://example.com/hook", event_types: ["user.created"], name: "x" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("INVALID_ENDPOINT");
  });

  it("loses nothing when the receiver is down and the worker restarts", async () => {
    // A port that nothing listens on yet: attempts fail until the receiver starts.
    const probe = await receiver(0);
    const port = Number(new URL(probe.url).port);
    probe.server.close();
    const created = await api("/webhooks", { method: "POST", body: JSON.stringify({ endpoint: `http://127.0.0.1:${port}/hooks/latch`, event_types: ["user.deleted"], name: "Down" }) });
    const user = await api("/user", { method: "POST", body: JSON.stringify({ identities: [{ type: "username", details: { username: "restart-me" } }] }) });
    await api(`/user?id=${user.id}`, { method: "DELETE" });
    const first = await until("a failed first attempt", async () => {
      const d = await api(`/webhooks/${created.webhook.id}/deliveries`);
      return d.deliveries[0]?.attempts >= 1 ? d.deliveries[0] : undefined;
    });
    expect(first.status).toBe("pending");

    // Restart the worker (same persisted D1 and Durable Object state), then bring the receiver up.
    await worker.dispose();
    worker = await startWorkerWithFastRetries("3,3,3,3");
    app = { ...app, origin: `http://${app.slug}.localhost:${new URL(worker.url).port}` };
    const hook = await receiver(0, port);
    try {
      const got = await until("the delivery after the restart", () => hook.received[0], 60_000);
      expect(got.headers["webhook-id"]).toBe(first.webhook_id);
      expect(await decodeWebhook(got.body, app.origin)).toMatchObject({ type: "user.deleted", data: { user: { id: user.id } } });
    } finally {
      hook.server.close();
    }
  });
});
