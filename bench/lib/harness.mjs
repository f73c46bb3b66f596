// What every benchmark shares: bundling a worker entry, serving it through Miniflare directly
// (no wrangler dev), applying schema/migrations to its D1, bounded wrk runs with percentiles,
// CPU accounting and a markdown table. Each bench file keeps only what it measures.
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));
export const outDir = join(root, ".wrangler/bench");
export const ADMIN_TOKEN = "bench-admin-token";
export const COMPAT = { compatibilityDate: "2026-04-20", compatibilityFlags: ["nodejs_compat"] };

/**
 * Bundles a worker entry (a path relative to the repo, or TypeScript source as `contents`) the
 * way wrangler would for workerd; `node:*` stays external for nodejs_compat (async_hooks).
 * Returns the written module's path.
 */
export async function bundle(entry, { contents, name } = {}) {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${name ?? entry.replace(/^.*\//, "").replace(/\.ts$/, "")}.mjs`);
  await build({
    ...(contents ? { stdin: { contents, resolveDir: root, loader: "ts", sourcefile: "entry.ts" } } : { entryPoints: [join(root, entry)] }),
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    target: "es2022",
    outfile,
    logLevel: "warning",
  });
  // Miniflare refuses an import() whose specifier is not a literal; hono's logger (used by
  // OpenAuth) imports "cloudflare:workers" through a variable.
  const text = readFileSync(outfile, "utf8");
  if (text.includes("import(cfWorkers)")) writeFileSync(outfile, text.replaceAll("import(cfWorkers)", 'import("cloudflare:workers")'));
  return outfile;
}

/** The Latch bindings a bench worker needs; DEFAULT_APP makes the socket's host serve that app. */
export const latchBindings = (defaultApp = "bench") => ({
  ADMIN_TOKEN,
  KEY_ENCRYPTION_SECRET: "bench-key-encryption-secret-0123456789",
  BASE_HOST: "localhost:8787",
  ...(defaultApp ? { DEFAULT_APP: defaultApp } : {}),
});

/**
 * Starts Miniflare on a bundled module with D1 (DB), RefreshChains (CHAINS) and AttemptCounters
 * (ATTEMPTS, the sign-in limits; the module must export the class). `persist`
 * (a directory) keeps D1 and DO SQLite there, wiped first and on dispose; without it Miniflare
 * uses its default temporary stores. `latch: false` leaves the bindings out (a peer's worker
 * brings its own in `options`, e.g. KV). Returns { mf, origin, db, workerdPid, dispose }.
 */
export async function startMiniflare({ scriptPath, script, persist, bindings = latchBindings(), latch = true, options = {} } = {}) {
  if (persist) {
    rmSync(persist, { recursive: true, force: true });
    mkdirSync(persist, { recursive: true });
  }
  const before = new Set(workerdChildren());
  const mf = new Miniflare({
    modules: true,
    ...(scriptPath ? { scriptPath } : { script }),
    ...(latch
      ? {
          d1Databases: ["DB"],
          durableObjects: { CHAINS: { className: "RefreshChains", useSQLite: true }, ATTEMPTS: { className: "AttemptCounters", useSQLite: true } },
          bindings,
          ...(persist ? { d1Persist: join(persist, "d1"), durableObjectsPersist: join(persist, "do") } : {}),
        }
      : {}),
    ...COMPAT,
    host: "127.0.0.1",
    port: 0,
    // Placeholder request.cf: Miniflare would otherwise fetch it from the network.
    cf: false,
    ...(process.env.DEBUG
      ? { log: new Log(LogLevel.DEBUG) }
      : {
          // A peer that logs every request (OpenAuth's issuer uses hono's logger) must not
          // flood the tables; its console output is read and dropped.
          handleRuntimeStdio(stdout, stderr) {
            stdout.resume();
            stderr.resume();
          },
        }),
    ...options,
  });
  const origin = (await mf.ready).origin.replace(/\/$/, "");
  const workerdPid = workerdChildren().find((pid) => !before.has(pid)) ?? null;
  return {
    mf,
    origin,
    db: latch ? await mf.getD1Database("DB") : null,
    workerdPid,
    async dispose() {
      await mf.dispose();
      if (persist) rmSync(persist, { recursive: true, force: true });
    },
  };
}

/**
 * Statements of one migration file: split at drizzle's breakpoints and at `;` ending a line,
 * keeping trigger bodies (CREATE TRIGGER … BEGIN … END;) whole; comment-only lines are dropped.
 */
export function sqlStatements(text) {
  const out = [];
  let current = [];
  let inBlock = false;
  for (const raw of text.replace(/--> statement-breakpoint/g, "\n").split("\n")) {
    const line = raw.trimEnd();
    if (!line.trim() || /^\s*--/.test(line)) continue;
    current.push(line);
    if (/^\s*CREATE\s+(TEMP\s+|TEMPORARY\s+)?TRIGGER\b/i.test(current[0]) && /\bBEGIN$/i.test(line)) inBlock = true;
    if (inBlock ? /^\s*END\s*;$/i.test(line) : line.endsWith(";")) {
      out.push(current.join("\n"));
      current = [];
      inBlock = false;
    }
  }
  if (current.length) out.push(current.join("\n"));
  return out;
}

/** Every *.sql of schema/migrations (or `dir`) in name order, whatever the files are called. */
export async function applyMigrations(db, dir = join(root, "schema/migrations")) {
  let n = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    for (const sql of sqlStatements(readFileSync(join(dir, file), "utf8"))) {
      try {
        await db.prepare(sql).run();
      } catch (err) {
        throw new Error(`${file}: ${err.message}\n${sql.slice(0, 300)}`);
      }
      n++;
    }
  }
  return n;
}

/** fetch + JSON with a thrown error on any non-2xx (setup calls, not measured). */
export function jsonClient(origin) {
  return async (path, init = {}) => {
    const res = await fetchRetry(`${origin}${path}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
}
export const adminHeaders = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };
export const basicAuth = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

// --- CPU -------------------------------------------------------------------------------------
// workerd CPU comes from /proc/<pid>/stat (utime + stime, clock ticks): the WHOLE process (the
// isolate, D1's and the objects' SQLite, HTTP parsing), not the worker's own per-request CPU,
// which local workerd does not report. Node's is process.cpuUsage(): the load generator.
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function workerdChildren() {
  const out = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === process.pid && stat.includes("(workerd)")) out.push(Number(pid));
    } catch {
      // the process ended while listing
    }
  }
  return out;
}

/** CPU milliseconds used so far by a process (null when unreadable). */
export function processCpuMs(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

// --- load ------------------------------------------------------------------------------------
// The load generator is wrk (Debian's package), not Node: a Node fetch loop costs 1-2 ms of CPU
// per request, more than hello-world itself, on the same two cores as workerd. wrk costs a few
// tens of µs (measured per cell: "gen CPU ms/req"). One wrk thread per connection, so the Lua
// script (bench/lib/load.lua) keeps per-connection state: a refresh token, a share of a pool.
const LUA = join(root, "bench/lib/load.lua");
let runs = 0;

/** True when wrk is on PATH; the benches say how to install it otherwise. */
export function requireWrk() {
  const found = spawnSync("wrk", ["-v"], { encoding: "utf8" });
  if (found.error) {
    console.error("bench: wrk is not installed (apt-get install wrk); the benches use it as their load generator.");
    process.exit(2);
  }
}

/**
 * One bounded wrk run: `concurrency` connections (one thread each) for `seconds` (whole
 * seconds) against `origin`. `request` is {method, path, headers, body}; "{item}" in path or
 * body takes the connection's item (see load.lua for `mode`: plain, cycle, consume, rotate).
 * Returns req/s of `expect` answers, p50/p99 (ms, all answers), the CPU per successful request
 * of workerd and of wrk itself, and `last` (each connection's last item, for "rotate").
 */
export async function wrk({ origin, concurrency, seconds, request, mode = "plain", items, field, expect = 200, workerdPid }) {
  const n = ++runs;
  mkdirSync(outDir, { recursive: true });
  const itemsFile = items ? join(outDir, `wrk-${process.pid}-${n}.items`) : undefined;
  if (items) writeFileSync(itemsFile, items.join("\n") + "\n");
  const specFile = join(outDir, `wrk-${process.pid}-${n}.json`);
  const outFile = join(outDir, `wrk-${process.pid}-${n}.out`);
  const spec = { method: request.method ?? "GET", path: request.path, headers: request.headers ?? {}, body: request.body, mode, items_file: itemsFile, threads: concurrency, field, expect, out_file: outFile };
  writeFileSync(specFile, JSON.stringify(spec));
  const args = ["-t", String(concurrency), "-c", String(concurrency), "-d", `${Math.max(1, Math.round(seconds))}s`, "--timeout", "10s", "-s", LUA, origin];
  const w0 = processCpuMs(workerdPid);
  // `times` prints the shell's and then its children's CPU: the second line is wrk's.
  const child = spawn("bash", ["-c", 'wrk "$@" >/dev/null; s=$?; times >&2; exit $s', "wrk", ...args], { env: { ...process.env, LATCH_WRK_SPEC: specFile } });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const status = await new Promise((resolve) => child.on("exit", resolve));
  const w1 = processCpuMs(workerdPid);
  const times = stderr.trim().split("\n").slice(-1)[0] ?? "";
  const genCpuMs = times
    .split(/\s+/)
    .map((t) => /^(\d+)m([\d.]+)s$/.exec(t))
    .filter(Boolean)
    .reduce((sum, [, m, sec]) => sum + (Number(m) * 60 + Number(sec)) * 1000, 0);
  if (status !== 0) throw new Error(`wrk exited with ${status}: ${stderr.slice(0, 500)}`);
  const r = JSON.parse(readFileSync(outFile, "utf8"));
  for (const f of [itemsFile, specFile, outFile]) if (f) rmSync(f, { force: true });
  const elapsed = r.duration_us / 1e6;
  return {
    rps: r.ok / elapsed,
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    n: r.ok,
    errors: r.bad + r.socket_errors,
    firstError: r.first_error ?? (r.socket_errors ? `${r.socket_errors} socket errors` : null),
    exhausted: r.exhausted,
    genCpuMs: r.ok ? genCpuMs / r.ok : NaN,
    workerdCpuMs: r.ok && w0 !== null && w1 !== null ? (w1 - w0) / r.ok : NaN,
    load1: loadavg()[0],
    last: r.last,
  };
}

/**
 * A warm-up run (1 s, not reported) and then the measured one. "rotate" hands the warm-up's
 * last items on; "consume" gives the warm-up the first fifth of the pool and the run the rest.
 */
export async function measure(opts, { warmup = 1 } = {}) {
  // `counters` (Latch's bench worker): read-and-reset before the measured run, read after it.
  const { counters, ...rest } = opts;
  opts = rest;
  let measured = opts;
  if (warmup > 0) {
    if (opts.mode === "consume") {
      const cut = Math.floor(opts.items.length / 5);
      await wrk({ ...opts, seconds: warmup, items: opts.items.slice(0, cut) });
      measured = { ...opts, items: opts.items.slice(cut) };
    } else {
      const w = await wrk({ ...opts, seconds: warmup });
      if (opts.mode === "rotate") measured = { ...opts, items: w.last };
    }
  }
  if (counters) await counters();
  const r = await wrk(measured);
  if (counters) {
    const k = await counters();
    Object.assign(r, { d1PerReq: k.requests ? k.d1 / k.requests : NaN, doPerReq: k.requests ? k.durableObject / k.requests : NaN });
  }
  if (r.errors) console.error(`  ${r.errors} errors, first: ${r.firstError}`);
  return r;
}

// --- output ----------------------------------------------------------------------------------
export const fmt = {
  int: (x) => (Number.isFinite(x) ? x.toFixed(0) : "n/a"),
  ms: (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a"),
  ratio: (x) => (Number.isFinite(x) ? `${x.toFixed(1)}×` : ""),
  cpu: (x) => (Number.isFinite(x) ? x.toFixed(2) : "n/a"),
};

/** The usual columns of a load result, for printTable. */
export const loadColumns = (ref) => [
  ["req/s", (r) => fmt.int(r.rps)],
  ["p50 ms", (r) => fmt.ms(r.p50)],
  ["p99 ms", (r) => fmt.ms(r.p99)],
  ...(ref ? [["p50 ÷ hello", (r) => fmt.ratio(r.p50 / ref(r).p50)]] : []),
  ["workerd CPU ms/req", (r) => fmt.cpu(r.workerdCpuMs)],
  ["gen CPU ms/req", (r) => fmt.cpu(r.genCpuMs)],
  ["D1 trips/req", (r) => (Number.isFinite(r.d1PerReq) ? r.d1PerReq.toFixed(2) : "")],
  ["DO calls/req", (r) => (Number.isFinite(r.doPerReq) ? r.doPerReq.toFixed(2) : "")],
  ["errors", (r) => String(r.errors) + (r.exhausted ? " (pool ran out)" : "")],
  ["load 1m", (r) => r.load1.toFixed(1)],
];

/** Prints a markdown table: columns are [heading, row => string]; text columns are left-aligned. */
export function printTable(columns, rows) {
  const cells = rows.map((r) => columns.map(([, get]) => get(r)));
  const numeric = columns.map((_, i) => cells.every((c) => /^[-\d.,×n/a ]*$|^\d/.test(c[i])));
  console.log(`| ${columns.map(([h]) => h).join(" | ")} |`);
  console.log(`|${numeric.map((num) => (num ? "--:" : "---")).join("|")}|`);
  for (const c of cells) console.log(`| ${c.join(" | ")} |`);
}

/** One line of context for a figure set: versions, cores, load average now. */
export function machineLine(extra = "") {
  const [l1, l5, l15] = loadavg().map((x) => x.toFixed(2));
  return `node ${process.version}, ${cpus().length} CPUs, load average ${l1} ${l5} ${l15}${extra ? `; ${extra}` : ""}`;
}

/** The D1 and Durable Object call counters of a Latch bench worker (bench-worker.ts), for measure(). */
export const latchCounters = (origin) => async () => (await fetchRetry(`${origin}/__bench/counters`)).json();

/**
 * fetch for setup calls between wrk runs: a kept-alive socket that workerd closed while a run
 * went on fails with "other side closed" before the request is sent; that is retried once.
 */
export async function fetchRetry(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (err?.cause?.code !== "UND_ERR_SOCKET") throw err;
    return fetch(url, init);
  }
}
