// The cost of one failed password sign-in (issue 16): POST /user/{appKey}/login with a wrong
// password, the Kinvey face's login (Basic user credentials and the hosted page share its code).
//   node bench/failed-login.mjs            (about a minute; needs wrk)
// Cells, for two password-hash settings (the production default, and a cheap one that leaves the
// counting's own cost visible):
//   counted   every attempt from a fresh CF-Connecting-IP at the next of USERS users: no limit
//             trips, so each is a counted failure answered 401;
//   refused   one address, one user, after its limit tripped: each is answered 429.
// Columns beyond the usual: D1 queries, D1 writing queries and D1 rows written per attempt
// (every D1 result's meta.rows_written, trigger rows included), Durable Object calls per attempt.
// The bench wraps the worker it finds (worker/index.ts), so the same file measures any commit:
// the figures in bench/README.md ran it on 1cca926 ("before") and on the limits branch ("after").
import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { adminHeaders, applyMigrations, basicAuth, bundle, fetchRetry, fmt, jsonClient, latchBindings, machineLine, outDir, printTable, processCpuMs, requireWrk, root, startMiniflare } from "./lib/harness.mjs";
import { loadavg } from "node:os";
import { readFileSync, rmSync } from "node:fs";

requireWrk();

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
// Enough accounts that no cell reaches a per-account limit, before (10 per identifier) or after.
const USERS = Number(process.env.BENCH_USERS ?? 3000);
const hasAttemptCounters = existsSync(join(root, "worker/identity/attempt-counters.ts"));

// The real worker with every D1 query and Durable Object call metered; /__bench/counters reads
// and resets the meters.
const entry = `
import worker from "./worker/index.ts";
export * from "./worker/index.ts";
const m = { requests: 0, queries: 0, writes: 0, rowsWritten: 0, durableObject: 0 };
const meter = (meta) => {
  m.queries++;
  const w = meta?.rows_written ?? 0;
  if (w > 0) { m.writes++; m.rowsWritten += w; }
};
const RAW = Symbol("raw");
const statement = (st) => ({
  [RAW]: st,
  bind: (...a) => statement(st.bind(...a)),
  async first(column) {
    const r = await st.all();
    meter(r.meta);
    const row = r.results[0] ?? null;
    return column === undefined ? row : row === null ? null : row[column];
  },
  async all() { const r = await st.all(); meter(r.meta); return r; },
  async run() { const r = await st.run(); meter(r.meta); return r; },
  async raw(o) { m.queries++; return st.raw(o); },
});
function metered(env) {
  const db = {
    prepare: (q) => statement(env.DB.prepare(q)),
    async batch(list) {
      const rs = await env.DB.batch(list.map((s) => s[RAW] ?? s));
      for (const r of rs) meter(r.meta);
      return rs;
    },
    exec: (q) => env.DB.exec(q),
    withSession: (...a) => env.DB.withSession(...a),
    dump: () => env.DB.dump(),
  };
  const namespace = (ns) => ns && new Proxy(ns, {
    get(t, prop) {
      const v = Reflect.get(t, prop);
      if (prop !== "get") return typeof v === "function" ? v.bind(t) : v;
      return (id) => {
        const stub = t.get(id);
        return new Proxy(stub, {
          get(s, name) {
            if (typeof name === "symbol" || name === "then" || name === "id" || name === "name") return Reflect.get(s, name);
            return (...args) => { m.durableObject++; return s[name](...args); };
          },
        });
      };
    },
  });
  const out = { ...env, DB: db };
  for (const k of ["CHAINS", "WEBHOOK_OUTBOX", "ATTEMPTS"]) if (env[k]) out[k] = namespace(env[k]);
  return out;
}
export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/counters") {
      const out = { ...m };
      Object.assign(m, { requests: 0, queries: 0, writes: 0, rowsWritten: 0, durableObject: 0 });
      return Response.json(out);
    }
    m.requests++;
    return worker.fetch(request, metered(env), ctx);
  },
};`;

const LUA = join(root, "bench/lib/failed-login.lua");
let runs = 0;

async function wrkCell(origin, workerdPid, { appId, auth, mode, expect, seconds }) {
  const outFile = join(outDir, `failed-login-${process.pid}-${mode}.json`);
  const env = { ...process.env, LATCH_FL_PATH: `/user/${appId}/login`, LATCH_FL_AUTH: auth, LATCH_FL_USERS: String(USERS), LATCH_FL_MODE: mode, LATCH_FL_EXPECT: String(expect), LATCH_FL_OUT: outFile };
  const run = (s) =>
    new Promise((resolve, reject) => {
      runs++;
      const child = spawn("wrk", ["-t", String(CONCURRENCY), "-c", String(CONCURRENCY), "-d", `${s}s`, "--timeout", "10s", "-s", LUA, origin], { env: { ...env, LATCH_FL_RUN: String(runs) }, stdio: ["ignore", "ignore", "inherit"] });
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`wrk exited with ${code}`))));
    });
  await run(1); // warm-up
  await fetchRetry(`${origin}/__bench/counters`);
  const cpu0 = processCpuMs(workerdPid);
  await run(seconds);
  const cpu1 = processCpuMs(workerdPid);
  const k = await (await fetchRetry(`${origin}/__bench/counters`)).json();
  const r = JSON.parse(readFileSync(outFile, "utf8"));
  rmSync(outFile, { force: true });
  if (r.bad || r.socket_errors) console.error(`  ${mode}: ${r.bad} unexpected answers (first: ${r.first_bad}), ${r.socket_errors} socket errors`);
  const per = (x) => (k.requests ? x / k.requests : NaN);
  return {
    rps: r.ok / (r.duration_us / 1e6),
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    n: r.ok,
    errors: r.bad + r.socket_errors,
    workerdCpuMs: r.ok && cpu0 !== null ? (cpu1 - cpu0) / r.ok : NaN,
    queries: per(k.queries),
    writes: per(k.writes),
    rowsWritten: per(k.rowsWritten),
    doCalls: per(k.durableObject),
    load1: loadavg()[0],
  };
}

async function scenario(label, hashParams) {
  const durableObjects = {
    CHAINS: { className: "RefreshChains", useSQLite: true },
    WEBHOOK_OUTBOX: { className: "WebhookOutbox", useSQLite: true },
    ...(hasAttemptCounters ? { ATTEMPTS: { className: "AttemptCounters", useSQLite: true } } : {}),
  };
  const bindings = { ...latchBindings(null), ...(hashParams ? { PASSWORD_HASH_PARAMS: hashParams } : {}) };
  const { origin, db, workerdPid, dispose } = await startMiniflare({ scriptPath: await bundle(null, { contents: entry, name: "failed-login" }), bindings, options: { durableObjects } });
  try {
    await applyMigrations(db);
    const client = jsonClient(origin);
    const app = await client("/admin/apps", { method: "POST", headers: adminHeaders, body: JSON.stringify({ name: "Bench", slug: "bench" }) });
    const auth = basicAuth(app.id, app.app_secret);
    // One real signup; the other accounts are SQL copies of it (same password hash).
    const res = await fetchRetry(`${origin}/user/${app.id}`, { method: "POST", headers: { Authorization: auth, "Content-Type": "application/json" }, body: JSON.stringify({ username: "bench-user-0", password: "the right password" }) });
    if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
    const columns = (await db.prepare("PRAGMA table_info(users)").all()).results.map((c) => c.name);
    const value = { id: "printf('bench-%05d', s.i)", username: "printf('bench-user-%d', s.i)", username_key: "printf('bench-user-%d', s.i)", email: "NULL", email_key: "NULL" };
    await db
      .prepare(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${USERS - 1})
                INSERT INTO users (${columns.join(", ")}) SELECT ${columns.map((c) => value[c] ?? `u.${c}`).join(", ")} FROM s, users u WHERE u.app_id = ? AND u.username = 'bench-user-0'`)
      .bind(app.id)
      .run();
    // Outside the measured cells: the refused cell's limit tripped (11 failures from its address).
    const fail = (username, address) =>
      fetchRetry(`${origin}/user/${app.id}/login`, { method: "POST", headers: { Authorization: auth, "Content-Type": "application/json", "CF-Connecting-IP": address }, body: JSON.stringify({ username, password: "wrong" }) });
    for (let i = 0; i < 11; i++) await fail("bench-user-0", "203.0.113.1");
    const rows = [];
    rows.push({ label, cell: "counted (401)", ...(await wrkCell(origin, workerdPid, { appId: app.id, auth, mode: "spread", expect: 401, seconds: SECONDS })) });
    rows.push({ label, cell: "refused (429)", ...(await wrkCell(origin, workerdPid, { appId: app.id, auth, mode: "same", expect: 429, seconds: SECONDS })) });
    return rows;
  } finally {
    await dispose();
  }
}

console.log(machineLine(`${SECONDS} s per cell after 1 s warm-up, ${CONCURRENCY} connections; counters in ${hasAttemptCounters ? "AttemptCounters (Durable Objects)" : "D1 rate_limits"}`));
// BENCH_HASH=production or cheap runs one of the two.
const which = process.env.BENCH_HASH;
const rows = [
  ...(which !== "cheap" ? await scenario("production hash", null) : []),
  ...(which !== "production" ? await scenario("scrypt N=1024", "scrypt$N=1024,r=8,p=1") : []),
];
const d2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
printTable(
  [
    ["password hash", (r) => r.label],
    ["cell", (r) => r.cell],
    ["req/s", (r) => fmt.int(r.rps)],
    ["p50 ms", (r) => fmt.ms(r.p50)],
    ["p99 ms", (r) => fmt.ms(r.p99)],
    ["workerd CPU ms/req", (r) => fmt.cpu(r.workerdCpuMs)],
    ["D1 statements/req", (r) => d2(r.queries)],
    ["D1 writing statements/req", (r) => d2(r.writes)],
    ["D1 rows written/req", (r) => d2(r.rowsWritten)],
    ["DO calls/req", (r) => d2(r.doCalls)],
    ["errors", (r) => String(r.errors)],
    ["load 1m", (r) => r.load1.toFixed(1)],
  ],
  rows,
);
