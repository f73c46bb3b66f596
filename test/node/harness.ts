/**
 * Starts the real worker (wrangler's unstable_startWorker, local workerd, D1 state
 * prepared by scripts/prepare-test-db.mjs) on a free loopback port for tests that drive
 * it with real client libraries from Node.
 */
import { unstable_startWorker } from "wrangler";

export const ADMIN_TOKEN = "node-test-admin-token";

export interface RunningWorker {
  url: string;
  dispose(): Promise<void>;
}

export async function startWorker(): Promise<RunningWorker> {
  const worker = await unstable_startWorker({
    config: "./wrangler.toml",
    bindings: {
      ADMIN_TOKEN: { type: "plain_text", value: ADMIN_TOKEN },
      KEY_ENCRYPTION_SECRET: { type: "plain_text", value: "node-test-key-encryption-secret-0123456789" },
    },
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: ".wrangler/test-state", watch: false },
  });
  await worker.ready;
  const url = (await worker.url).toString().replace(/\/$/, "");
  return { url, dispose: () => worker.dispose() };
}

export interface CreatedApp {
  id: string;
  slug: string;
  issuer: string;
  app_secret: string;
  master_secret: string;
}

export async function createApp(base: string, input: Record<string, unknown> = {}): Promise<CreatedApp> {
  const res = await fetch(`${base}/admin/apps`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Node Test App", slug: `n${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`, ...input }),
  });
  if (res.status !== 201) throw new Error(`createApp: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedApp;
}

export async function createClient(base: string, appId: string, input: Record<string, unknown>): Promise<{ client_id: string; client_secret?: string }> {
  const res = await fetch(`${base}/admin/apps/${appId}/clients`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify(input),
  });
  if (res.status !== 201) throw new Error(`createClient: ${res.status} ${await res.text()}`);
  return (await res.json()) as { client_id: string; client_secret?: string };
}
