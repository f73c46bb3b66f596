// Refresh-grant throughput and latency beside a hello-world ceiling, in one run.
//   node bench/refresh.mjs                 (about 2 min)
//   MODE=rpc node bench/refresh.mjs        force the DO-RPC path (no HTTP grant)
//   STORAGE=disk|tmpfs DURATION_MS=5000    one storage setting only / longer cells
// Bundles bench/refresh-worker.ts (the real worker/index.ts plus bench-only routes) with
// esbuild and serves it through Miniflare directly (no wrangler dev). For each concurrency C
// in 1, 16, 64, C independent chains (one user, hence one RefreshChains object, each) are
// refreshed in closed loops; every request presents the token the previous one returned.
// The hello-world ceiling is a route of the same worker, measured at the same C just before.
// Requests are plain HTTP from Node's fetch (keep-alive) to Miniflare's socket.
//
// Path: "http" = POST /oauth2/token grant_type=refresh_token on the real worker (client
// auth, rotation in the object, access + ID token signed), when this build has it; else
// "rpc" = a bench-only route calling rotateChain() over DO RPC. The output says which.
//
// Storage: Miniflare keeps D1 and Durable Object SQLite files on disk; every rotation is a
// durable commit, so on this VM the disk's fsync latency dominates. The run is repeated
// with both stores on tmpfs (/dev/shm) to show the CPU cost without that fsync.
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const LEVELS = [1, 16, 64];
const DURATION_MS = Number(process.env.DURATION_MS ?? 3000);
const WARMUP_MS = 800;
const ADMIN_TOKEN = "bench-admin-token";
const STORAGES = process.env.STORAGE ? [process.env.STORAGE] : ["disk", "tmpfs"];

const outdir = join(root, ".wrangler/bench");
const scriptPath = join(outdir, "refresh-worker.mjs");
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

function migrations() {
  const dir = join(root, "schema/migrations");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((file) => readFileSync(join(dir, file), "utf8").split("--> statement-breakpoint").flatMap((s) => s.split(/;\s*\n/)))
    .map((s) => s.trim())
    .filter(Boolean);
}

async function scenario(storage) {
  const persist = join(storage === "tmpfs" ? "/dev/shm" : outdir, `latch-bench-${process.pid}`);
  rmSync(persist, { recursive: true, force: true });
  mkdirSync(persist, { recursive: true });
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    d1Databases: ["DB"],
    d1Persist: join(persist, "d1"),
    durableObjects: { CHAINS: { className: "RefreshChains", useSQLite: true } },
    durableObjectsPersist: join(persist, "do"),
    // DEFAULT_APP: the Host is the socket's address, so the bench app answers every host.
    bindings: { ADMIN_TOKEN, KEY_ENCRYPTION_SECRET: "bench-key-encryption-secret-0123456789", BASE_HOST: "localhost:8787", DEFAULT_APP: "bench" },
    compatibilityDate: "2026-04-20",
    compatibilityFlags: ["nodejs_compat"],
  });
  try {
    const origin = (await mf.ready).origin;
    const db = await mf.getD1Database("DB");
    for (const sql of migrations()) await db.prepare(sql).run();

    const json = async (path, init = {}) => {
      const res = await fetch(`${origin}${path}`, init);
      const text = await res.text();
      if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
      return JSON.parse(text);
    };
    const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };
    const app = await json("/admin/apps", { method: "POST", headers: admin, body: JSON.stringify({ name: "Bench", slug: "bench" }) });
    const client = await json(`/admin/apps/${app.id}/clients`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "bench", type: "public", redirect_uris: ["http://localhost:3000/callback"] }),
    });

    // One user (one object) per chain; separate chains for the RPC and HTTP cells: 162 objects.
    const total = LEVELS.reduce((a, b) => a + b, 0);
    const chains = [];
    const now = Date.now();
    for (let i = 0; i < 2 * total; i++) {
      const userId = (i + 1).toString(16).padStart(24, "0");
      await db
        .prepare("INSERT INTO users (id, app_id, username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(userId, app.id, `bench${i}`, `bench${i}@bench.test`, "unused", now, now)
        .run();
      chains.push((await json("/__bench/start", { method: "POST", body: JSON.stringify({ appId: app.id, userId, clientId: client.client_id }) })).refreshToken);
    }
    const rpcChains = chains.slice(0, total);
    const httpChains = chains.slice(total);

    const form = (token) => new URLSearchParams({ grant_type: "refresh_token", refresh_token: token, client_id: client.client_id, app_id: app.id });
    const post = (path, token) => fetch(`${origin}${path}`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form(token) });

    // The real refresh grant when /oauth2/token exists and rotates a bench chain.
    let http = false;
    if (process.env.MODE !== "rpc") {
      const probe = await post("/oauth2/token", httpChains[0]);
      const body = await probe.json().catch(() => ({}));
      if (probe.status === 200 && typeof body.refresh_token === "string" && typeof body.access_token === "string") {
        httpChains[0] = body.refresh_token;
        http = true;
      } else if (probe.status !== 404) {
        throw new Error(`/oauth2/token refused the bench chain: ${probe.status} ${JSON.stringify(body)}`);
      }
    }

    const request = { hello: () => fetch(`${origin}/__bench/hello`), rotate: (t) => post("/__bench/rotate", t), refresh: (t) => post("/oauth2/token", t) };
    async function run(kind, tokens, ms) {
      const lat = [];
      let errors = 0;
      const end = performance.now() + ms;
      await Promise.all(
        tokens.map(async (_, i) => {
          while (performance.now() < end) {
            const t0 = performance.now();
            const res = await request[kind](tokens[i]);
            const text = await res.text();
            const t = performance.now() - t0;
            if (res.status !== 200) {
              errors++;
              if (errors < 3) console.error(kind, res.status, text.slice(0, 200));
              continue;
            }
            if (kind !== "hello") tokens[i] = JSON.parse(text).refresh_token;
            lat.push(t);
          }
        }),
      );
      lat.sort((a, b) => a - b);
      const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
      return { rps: lat.length / (ms / 1000), p50: q(0.5), p99: q(0.99), errors };
    }

    const rows = [];
    let offset = 0;
    for (const c of LEVELS) {
      const cell = { c };
      const sets = { hello: Array(c).fill(""), rotate: rpcChains.slice(offset, offset + c), refresh: httpChains.slice(offset, offset + c) };
      offset += c;
      for (const kind of http ? ["hello", "rotate", "refresh"] : ["hello", "rotate"]) {
        await run(kind, sets[kind], WARMUP_MS);
        cell[kind] = await run(kind, sets[kind], DURATION_MS);
      }
      rows.push(cell);
    }
    const reuse = await db.prepare("SELECT count(*) AS n FROM events WHERE type = 'refresh_token.reuse_detected'").first("n");
    return { storage, http, rows, reuse };
  } finally {
    await mf.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
}

const started = performance.now();
console.log(`node ${process.version}, ${cpus().length} CPUs, ${DURATION_MS} ms per cell after ${WARMUP_MS} ms warm-up`);
console.log("hello = GET /__bench/hello (same worker); rotate = POST /__bench/rotate, rotateChain() over DO RPC (bench-only route, no tokens minted);");
console.log("refresh = POST /oauth2/token grant_type=refresh_token on the real worker (client auth, rotation, access + ID token signed RS256)");
for (const storage of STORAGES) {
  const { http, rows, reuse } = await scenario(storage);
  console.log(`\nstorage: ${storage === "tmpfs" ? "D1 + DO SQLite on tmpfs (/dev/shm)" : "D1 + DO SQLite on disk (Miniflare persistence)"}${http ? "" : "; /oauth2/token refresh grant NOT in this build: rotate only"}`);
  const f = (x) => (x ? `${x.rps.toFixed(0)} / ${x.p50.toFixed(1)} / ${x.p99.toFixed(1)}` : "n/a");
  const r = (x, h) => (x ? `${(x.p50 / h.p50).toFixed(2)}×` : "n/a");
  console.log("| C | hello req/s / p50 / p99 ms | rotate (RPC) req/s / p50 / p99 ms | refresh (HTTP) req/s / p50 / p99 ms | p50 ratio rotate | p50 ratio refresh | errors |");
  console.log("|--:|--:|--:|--:|--:|--:|--:|");
  for (const { c, hello, rotate, refresh } of rows) {
    const errors = hello.errors + rotate.errors + (refresh?.errors ?? 0);
    console.log(`| ${c} | ${f(hello)} | ${f(rotate)} | ${f(refresh)} | ${r(rotate, hello)} | ${r(refresh, hello)} | ${errors} |`);
  }
  console.log(`reuse events: ${reuse} (must be 0)`);
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
