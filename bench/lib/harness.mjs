// What every benchmark shares: bundling a worker entry, serving it through Miniflare directly
// (no wrangler dev), applying schema/migrations to its D1, a bounded closed-loop load with
// percentiles, CPU accounting and a markdown table. Each bench file keeps only what it measures.
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
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
 * Starts Miniflare on a bundled module with D1 (DB) and RefreshChains (CHAINS). `persist`
 * (a directory) keeps D1 and DO SQLite there, wiped first and on dispose; without it Miniflare
 * uses its default temporary stores. Returns { mf, origin, db, workerdPid, dispose }.
 */
export async function startMiniflare({ scriptPath, script, persist, bindings = latchBindings(), latch = true } = {}) {
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
          durableObjects: { CHAINS: { className: "RefreshChains", useSQLite: true } },
          bindings,
          ...(persist ? { d1Persist: join(persist, "d1"), durableObjectsPersist: join(persist, "do") } : {}),
        }
      : {}),
    ...COMPAT,
    host: "127.0.0.1",
    port: 0,
    ...(process.env.DEBUG ? { log: new Log(LogLevel.DEBUG) } : {}),
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
    const res = await fetch(`${origin}${path}`, init);
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
/**
 * Closed loops: `concurrency` slots each await `request(slot, n)` (n counts all requests) until
 * `seconds` pass. `request` answers a Response, or null when the slot has nothing left to send
 * (a consumed pool). A 200 counts (its latency includes reading the body, then
 * `onOk(text, slot)`); anything else is an error. `workerdPid` adds workerd CPU per request.
 */
export async function load({ concurrency, seconds, request, onOk, workerdPid, expect = 200 }) {
  const latencies = [];
  let errors = 0;
  let firstError = null;
  let n = 0;
  let exhausted = false;
  const cpu0 = process.cpuUsage();
  const w0 = processCpuMs(workerdPid);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, slot) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        let res;
        let text;
        try {
          res = await request(slot, n++);
          if (!res) {
            exhausted = true;
            return;
          }
          text = await res.text();
        } catch (err) {
          errors++;
          firstError ??= String(err);
          continue;
        }
        const ms = performance.now() - t0;
        if (res.status !== expect) {
          errors++;
          firstError ??= `${res.status} ${text.slice(0, 200)}`;
          continue;
        }
        latencies.push(ms);
        onOk?.(text, slot);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const w1 = processCpuMs(workerdPid);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const ok = latencies.length;
  return {
    rps: ok / elapsed,
    p50: q(0.5),
    p99: q(0.99),
    n: ok,
    errors,
    firstError,
    exhausted,
    nodeCpuMs: ok ? (cpu.user + cpu.system) / 1000 / ok : NaN,
    workerdCpuMs: ok && w0 !== null && w1 !== null ? (w1 - w0) / ok : NaN,
    load1: loadavg()[0],
  };
}

/** A warm-up load (not reported) then the measured one, with the same options. */
export async function measure(opts, warmupSeconds = 0.8) {
  await load({ ...opts, seconds: warmupSeconds });
  const r = await load(opts);
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
  ["node CPU ms/req", (r) => fmt.cpu(r.nodeCpuMs)],
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
