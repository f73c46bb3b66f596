// Data API under load, loopback, bounded in time (about 90 s):   node bench/data.mjs
//
// Serves bench/bench-worker.ts (the real worker plus bench routes) through Miniflare with D1
// holding 100,000 entities in one Private collection spread over 1,000 users plus 10,000
// Shared entities, and measures as ONE user with a Kinvey session token:
//   list   GET /appdata/{k}/private_items?limit=50     (first page)
//   count  GET /appdata/{k}/private_items/_count
//   get    GET /appdata/{k}/private_items/{id}         (ids the user may read)
//   shared GET /appdata/{k}/shared_items?limit=50      (first page of the Shared collection)
// Measured in the same run, at the same concurrency, as references:
//   hello  GET /__bench/hello, same worker                         <- the target's yardstick
//   d1     GET /__bench/d1: only `SELECT 1` on D1                  (one D1 round trip)
//   ping   Latch's GET /appdata/{k} with app credentials         (no D1 once the app is cached)
//   me     Latch's GET /user/{k}/_me with the session token      (session lookup: one D1 read)
// Target (issue 17): list, count and get make ONE D1 round trip each (the session lookup is in
// the same batch as the data statement), p50 within 1.5x the `d1` p50 at C=8. The D1 trips and
// DO calls per request are counted in the worker and printed. EXPLAIN QUERY PLAN of the compiled
// list and count statements is printed so a miss can be explained. Load: wrk, C connections.
//
// Env knobs: BENCH_SECONDS (per measurement, default 2), BENCH_CONCURRENCY (default "8,32"),
// ROUTES=hello,d1,list (only these cells), PROFILE=list (a route name: a V8 CPU profile of that route's first cell, through Miniflare's
// inspector port).
import { createHash, randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { printProfile, startProfile } from "./lib/profile.mjs";
import { adminHeaders, applyMigrations, bundle, fmt, jsonClient, latchBindings, latchCounters, loadColumns, machineLine, measure, printTable, processCpuMs, requireWrk, startMiniflare } from "./lib/harness.mjs";

requireWrk();

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? "8,32").split(",").map(Number);
const PRIVATE = 100_000;
const SHARED = 10_000;
const USERS = 1_000;
const t0 = performance.now();
const log = (...a) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)}s]`, ...a);

const PROFILE = process.env.PROFILE;
const INSPECTOR = 9229 + (process.pid % 500);
const { origin, db, workerdPid, dispose } = await startMiniflare({
  scriptPath: await bundle("bench/bench-worker.ts"),
  bindings: latchBindings(null),
  options: PROFILE ? { inspectorPort: INSPECTOR } : {},
});
try {
  await applyMigrations(db);
  log(`worker up at ${origin}; ${machineLine()}`);

  // --- schema and data ----------------------------------------------------------------------
  const app = await jsonClient(origin)("/admin/apps", { method: "POST", headers: adminHeaders, body: JSON.stringify({ name: "Bench", slug: "bench" }) });
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
  const explainPath = await bundle(null, {
    name: "explain",
    contents: `
    export { listEntities, countEntities, loadEntity } from "./worker/data/entities.ts";
    export { compileQuery } from "./worker/data/query.ts";`,
  });
  const explain = await import(pathToFileURL(explainPath).href);
  const recorded = [];
  const recorder = {
    DB: {
      prepare: (text) => ({ bind: (...params) => { recorded.push({ text, params }); return { all: async () => ({ results: [{ id: null, level: null, my_groups: "[]", count: 0 }] }), first: async () => ({ id: null, level: null, my_groups: "[]" }) }; } }),
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
  // Time spent executing each statement inside D1 (meta.duration), without a round trip of its
  // own: D1 reports whole milliseconds, so each figure is one batch of 50 copies, divided by 50.
  const COPIES = 50;
  console.log(`\nSQL execution time inside D1 (meta.duration over a batch of ${COPIES} copies, median of 5 batches):`);
  for (const [label, q] of [["SELECT 1", { text: "SELECT 1", params: [] }], ...statements]) {
    const times = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      const results = await db.batch(Array.from({ length: COPIES }, () => db.prepare(q.text).bind(...q.params)));
      times.push(results.reduce((sum, r) => sum + r.meta.duration, 0) / COPIES);
      rows = results[0].results.length;
    }
    times.sort((a, b) => a - b);
    console.log(`  ${label.padEnd(16)} ${times[2].toFixed(3)} ms  (${rows} row${rows === 1 ? "" : "s"})`);
  }

  // --- load ----------------------------------------------------------------------------------
  const auth = { Authorization: `Kinvey ${token}` };
  const firstText = await (await fetch(`${origin}/appdata/${app.id}/private_items?limit=50`, { headers: auth })).text();
  const first = JSON.parse(firstText);
  const readable = await (await fetch(`${origin}/appdata/${app.id}/private_items/_count`, { headers: auth })).json();
  if (!Array.isArray(first) || first.length !== 50) throw new Error(`list: ${JSON.stringify(first).slice(0, 200)}`);
  const getIds = first.map((d) => d._id);
  console.log(`\n${ME} reads ${readable.count} of ${PRIVATE} private entities (own ${PRIVATE / USERS}, plus named and group grants)`);

  // "ping" (app credentials, no D1 read once the app is cached) and "me" (session auth: one D1
  // read) are the worker's own floor: every data route pays for "me" before its first query.
  const appAuth = { Authorization: `Basic ${Buffer.from(`${app.id}:${app.app_secret}`).toString("base64")}` };
  const targets = [
    ["hello", { path: "/__bench/hello" }],
    ["d1", { path: "/__bench/d1" }],
    ["d1 ×2", { path: "/__bench/d1?batch=2" }],
    // A result the size of list's page, half quotes as JSON is: what D1 charges for the bytes.
    ["d1 10 KB", { path: `/__bench/d1?bytes=${Buffer.byteLength(firstText)}&quotes=1` }],
    ["ping", { path: `/appdata/${app.id}`, headers: appAuth }],
    ["me", { path: `/user/${app.id}/_me` }],
    ["list", { path: `/appdata/${app.id}/private_items?limit=50` }],
    ["count", { path: `/appdata/${app.id}/private_items/_count` }],
    ["get", { path: `/appdata/${app.id}/private_items/{item}`, mode: "cycle", items: getIds }],
    ["shared", { path: `/appdata/${app.id}/shared_items?limit=50` }],
  ];
  const rows = [];
  const only = process.env.ROUTES?.split(",");
  for (const concurrency of CONCURRENCY) {
    for (const [name, { path, headers = auth, mode, items }] of targets) {
      if (only && !only.includes(name)) continue;
      const latchRoute = !name.startsWith("hello") && !name.startsWith("d1");
      const profiling = PROFILE === name && concurrency === CONCURRENCY[0] ? await startProfile(INSPECTOR) : null;
      const r = await measure({ origin, concurrency, seconds: SECONDS, request: { path, headers }, mode, items, workerdPid, ...(latchRoute ? { counters: latchCounters(origin) } : {}) });
      if (profiling) printProfile(await profiling(), r.n);
      rows.push({ concurrency, name, ...r });
      log(`c=${concurrency} ${name} ${fmt.int(r.rps)} req/s p50 ${fmt.ms(r.p50)} ms p99 ${fmt.ms(r.p99)} ms${r.errors ? ` ERRORS=${r.errors} (${r.firstError})` : ""}`);
    }
  }
  const ref = (name) => (r) => rows.find((x) => x.concurrency === r.concurrency && x.name === name);
  console.log(`\n${machineLine()}`);
  printTable(
    [
      ["C", (r) => String(r.concurrency)],
      ["route", (r) => r.name],
      ...loadColumns(ref("hello")),
      ["p50 ÷ d1", (r) => (r.name === "hello" ? "" : fmt.ratio(r.p50 / ref("d1")(r).p50))],
    ],
    rows,
  );

  // --- each route's CPU without HTTP or wrk -------------------------------------------------
  // /__bench/repeat sends a route to the worker REPEAT_N times in a row inside one request:
  // workerd CPU ÷ n is the route's own cost (the worker, D1's SQL and its JSON transport),
  // sequential, so the load generator and the socket are out of it. Rounds interleave the
  // routes; min and median of the rounds, since the shared VM's noise is one-sided.
  const REPEAT_N = 300;
  const ROUNDS = 5;
  const inProcess = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, { path, headers = auth, items }] of targets) {
      if (name === "hello" || (only && !only.includes(name))) continue;
      const target = items ? path.replace("{item}", items[0]) : path;
      const before = processCpuMs(workerdPid);
      const res = await fetch(`${origin}/__bench/repeat?n=${REPEAT_N}&path=${encodeURIComponent(target)}`, { headers });
      const { statuses } = await res.json();
      if (statuses["200"] !== REPEAT_N) throw new Error(`${name}: ${JSON.stringify(statuses)}`);
      const list = inProcess.get(name) ?? [];
      list.push((processCpuMs(workerdPid) - before) / REPEAT_N);
      inProcess.set(name, list);
    }
  }
  console.log(`\nIn-process CPU per request (workerd ms over ${REPEAT_N} sequential requests inside one, ${ROUNDS} interleaved rounds):`);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const d1Median = median(inProcess.get("d1") ?? [NaN]);
  console.log("| route | min ms | median ms | median ÷ d1 |\n|---|--:|--:|--:|");
  for (const [name, xs] of inProcess) console.log(`| ${name} | ${Math.min(...xs).toFixed(2)} | ${median(xs).toFixed(2)} | ${fmt.ratio(median(xs) / d1Median)} |`);
  log("done");
} finally {
  await dispose();
}
