// Data API under load, loopback, bounded in time (~1-2 minutes):   node bench/data.mjs
//
// Serves the real worker (worker/index.ts bundled with esbuild) through Miniflare/workerd
// directly, with an in-memory D1 holding 100,000 entities in one Private collection spread over
// 1,000 users plus 10,000 Shared entities, and measures as ONE user with a Kinvey session token:
//   list   GET /appdata/{k}/private_items?limit=50     (first page)
//   count  GET /appdata/{k}/private_items/_count
//   get    GET /appdata/{k}/private_items/{id}         (ids the user may read)
//   shared GET /appdata/{k}/shared_items?limit=50      (first page of the Shared collection)
// Measured in the same run, at the same concurrency, as references:
//   hello  a hello-world worker (a separate Miniflare)           <- the target's yardstick
//   d1     a worker that only runs `SELECT 1` on its D1          (one D1 round trip)
//   ping   Latch's GET /appdata/{k} with app credentials         (no D1 once the app is cached)
//   me     Latch's GET /user/{k}/_me with the session token      (session lookup: one D1 read)
// Target: each data route's p50 within 3x the hello-world p50. EXPLAIN QUERY PLAN of the compiled
// list and count statements is printed so a miss can be explained.
//
// Env knobs: BENCH_SECONDS (per measurement, default 5), BENCH_CONCURRENCY (default "8,32").
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? "8,32").split(",").map(Number);
const PRIVATE = 100_000;
const SHARED = 10_000;
const USERS = 1_000;
const ADMIN_TOKEN = "bench-admin-token";
const t0 = performance.now();
const log = (...a) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s]`, ...a);

async function bundle(entryFile, stdin) {
  const { outputFiles } = await build({
    ...(stdin ? { stdin: { contents: stdin, resolveDir: root, loader: "ts", sourcefile: "entry.ts" } } : { entryPoints: [entryFile] }),
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    target: "es2022",
    absWorkingDir: root,
  });
  return outputFiles[0].text;
}

// --- workers -------------------------------------------------------------------------------
const outDir = `${root}/.wrangler/bench`;
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outDir}/latch.mjs`, await bundle(`${root}/worker/index.ts`));
const latch = new Miniflare({
  modules: true,
  scriptPath: `${outDir}/latch.mjs`,
  d1Databases: { DB: "bench-latch" },
  durableObjects: { CHAINS: { className: "RefreshChains", useSQLite: true } },
  bindings: { ADMIN_TOKEN, KEY_ENCRYPTION_SECRET: "bench-key-encryption-secret-0123456789", BASE_HOST: "localhost:8787" },
  compatibilityDate: "2026-04-20",
  compatibilityFlags: ["nodejs_compat"],
  host: "127.0.0.1",
  port: 0,
});
const hello = new Miniflare({
  modules: true,
  script: `export default { fetch() { return new Response("ok"); } };`,
  compatibilityDate: "2026-04-20",
  host: "127.0.0.1",
  port: 0,
});
// The cost of one D1 round trip from a worker, alone: every Latch data request makes two
// (the session lookup of kinveyAuth, then the data statement).
const d1Floor = new Miniflare({
  modules: true,
  script: `export default { async fetch(req, env) { await env.DB.prepare("SELECT 1").first(); return new Response("ok"); } };`,
  d1Databases: { DB: "bench-floor" },
  compatibilityDate: "2026-04-20",
  host: "127.0.0.1",
  port: 0,
});
const latchUrl = (await latch.ready).toString().replace(/\/$/, "");
const d1Url = (await d1Floor.ready).toString().replace(/\/$/, "");
const helloUrl = (await hello.ready).toString().replace(/\/$/, "");
const db = await latch.getD1Database("DB");
log(`workers up: latch ${latchUrl}, hello ${helloUrl}`);

// --- schema and data ----------------------------------------------------------------------
const dir = `${root}/schema/migrations`;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
  const statements = readFileSync(`${dir}/${file}`, "utf8").split("--> statement-breakpoint").map((s) => s.trim()).filter(Boolean);
  await db.batch(statements.map((s) => db.prepare(s)));
}

const created = await fetch(`${latchUrl}/admin/apps`, {
  method: "POST",
  headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
  body: JSON.stringify({ name: "Bench", slug: "bench" }),
});
if (created.status !== 201) throw new Error(`create app: ${created.status} ${await created.text()}`);
const app = await created.json();
const now = Date.now();
const userId = (i) => `u${String(i).padStart(4, "0")}`;
const ME = userId(7);
const token = randomBytes(32).toString("base64url");

// Seeded in SQL (recursive CTEs), so 110k rows take a few seconds, not minutes of HTTP.
// Private: entity i belongs to user i % 1000; every 50th entity also names a reader (a user)
// and every 97th a reader group; one group has users.all and nests another.
const seq = (n) => `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1})`;
await db.batch([
  db.prepare(`${seq(USERS)} INSERT INTO users (id, app_id, username, password_hash, created_at, updated_at)
              SELECT printf('u%04d', i), ?1, printf('user%04d', i), 'unusable', ?2, ?2 FROM s`).bind(app.id, now),
  db.prepare(`INSERT INTO sessions (id, app_id, user_id, kind, token_hash, auth_method, created_at, last_seen_at) VALUES ('bench-session', ?, ?, 'kinvey', ?, 'password', ?, ?)`)
    .bind(app.id, ME, createHash("sha256").update(token).digest("hex"), now, now),
  db.prepare("INSERT INTO collections (app_id, name, level, created_at) VALUES (?, 'private_items', 'private', ?), (?, 'shared_items', 'shared', ?)").bind(app.id, now, app.id, now),
  db.prepare("INSERT INTO groups (app_id, id, all_users, doc, created_at, updated_at) VALUES (?1, 'everyone', 1, '{}', ?2, ?2), (?1, 'team', 0, '{}', ?2, ?2), (?1, 'org', 0, '{}', ?2, ?2)").bind(app.id, now),
  db.prepare("INSERT INTO group_children (app_id, parent_id, child_id) VALUES (?, 'org', 'team')").bind(app.id),
  db.prepare(`${seq(20)} INSERT INTO group_users (app_id, group_id, user_id) SELECT ?, 'team', printf('u%04d', i * 3) FROM s`).bind(app.id),
  db.prepare(`${seq(PRIVATE)} INSERT INTO entities (app_id, collection, id, creator, gr, gw, acl, data, created_at, updated_at)
              SELECT ?1, 'private_items', printf('p%06d', i), printf('u%04d', i % ${USERS}), NULL, NULL,
                     json_object('creator', printf('u%04d', i % ${USERS})), json_object('n', i, 'name', 'item ' || i, 'tags', json_array('t' || (i % 10))), ?2 + i, ?2 + i FROM s`).bind(app.id, now),
  db.prepare(`UPDATE entities SET acl = json_set(acl, '$.r', json_array(printf('u%04d', (CAST(substr(id, 2) AS INTEGER) * 7) % ${USERS})))
              WHERE app_id = ? AND collection = 'private_items' AND CAST(substr(id, 2) AS INTEGER) % 50 = 0`).bind(app.id),
  db.prepare(`UPDATE entities SET acl = json_set(acl, '$.groups', json_object('r', json_array(CASE WHEN CAST(substr(id, 2) AS INTEGER) % 2 = 0 THEN 'org' ELSE 'nobody' END)))
              WHERE app_id = ? AND collection = 'private_items' AND CAST(substr(id, 2) AS INTEGER) % 97 = 0`).bind(app.id),
  db.prepare(`INSERT INTO entity_grants (app_id, collection, entity_id, kind, right, principal_id)
              SELECT e.app_id, e.collection, e.id, 'u', 'r', j.value FROM entities e, json_each(e.acl, '$.r') j WHERE e.app_id = ? AND e.collection = 'private_items'`).bind(app.id),
  db.prepare(`INSERT INTO entity_grants (app_id, collection, entity_id, kind, right, principal_id)
              SELECT e.app_id, e.collection, e.id, 'g', 'r', j.value FROM entities e, json_each(e.acl, '$.groups.r') j WHERE e.app_id = ? AND e.collection = 'private_items'`).bind(app.id),
  db.prepare(`${seq(SHARED)} INSERT INTO entities (app_id, collection, id, creator, gr, gw, acl, data, created_at, updated_at)
              SELECT ?1, 'shared_items', printf('s%05d', i), printf('u%04d', i % ${USERS}), NULL, NULL, json_object('creator', printf('u%04d', i % ${USERS})),
                     json_object('n', i, 'name', 'shared ' || i), ?2 + i, ?2 + i FROM s`).bind(app.id, now),
]);
const stats = await db.prepare("SELECT (SELECT count(*) FROM entities) AS entities, (SELECT count(*) FROM entity_grants) AS grants").first();
log(`seeded ${stats.entities} entities, ${stats.grants} grant rows, ${USERS} users; measuring as ${ME}`);

// --- the plans of the statements the worker runs --------------------------------------------
// The worker's own store code builds the SQL against a recording D1 stub; the real D1 explains it.
const explainSrc = await bundle(null, `
  export { listEntities, countEntities, loadEntity } from "./worker/data/entities.ts";
  export { compileQuery } from "./worker/data/query.ts";`);
writeFileSync(`${outDir}/explain.mjs`, explainSrc);
const explain = await import(`${outDir}/explain.mjs`);
const recorded = [];
const recorder = {
  DB: {
    prepare: (text) => ({ bind: (...params) => { recorded.push({ text, params }); return { all: async () => ({ results: [] }), first: async () => ({ id: null, level: null, my_groups: "[]" }) }; } }),
    batch: async (statements) => statements.map(() => ({ results: [] })),
  },
};
const actor = { kind: "user", id: ME, groups: new Set() };
// Each statement has two arms guarded by the collection's level; one yields rows.
await explain.listEntities(recorder, app.id, "private_items", actor, { where: explain.compileQuery({}), order: null, limit: 50, skip: 0 });
await explain.countEntities(recorder, app.id, "private_items", actor, explain.compileQuery({}));
await explain.listEntities(recorder, app.id, "shared_items", actor, { where: explain.compileQuery({}), order: null, limit: 50, skip: 0 });
await explain.countEntities(recorder, app.id, "shared_items", actor, explain.compileQuery({}));
await explain.loadEntity(recorder, app.id, "private_items", "p000007", actor);
const statements = [["list (Private)", recorded[0]], ["count (Private)", recorded[1]], ["list (Shared)", recorded[2]], ["count (Shared)", recorded[3]], ["get", recorded[4]]];
for (const [label, q] of statements.slice(0, 3)) {
  const { results } = await db.prepare(`EXPLAIN QUERY PLAN ${q.text}`).bind(...q.params).all();
  console.log(`\nEXPLAIN QUERY PLAN ${label}:\n${results.map((r) => `  ${r.detail}`).join("\n")}`);
}
// Time spent executing each statement inside D1 (meta.duration), without any round trip.
console.log("\nSQL execution time inside D1 (meta.duration, median of 20 runs):");
for (const [label, q] of statements) {
  const times = [];
  let rows = 0;
  for (let i = 0; i < 20; i++) {
    const r = await db.prepare(q.text).bind(...q.params).all();
    times.push(r.meta.duration);
    rows = r.results.length;
  }
  times.sort((a, b) => a - b);
  console.log(`  ${label.padEnd(16)} ${times[10].toFixed(3)} ms  (${rows} row${rows === 1 ? "" : "s"})`);
}

// --- load ----------------------------------------------------------------------------------
const auth = { Authorization: `Kinvey ${token}` };
const first = await (await fetch(`${latchUrl}/appdata/${app.id}/private_items?limit=50`, { headers: auth })).json();
const readable = await (await fetch(`${latchUrl}/appdata/${app.id}/private_items/_count`, { headers: auth })).json();
if (!Array.isArray(first) || first.length !== 50) throw new Error(`list: ${JSON.stringify(first).slice(0, 200)}`);
const getIds = first.map((d) => d._id);
console.log(`\n${ME} reads ${readable.count} of ${PRIVATE} private entities (own ${PRIVATE / USERS}, plus named and group grants)`);

function runLoad(base, pathFor, concurrency, seconds, headers = auth) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(base);
  const latencies = [];
  let errors = 0;
  let firstError = null;
  let n = 0;
  const deadline = performance.now() + seconds * 1000;
  const one = () =>
    new Promise((resolve) => {
      const start = performance.now();
      const req = http.request({ host: url.hostname, port: url.port, path: pathFor(n++), agent, headers }, (res) => {
        let body = "";
        res.on("data", (chunk) => { if (res.statusCode !== 200) body += chunk; });
        res.on("end", () => {
          if (res.statusCode !== 200) {
            errors++;
            firstError ??= `${res.statusCode} ${body.slice(0, 200)}`;
          }
          latencies.push(performance.now() - start);
          resolve();
        });
      });
      req.on("error", (err) => {
        errors++;
        firstError ??= String(err);
        resolve();
      });
      req.end();
    });
  const worker = async () => {
    while (performance.now() < deadline) await one();
  };
  const started = performance.now();
  return Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
    agent.destroy();
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), n: latencies.length, errors, firstError };
  });
}

// "ping" (app credentials, no D1 read once the app is cached) and "me" (session auth: one D1
// read) are the worker's own floor: every data route pays for "me" before its first query.
const appAuth = { Authorization: `Basic ${Buffer.from(`${app.id}:${app.app_secret}`).toString("base64")}` };
const targets = [
  ["hello", helloUrl, () => "/"],
  ["d1", d1Url, () => "/"],
  ["ping", latchUrl, () => `/appdata/${app.id}`, appAuth],
  ["me", latchUrl, () => `/user/${app.id}/_me`],
  ["list", latchUrl, () => `/appdata/${app.id}/private_items?limit=50`],
  ["count", latchUrl, () => `/appdata/${app.id}/private_items/_count`],
  ["get", latchUrl, (i) => `/appdata/${app.id}/private_items/${getIds[i % getIds.length]}`],
  ["shared", latchUrl, () => `/appdata/${app.id}/shared_items?limit=50`],
];
const results = [];
try {
  for (const concurrency of CONCURRENCY) {
    // Warm-up at this concurrency (JIT, connection pools), not counted.
    for (const [, base, path, headers] of targets) await runLoad(base, path, concurrency, 0.5, headers);
    let helloP50 = 0;
    let d1P50 = 0;
    for (const [name, base, path, headers] of targets) {
      const r = await runLoad(base, path, concurrency, SECONDS, headers);
      if (name === "hello") helloP50 = r.p50;
      if (name === "d1") d1P50 = r.p50;
      const ratio = r.p50 / helloP50;
      results.push({ concurrency, name, ...r, ratio, vsD1: name === "hello" ? NaN : r.p50 / d1P50 });
      log(
        `c=${String(concurrency).padStart(2)} ${name.padEnd(6)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99
          .toFixed(2)
          .padStart(6)} ms  n=${r.n}${r.errors ? ` ERRORS=${r.errors} (${r.firstError})` : ""}${name === "hello" ? "" : `  p50 = ${ratio.toFixed(2)}x hello ${ratio <= 3 ? "(within 3x)" : "(MISSES 3x)"}`}`,
      );
    }
  }
} finally {
  await latch.dispose();
  await hello.dispose();
  await d1Floor.dispose();
}

console.log("\n| concurrency | route | req/s | p50 ms | p99 ms | p50 / hello p50 | p50 / d1 p50 |");
console.log("|---|---|---|---|---|---|---|");
for (const r of results) {
  const vsD1 = Number.isNaN(r.vsD1) ? "" : r.vsD1.toFixed(2);
  console.log(`| ${r.concurrency} | ${r.name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.name === "hello" ? "1" : r.ratio.toFixed(2)} | ${vsD1} |`);
}
log("done");
