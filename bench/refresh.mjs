// Refresh-grant throughput and latency beside a hello-world ceiling, in one run.
//   node bench/refresh.mjs                 (about 50 s: disk only)
//   STORAGE=tmpfs|both DURATION_MS=5000    tmpfs or both storage settings / longer cells
// For each concurrency C in 1, 16, 64, C independent chains (one user, hence one RefreshChains
// object, each) are refreshed in closed loops on bench/bench-worker.ts; every request presents
// the token the previous one returned (wrk, one connection per chain, its token in Lua). Kinds
// per C (see bench/README.md):
//   hello    GET /__bench/hello (same worker), the ceiling
//   rotate   POST /__bench/rotate: rotateChain() over DO RPC, no tokens minted
//   refresh  POST /oauth2/token grant_type=refresh_token on the real worker
// Storage: every rotation is a durable SQLite commit; the run is repeated with D1 and the
// objects on disk (Miniflare persistence) and on tmpfs (/dev/shm), where fsync costs nothing.
import { join } from "node:path";
import { adminHeaders, applyMigrations, bundle, jsonClient, latchCounters, loadColumns, machineLine, measure, outDir, printTable, requireWrk, startMiniflare } from "./lib/harness.mjs";

requireWrk();
const LEVELS = [1, 16, 64];
const SECONDS = Math.max(1, Math.round(Number(process.env.DURATION_MS ?? 3000) / 1000));
const STORAGES = process.env.STORAGE === "both" ? ["disk", "tmpfs"] : [process.env.STORAGE ?? "disk"];
const scriptPath = await bundle("bench/bench-worker.ts");

async function scenario(storage) {
  const persist = join(storage === "tmpfs" ? "/dev/shm" : outDir, `latch-bench-${process.pid}`);
  const { origin, db, workerdPid, dispose } = await startMiniflare({ scriptPath, persist });
  try {
    await applyMigrations(db);
    const json = jsonClient(origin);
    const app = await json("/admin/apps", { method: "POST", headers: adminHeaders, body: JSON.stringify({ name: "Bench", slug: "bench" }) });
    const client = await json(`/admin/apps/${app.id}/clients`, {
      method: "POST",
      headers: adminHeaders,
      body: JSON.stringify({ name: "bench", type: "public", redirect_uris: ["http://localhost:3000/callback"] }),
    });

    // One user (one object) per chain; separate chains for the rotate and refresh cells.
    const total = LEVELS.reduce((a, b) => a + b, 0);
    const now = Date.now();
    const userIds = Array.from({ length: 2 * total }, (_, i) => (i + 1).toString(16).padStart(24, "0"));
    await db.batch(
      userIds.map((userId, i) =>
        db.prepare("INSERT INTO users (id, app_id, username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)").bind(userId, app.id, `bench${i}`, `bench${i}@bench.test`, "unused", now, now),
      ),
    );
    // Started 16 at a time (each is its own object), in order, so chains[i] is user i's.
    const chains = [];
    for (let i = 0; i < userIds.length; i += 16) {
      const batch = userIds.slice(i, i + 16).map((userId) => json("/__bench/start", { method: "POST", body: JSON.stringify({ appId: app.id, userId, clientId: client.client_id }) }));
      chains.push(...(await Promise.all(batch)).map((r) => r.refreshToken));
    }


    const body = `grant_type=refresh_token&client_id=${encodeURIComponent(client.client_id)}&app_id=${encodeURIComponent(app.id)}&refresh_token={item}`;
    const post = (path) => ({ method: "POST", path, headers: { "Content-Type": "application/x-www-form-urlencoded" }, body });
    const kinds = { hello: { path: "/__bench/hello" }, rotate: post("/__bench/rotate"), refresh: post("/oauth2/token") };

    const rows = [];
    let offset = 0;
    for (const c of LEVELS) {
      const sets = { hello: [], rotate: chains.slice(offset, offset + c), refresh: chains.slice(total + offset, total + offset + c) };
      offset += c;
      for (const [kind, request] of Object.entries(kinds)) {
        const chained = kind === "hello" ? {} : { mode: "rotate", field: "refresh_token", items: sets[kind], counters: latchCounters(origin) };
        rows.push({ c, kind, ...(await measure({ origin, concurrency: c, seconds: SECONDS, request, workerdPid, ...chained })) });
      }
    }
    const reuse = await db.prepare("SELECT count(*) AS n FROM events WHERE type = 'refresh_token.reuse_detected'").first("n");
    return { rows, reuse };
  } finally {
    await dispose();
  }
}

const started = performance.now();
console.log(machineLine(`${SECONDS} s per cell after 1 s warm-up`));
for (const storage of STORAGES) {
  const { rows, reuse } = await scenario(storage);
  console.log(`\nstorage: ${storage === "tmpfs" ? "D1 + DO SQLite on tmpfs (/dev/shm)" : "D1 + DO SQLite on disk (Miniflare persistence)"}; ${machineLine()}`);
  printTable([["C", (r) => String(r.c)], ["request", (r) => r.kind], ...loadColumns((r) => rows.find((h) => h.c === r.c && h.kind === "hello"))], rows);
  console.log(`reuse events: ${reuse} (must be 0)`);
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
