/**
 * Webhook endpoints may not target private, loopback, link-local or single-label hosts outside
 * local development: refused at create and update (400 INVALID_ENDPOINT) and again at delivery;
 * and a failed delivery records a generic error, never the connection error (a port probe).
 */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { deliverDue } from "../../worker/events/delivery";
import { deliveryError, endpointProblem, ENDPOINT_REFUSED } from "../../worker/events/endpoint";
import { createApp, masterAuth, type TestApp } from "../helpers";
import { api, apiError, createUser, hostOf, okJson } from "./helpers";

const deployed = { ...env, DEV_MODE: undefined };

/** The management API as deployed (DEV_MODE off). */
async function deployedApi(app: TestApp, path: string, method: string, json: unknown): Promise<Response> {
  const req = new Request(`http://${hostOf(app)}/api/v1${path}`, {
    method,
    headers: { Authorization: masterAuth(app), "Content-Type": "application/json" },
    body: JSON.stringify(json),
  });
  return worker.fetch(req, deployed, createExecutionContext());
}

const body = (endpoint: string) => ({ endpoint, event_types: ["user.created"], name: "Hook" });

/** Refused everywhere, development included. */
const ALWAYS: [string, string][] = [
  ["https://169.254.169.254/latest/meta-data", "link-local addresses are not allowed"],
  ["https://10.0.0.1/hook", "private addresses are not allowed"],
  ["https://172.16.5.4/hook", "private addresses are not allowed"],
  ["https://192.168.1.1/hook", "private addresses are not allowed"],
  ["https://[fc00::1]/hook", "private addresses are not allowed"],
  ["https://[fd12:3456::1]/hook", "private addresses are not allowed"],
  ["https://[fe80::1]/hook", "link-local addresses are not allowed"],
  ["https://[::ffff:10.0.0.1]/hook", "private addresses are not allowed"],
  ["https://[::ffff:169.254.169.254]/hook", "link-local addresses are not allowed"],
  ["https://intranet/hook", "host names of private networks are not allowed"],
  ["https://metadata.google.internal/hook", "host names of private networks are not allowed"],
];
/** Loopback: allowed in local development only. */
const LOOPBACK: [string, string][] = [
  ["https://127.0.0.1/hook", "loopback addresses are not allowed"],
  ["https://[::1]/hook", "loopback addresses are not allowed"],
  ["https://[::ffff:127.0.0.1]/hook", "loopback addresses are not allowed"],
  ["https://localhost/hook", "host names of private networks are not allowed"],
];
const message = (reason: string) => `endpoint not allowed: ${reason}.`;

describe("endpoint rules (pure)", () => {
  it("refuses each target class outside development, and loopback only there", () => {
    for (const [url, reason] of [...ALWAYS, ...LOOPBACK]) expect(endpointProblem(url, false), url).toBe(`endpoint not allowed: ${reason}`);
    for (const [url, reason] of ALWAYS) expect(endpointProblem(url, true), url).toBe(`endpoint not allowed: ${reason}`);
    for (const [url] of LOOPBACK) expect(endpointProblem(url, true), url).toBeNull();
    expect(endpointProblem("http://127.0.0.1:9/hook", false)).toBe("endpoint must be https (http only for loopback hosts in local development)");
    expect(endpointProblem("https://hooks.example.com/a", false)).toBeNull();
    expect(endpointProblem("https://93.184.216.34/a", false)).toBeNull();
  });

  it("a failed delivery's error is generic", () => {
    expect(deliveryError(null)).toBe("delivery failed");
    expect(deliveryError(503)).toBe("delivery failed: HTTP 503");
  });
});

describe("create and update refuse private targets with 400 INVALID_ENDPOINT", () => {
  for (const [url, reason] of ALWAYS) {
    it(url, async () => {
      const app = await createApp();
      expect(await apiError(api(app, "/webhooks", { method: "POST", json: body(url) }))).toEqual({ status: 400, code: "INVALID_ENDPOINT", message: message(reason) });
      const id = (await okJson(api(app, "/webhooks", { method: "POST", json: body("https://hooks.example.com/a") }))).webhook.id;
      expect(await apiError(api(app, `/webhooks/${id}`, { method: "PATCH", json: { endpoint: url } }))).toEqual({ status: 400, code: "INVALID_ENDPOINT", message: message(reason) });
      expect((await okJson(api(app, `/webhooks/${id}`))).webhook.endpoint).toBe("https://hooks.example.com/a");
    });
  }

  it("outside development, loopback targets too (127.0.0.1, [::1], IPv4-mapped, localhost)", async () => {
    const app = await createApp();
    for (const [url, reason] of LOOPBACK) {
      expect(await apiError(deployedApi(app, "/webhooks", "POST", body(url))), url).toEqual({ status: 400, code: "INVALID_ENDPOINT", message: message(reason) });
    }
    expect(await apiError(deployedApi(app, "/webhooks", "POST", body("http://127.0.0.1:9/hook")))).toEqual({
      status: 400,
      code: "INVALID_ENDPOINT",
      message: "endpoint must be https (http only for loopback hosts in local development).",
    });
    const ok = await deployedApi(app, "/webhooks", "POST", body("https://hooks.example.com/a"));
    expect(ok.status).toBe(200);
  });
});

const deliveryOf = (webhookId: string) =>
  env.DB.prepare("SELECT id, status, attempts, last_error FROM webhook_deliveries WHERE webhook_id = ?").bind(webhookId).first<{ id: string; attempts: number; last_error: string | null }>();

async function firstAttempt(webhookId: string) {
  for (let i = 0; i < 100 && (await deliveryOf(webhookId))?.attempts !== 1; i++) await new Promise((r) => setTimeout(r, 50));
  return deliveryOf(webhookId);
}

describe("delivery checks the endpoint again and records generic errors", () => {
  it("a stored private endpoint is never fetched", async () => {
    const app = await createApp();
    const id = (await okJson(api(app, "/webhooks", { method: "POST", json: body("http://127.0.0.1:9/hook") }))).webhook.id;
    // As if stored before the rule existed.
    await env.DB.prepare("UPDATE webhooks SET endpoint = 'https://169.254.169.254/latest/meta-data' WHERE id = ?").bind(id).run();
    await createUser(app, { email: "meta@example.com" });
    expect(await firstAttempt(id)).toMatchObject({ attempts: 1, last_error: ENDPOINT_REFUSED });
  });

  it("a connection failure records only 'delivery failed'; loopback is refused at delivery outside development", async () => {
    const app = await createApp();
    // Nothing listens on the discard port.
    const id = (await okJson(api(app, "/webhooks", { method: "POST", json: body("http://127.0.0.1:9/hook") }))).webhook.id;
    await createUser(app, { email: "probe@example.com" });
    const row = await firstAttempt(id);
    expect(row).toMatchObject({ attempts: 1, last_error: "delivery failed" });
    const listed = await okJson(api(app, `/webhooks/${id}/deliveries`));
    expect(listed.deliveries[0].last_error).toBe("delivery failed");

    await env.DB.prepare("UPDATE webhook_deliveries SET next_attempt_at = 0 WHERE id = ?").bind(row!.id).run();
    await deliverDue(deployed, app.id);
    expect(await deliveryOf(id)).toMatchObject({ attempts: 2, last_error: ENDPOINT_REFUSED });
  });
});
