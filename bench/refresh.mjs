// Refresh-grant throughput and latency beside a hello-world ceiling, in one Miniflare run.
//   node bench/refresh.mjs            (about 40 s; MODE=rpc forces the DO-RPC path)
// Bundles bench/refresh-worker.ts (the real worker/index.ts plus bench-only routes) with esbuild
// and serves it through Miniflare directly (no wrangler dev). For each concurrency C in 1, 16, 64,
// C independent chains (one user, hence one RefreshChains object, each) are refreshed in closed
// loops for DURATION_MS; every request presents the token the previous one returned. The
// hello-world ceiling is a route of the same worker, measured at the same C right before.
// Path: "http" = POST /oauth2/token grant_type=refresh_token on the real worker (when this build
// has it), else "rpc" = a bench-only route calling rotateChain() (worker/chains/api.ts) over
// DO RPC; the output says which.
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const LEVELS = [1, 16, 64];
const DURATION_MS = Number(process.env.DURATION_MS ?? 5000);
const WARMUP_MS = 1000;
// Requests go over plain HTTP to Miniflare's socket (Node's fetch, keep-alive); the app is
// found through DEFAULT_APP because the Host is the socket's address.
let ORIGIN = "";
const ADMIN_TOKEN = "bench-admin-token";

const outdir = join(root, ".wrangler/bench");
const scriptPath = join(outdir, "worker.mjs");
await build({
  entryPoints: [join(root, "bench/refresh-worker.ts")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*"],
  outfile: scriptPath,
  logLevel: "warning",
});

const mf = new Miniflare({
  modules: true,
  scriptPath,
  d1Databases: ["DB"],
  durableObjects: { CHAINS: { className: "RefreshChains", useSQLite: true } },
  bindings: { ADMIN_TOKEN, KEY_ENCRYPTION_SECRET: "bench-key-encryption-secret-0123456789", BASE_HOST: "localhost:8787", DEFAULT_APP: "bench" },
  compatibilityDate: "2026-04-20",
  compatibilityFlags: ["nodejs_compat"],
});

try {
  ORIGIN = (await mf.ready).origin;
  const db = await mf.getD1Database("DB");
  const dir = join(root, "schema/migrations");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    const statements = readFileSync(join(dir, file), "utf8").split("--> statement-breakpoint").flatMap((s) => s.split(/;\s*\n/)).map((s) => s.trim()).filter(Boolean);
    for (const sql of statements) await db.prepare(sql).run();
  }

  const json = async (path, init = {}) => {
    const res = await fetch(`${ORIGIN}${path}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const app = await json("/admin/apps", {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Bench", slug: "bench" }),
  });
  const client = await json(`/admin/apps/${app.id}/clients`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "bench", type: "public", redirect_uris: ["http://localhost:3000/callback"] }),
  });

  // One user (one object) per chain: under 2,000 objects in all.
  const users = [];
  const now = Date.now();
  for (let i = 0; i < LEVELS.reduce((a, b) => a + b, 0); i++) {
    const id = (i + 1).toString(16).padStart(24, "0");
    users.push(id);
    await db
      .prepare("INSERT INTO users (id, app_id, username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(id, app.id, `bench${i}`, `bench${i}@bench.test`, "unused", now, now)
      .run();
  }
  const chains = [];
  for (const userId of users) {
    const started = await json("/__bench/start", { method: "POST", body: JSON.stringify({ appId: app.id, userId, clientId: client.client_id }) });
    chains.push(started.refreshToken);
  }

  const refreshForm = (token) => new URLSearchParams({ grant_type: "refresh_token", refresh_token: token, client_id: client.client_id, app_id: app.id });
  const post = (path, token) =>
    fetch(`${ORIGIN}${path}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: refreshForm(token) });

  // Which path: the real refresh grant if /oauth2/token exists and rotates our chain.
  let path = "/__bench/rotate";
  let mode = "rpc";
  if (process.env.MODE !== "rpc") {
    const probe = await post("/oauth2/token", chains[0]);
    const body = await probe.json().catch(() => ({}));
    if (probe.status === 200 && typeof body.refresh_token === "string" && typeof body.access_token === "string") {
      chains[0] = body.refresh_token;
      path = "/oauth2/token";
      mode = "http";
    } else if (probe.status !== 404) {
      throw new Error(`/oauth2/token exists but refused the bench chain: ${probe.status} ${JSON.stringify(body)}`);
    }
  }

  async function run(kind, tokens, ms) {
    const lat = [];
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(
      tokens.map(async (_, i) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const res = kind === "hello" ? await fetch(`${ORIGIN}/__bench/hello`) : await post(path, tokens[i]);
          const text = await res.text();
          const t = performance.now() - t0;
          if (res.status !== 200) {
            errors++;
            if (errors < 3) console.error(kind, res.status, text.slice(0, 200));
            continue;
          }
          if (kind === "refresh") tokens[i] = JSON.parse(text).refresh_token;
          lat.push(t);
        }
      }),
    );
    lat.sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
    return { rps: lat.length / (ms / 1000), p50: q(0.5), p99: q(0.99), n: lat.length, errors };
  }

  console.log(`refresh path: ${mode === "http" ? "HTTP POST /oauth2/token grant_type=refresh_token (real worker)" : "DO RPC rotateChain() via bench-only route /__bench/rotate (no access token minted)"}`);
  console.log(`node ${process.version}, ${DURATION_MS} ms per cell, ${users.length} chains/objects`);
  const rows = [];
  let offset = 0;
  for (const c of LEVELS) {
    const tokens = chains.slice(offset, offset + c);
    offset += c;
    const helloTokens = Array(c).fill("");
    await run("hello", helloTokens, WARMUP_MS);
    const hello = await run("hello", helloTokens, DURATION_MS);
    await run("refresh", tokens, WARMUP_MS);
    const refresh = await run("refresh", tokens, DURATION_MS);
    rows.push({ c, hello, refresh });
  }
  const f = (x) => x.toFixed(2).padStart(7);
  console.log("\n| C  | hello req/s | hello p50 | hello p99 | refresh req/s | refresh p50 | refresh p99 | p50 ratio | errors |");
  console.log("|----|------------:|----------:|----------:|--------------:|------------:|------------:|----------:|-------:|");
  for (const { c, hello, refresh } of rows) {
    console.log(
      `| ${String(c).padEnd(2)} | ${hello.rps.toFixed(0).padStart(11)} | ${f(hello.p50)} ms | ${f(hello.p99)} ms | ${refresh.rps.toFixed(0).padStart(13)} | ${f(refresh.p50)} ms | ${f(refresh.p99)} ms | ${(refresh.p50 / hello.p50).toFixed(2).padStart(8)}× | ${hello.errors + refresh.errors} |`,
    );
  }
  const chainRows = await db.prepare("SELECT count(*) AS n FROM chains WHERE ended_at IS NULL").first("n");
  const reuse = await db.prepare("SELECT count(*) AS n FROM events WHERE type = 'refresh_token.reuse_detected'").first("n");
  console.log(`\nlive chains in the D1 index: ${chainRows}; reuse events: ${reuse} (must be 0)`);
} finally {
  await mf.dispose();
}
