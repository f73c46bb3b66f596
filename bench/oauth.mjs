// OAuth token endpoint throughput and latency beside a hello-world ceiling, in one Miniflare run,
// plus the cost of signing one token per algorithm.
//   node bench/oauth.mjs            (about 60 s; DURATION_MS=… per cell)
// Bundles bench/oauth-worker.ts (the real worker/index.ts plus /__bench/hello and /__bench/sign)
// with esbuild and serves it through Miniflare directly (no wrangler dev); migrations from
// schema/migrations are applied to Miniflare's D1. Requests use Node's fetch (keep-alive) to
// Miniflare's socket; the app is found through DEFAULT_APP, so its issuer is that origin.
// Cells, each at concurrency C in closed loops:
//   hello        GET /__bench/hello (same worker, same isolate): the ceiling
//   client_creds POST /oauth2/token grant_type=client_credentials, client_secret_basic
//   code         POST /oauth2/token grant_type=authorization_code, public client + PKCE S256,
//                scope "openid profile email" (access + ID token, no refresh chain)
//   code+offline the same with "offline": also starts a refresh chain (D1 index + Durable Object)
// Codes: one real hosted login makes the browser session; a bench-only route then inserts codes
// bound to it straight into auth_codes (no form post per code); each is consumed once.
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const LEVELS = (process.env.LEVELS ?? "1,16").split(",").map(Number);
const DURATION_MS = Number(process.env.DURATION_MS ?? 4000);
const WARMUP_MS = 800;
const CODES_PER_CELL = 3000;
const ADMIN_TOKEN = "bench-admin-token";
const REDIRECT = "http://localhost:3000/callback";
const started = performance.now();

const outdir = join(root, ".wrangler/bench");
const scriptPath = join(outdir, "oauth-worker.mjs");
await build({
  entryPoints: [join(root, "bench/oauth-worker.ts")],
  bundle: true,
  format: "esm",
  platform: "neutral",
  conditions: ["workerd", "worker", "browser"],
  mainFields: ["module", "main"],
  external: ["cloudflare:*", "node:*"],
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
  ...(process.env.DEBUG ? { log: new Log(LogLevel.DEBUG) } : {}),
});

/** Statements of a migration file: split at `;` line ends, keeping trigger bodies (BEGIN … END;) whole. */
function sqlStatements(text) {
  const out = [];
  let current = [];
  let inBlock = false;
  for (const line of text.replace(/--> statement-breakpoint/g, "").split("\n")) {
    if (!current.length && (!line.trim() || line.trim().startsWith("--"))) continue;
    current.push(line);
    if (/\bBEGIN\s*$/i.test(line.trim())) inBlock = true;
    const ends = inBlock ? /^\s*END\s*;\s*$/i.test(line) : /;\s*$/.test(line);
    if (ends) {
      out.push(current.join("\n").trim());
      current = [];
      inBlock = false;
    }
  }
  if (current.join("").trim()) out.push(current.join("\n").trim());
  return out;
}

const b64url = (buf) => Buffer.from(buf).toString("base64url");

try {
  const ORIGIN = (await mf.ready).origin.replace(/\/$/, "");
  const db = await mf.getD1Database("DB");
  const dir = join(root, "schema/migrations");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
    for (const sql of sqlStatements(readFileSync(join(dir, file), "utf8"))) await db.prepare(sql).run();
  }
  const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };
  const json = async (path, init = {}) => {
    const res = await fetch(`${ORIGIN}${path}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  const app = await json("/admin/apps", { method: "POST", headers: admin, body: JSON.stringify({ name: "Bench", slug: "bench" }) });
  const spa = await json(`/admin/apps/${app.id}/clients`, { method: "POST", headers: admin, body: JSON.stringify({ name: "spa", type: "public", redirect_uris: [REDIRECT] }) });
  const m2m = await json(`/admin/apps/${app.id}/clients`, { method: "POST", headers: admin, body: JSON.stringify({ name: "svc", type: "m2m", scopes: ["read:users", "create:users"] }) });
  const basic = `Basic ${Buffer.from(`${m2m.client_id}:${m2m.client_secret}`).toString("base64")}`;
  for (const [slug, alg] of [["bench-es", "ES256"], ["bench-ed", "EdDSA"]]) {
    await json("/admin/apps", { method: "POST", headers: admin, body: JSON.stringify({ name: slug, slug, settings: { signing_alg: alg } }) });
  }

  // One real sign-in through the hosted page, for a real browser session to bind codes to.
  const user = await json(`/user/${app.id}`, {
    method: "POST",
    headers: { Authorization: `Basic ${Buffer.from(`${app.id}:${app.app_secret}`).toString("base64")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ username: "bench", password: "bench password 1", email: "bench@bench.test" }),
  });
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash("sha256").update(verifier).digest());
  const authorize = `/oauth2/auth?${new URLSearchParams({ response_type: "code", client_id: spa.client_id, redirect_uri: REDIRECT, scope: "openid", code_challenge: challenge, code_challenge_method: "S256" })}`;
  const page = await fetch(`${ORIGIN}${authorize}`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const form = new URLSearchParams();
  for (const [, name, value] of (await page.text()).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form.append(name, value.replace(/&amp;/g, "&"));
  form.set("username", "bench");
  form.set("password", "bench password 1");
  const posted = await fetch(`${ORIGIN}/oauth2/auth`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: ORIGIN }, body: form });
  if (posted.status !== 303) throw new Error(`hosted login: ${posted.status} ${await posted.text()}`);
  const session = await db.prepare("SELECT id FROM sessions WHERE user_id = ? AND kind = 'browser'").bind(user._id).first();

  const makeCodes = (n, scope) =>
    json("/__bench/codes", {
      method: "POST",
      body: JSON.stringify({ n, appId: app.id, clientId: spa.client_id, userId: user._id, sessionId: session.id, redirectUri: REDIRECT, challenge, scope }),
    });

  const requests = {
    hello: () => fetch(`${ORIGIN}/__bench/hello`),
    client_creds: () =>
      fetch(`${ORIGIN}/oauth2/token`, { method: "POST", headers: { Authorization: basic, "Content-Type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials" }),
    code: (code) =>
      fetch(`${ORIGIN}/oauth2/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: spa.client_id }),
      }),
  };

  async function run(kind, c, ms, pool) {
    const lat = [];
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (performance.now() < end) {
          let code;
          if (pool) {
            code = pool.pop();
            if (!code) break;
          }
          const t0 = performance.now();
          const res = await requests[kind === "hello" || kind === "client_creds" ? kind : "code"](code);
          const text = await res.text();
          const t = performance.now() - t0;
          if (res.status !== 200) {
            errors++;
            if (errors < 3) console.error(kind, res.status, text.slice(0, 200));
            continue;
          }
          lat.push(t);
        }
      }),
    );
    lat.sort((a, b) => a - b);
    const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
    return { rps: lat.length / (ms / 1000), p50: q(0.5), p99: q(0.99), n: lat.length, errors, exhausted: pool ? pool.length === 0 : false };
  }

  console.log(`node ${process.version}, ${DURATION_MS} ms per cell after ${WARMUP_MS} ms warm-up, concurrency ${LEVELS.join(", ")}`);
  const rows = [];
  for (const c of LEVELS) {
    for (const kind of ["hello", "client_creds", "code", "code+offline"]) {
      const scope = kind === "code+offline" ? "openid profile email offline" : "openid profile email";
      const pool = kind.startsWith("code") ? await makeCodes(CODES_PER_CELL, scope) : null;
      if (process.env.DEBUG) console.error("cell", c, kind);
      await run(kind, c, WARMUP_MS, pool);
      const r = await run(kind, c, DURATION_MS, pool);
      rows.push({ c, kind, ...r });
    }
  }
  const f = (x) => x.toFixed(2).padStart(6);
  console.log("\n| C  | request       | req/s | p50 ms | p99 ms | p50 vs hello | n | errors |");
  console.log("|----|---------------|------:|-------:|-------:|-------------:|--:|-------:|");
  for (const r of rows) {
    const hello = rows.find((h) => h.c === r.c && h.kind === "hello");
    console.log(
      `| ${String(r.c).padEnd(2)} | ${r.kind.padEnd(13)} | ${r.rps.toFixed(0).padStart(5)} | ${f(r.p50)} | ${f(r.p99)} | ${(r.p50 / hello.p50).toFixed(1).padStart(11)}× | ${r.n} | ${r.errors}${r.exhausted ? " (codes ran out)" : ""} |`,
    );
  }

  // Signing cost per algorithm: N signatures inside one request, minus a hello round trip.
  const N = 200;
  const hello = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await (await fetch(`${ORIGIN}/__bench/hello`)).text();
    hello.push(performance.now() - t0);
  }
  hello.sort((a, b) => a - b);
  const base = hello[15];
  console.log(`\n| alg   | µs per signature (median of 7 × ${N}) |`);
  console.log("|-------|------------------------------------:|");
  for (const [slug, alg] of [["bench", "RS256"], ["bench-es", "ES256"], ["bench-ed", "EdDSA"]]) {
    await (await fetch(`${ORIGIN}/__bench/sign?slug=${slug}&n=5`)).text(); // creates and caches the key
    const runs = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const res = await fetch(`${ORIGIN}/__bench/sign?slug=${slug}&n=${N}`);
      const token = await res.text();
      if (!res.ok || JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).alg !== alg) throw new Error(`sign ${alg}: ${res.status} ${token}`);
      runs.push(((performance.now() - t0 - base) * 1000) / N);
    }
    runs.sort((a, b) => a - b);
    console.log(`| ${alg.padEnd(5)} | ${runs[3].toFixed(0).padStart(35)} |`);
  }
  const reuse = await db.prepare("SELECT count(*) AS n FROM events WHERE type = 'refresh_token.reuse_detected'").first("n");
  console.log(`\nreuse events: ${reuse} (must be 0); total ${((performance.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await mf.dispose();
}
