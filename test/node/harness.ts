/**
 * The real worker for tests that drive it with real client libraries from Node. One worker
 * serves the whole Node project: global-setup.ts starts it (wrangler's unstable_startWorker,
 * local workerd, the `dev` environment, D1 state prepared by scripts/prepare-test-db.mjs)
 * and every file reaches it through `startWorker()`. A test that must restart a worker
 * starts its own with `startOwnWorker` on its own state directory.
 */
import { inject } from "vitest";
import { unstable_startWorker } from "wrangler";

export const ADMIN_TOKEN = "node-test-admin-token";
/** State directories, migrated by scripts/prepare-test-db.mjs. */
export const SHARED_STATE = ".wrangler/test-state";
export const OWN_STATE = ".wrangler/test-state-own";

export interface RunningWorker {
  url: string;
  dispose(): Promise<void>;
}

/** Bindings every test worker gets; cheap password hashing (the cost is stored in each hash). */
export function testBindings(extra: Record<string, string> = {}) {
  const values: Record<string, string> = {
    ADMIN_TOKEN,
    KEY_ENCRYPTION_SECRET: "node-test-key-encryption-secret-0123456789",
    PASSWORD_HASH_PARAMS: "scrypt$N=1024,r=8,p=1",
    ...extra,
  };
  return Object.fromEntries(Object.entries(values).map(([k, value]) => [k, { type: "plain_text" as const, value }]));
}

export async function startOwnWorker(options: { persist: string; bindings?: Record<string, string> }): Promise<RunningWorker> {
  const worker = await unstable_startWorker({
    config: "./wrangler.toml",
    env: "dev",
    bindings: testBindings(options.bindings),
    dev: { server: { hostname: "127.0.0.1", port: 0 }, inspector: false, persist: options.persist, watch: false },
  });
  await worker.ready;
  const url = (await worker.url).toString().replace(/\/$/, "");
  return { url, dispose: () => worker.dispose() };
}

/** The project's shared worker (disposing it is global-setup's business). */
export async function startWorker(): Promise<RunningWorker> {
  return { url: inject("workerUrl"), dispose: async () => {} };
}

declare module "vitest" {
  export interface ProvidedContext {
    workerUrl: string;
    chromium: string;
  }
}

export interface CreatedApp {
  id: string;
  slug: string;
  issuer: string;
  app_secret: string;
  master_secret: string;
}

/** A fresh app; it signs with ES256 unless the test names `signing_alg` (Kinde's SDKs need RS256). */
export async function createApp(base: string, input: Record<string, unknown> = {}): Promise<CreatedApp> {
  const settings = { signing_alg: "ES256", ...((input.settings ?? {}) as Record<string, unknown>) };
  const res = await fetch(`${base}/admin/apps`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Node Test App", slug: `n${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`, ...input, settings }),
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
