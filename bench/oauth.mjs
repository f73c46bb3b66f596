// OAuth token endpoint throughput and latency beside a hello-world ceiling, in one Miniflare run,
// plus the cost of signing one token per algorithm.
//   node bench/oauth.mjs            (about 60 s; DURATION_MS=… per cell, LEVELS=1,16)
// Cells, each at concurrency C in closed loops on bench/bench-worker.ts (see bench/README.md):
//   hello        GET /__bench/hello (same worker, same isolate): the ceiling
//   client_creds POST /oauth2/token grant_type=client_credentials, client_secret_basic
//   code         POST /oauth2/token grant_type=authorization_code, public client + PKCE S256,
//                scope "openid profile email" (access + ID token, no refresh chain)
//   code+offline the same with "offline": also starts a refresh chain (D1 index + Durable Object)
// Codes: one real hosted login makes the browser session; a bench-only route then inserts codes
// bound to it straight into auth_codes (no form post per code); each is consumed once.
import { createHash, randomBytes } from "node:crypto";
import { adminHeaders, applyMigrations, basicAuth, bundle, jsonClient, loadColumns, machineLine, measure, printTable, startMiniflare } from "./lib/harness.mjs";

const LEVELS = (process.env.LEVELS ?? "1,16").split(",").map(Number);
const SECONDS = Number(process.env.DURATION_MS ?? 4000) / 1000;
const CODES_PER_CELL = 3000;
const REDIRECT = "http://localhost:3000/callback";
const started = performance.now();

const { origin, db, workerdPid, dispose } = await startMiniflare({ scriptPath: await bundle("bench/bench-worker.ts") });
try {
  await applyMigrations(db);
  const json = jsonClient(origin);
  const post = (path, body) => json(path, { method: "POST", headers: adminHeaders, body: JSON.stringify(body) });
  const app = await post("/admin/apps", { name: "Bench", slug: "bench" });
  const spa = await post(`/admin/apps/${app.id}/clients`, { name: "spa", type: "public", redirect_uris: [REDIRECT] });
  const m2m = await post(`/admin/apps/${app.id}/clients`, { name: "svc", type: "m2m", scopes: ["read:users", "create:users"] });
  for (const [slug, alg] of [["bench-es", "ES256"], ["bench-ed", "EdDSA"]]) await post("/admin/apps", { name: slug, slug, settings: { signing_alg: alg } });

  // One real sign-in through the hosted page, for a real browser session to bind codes to.
  const user = await json(`/user/${app.id}`, {
    method: "POST",
    headers: { Authorization: basicAuth(app.id, app.app_secret), "Content-Type": "application/json" },
    body: JSON.stringify({ username: "bench", password: "bench password 1", email: "bench@bench.test" }),
  });
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorize = `/oauth2/auth?${new URLSearchParams({ response_type: "code", client_id: spa.client_id, redirect_uri: REDIRECT, scope: "openid", code_challenge: challenge, code_challenge_method: "S256" })}`;
  const page = await fetch(`${origin}${authorize}`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const form = new URLSearchParams();
  for (const [, name, value] of (await page.text()).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form.append(name, value.replace(/&amp;/g, "&"));
  form.set("username", "bench");
  form.set("password", "bench password 1");
  const posted = await fetch(`${origin}/oauth2/auth`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin }, body: form });
  if (posted.status !== 303) throw new Error(`hosted login: ${posted.status} ${await posted.text()}`);
  const session = await db.prepare("SELECT id FROM sessions WHERE user_id = ? AND kind = 'browser'").bind(user._id).first();

  const makeCodes = (scope) =>
    json("/__bench/codes", { method: "POST", body: JSON.stringify({ n: CODES_PER_CELL, appId: app.id, clientId: spa.client_id, userId: user._id, sessionId: session.id, redirectUri: REDIRECT, challenge, scope }) });
  const form_ = { "Content-Type": "application/x-www-form-urlencoded" };
  const exchange = (pool) => () => {
    const code = pool.pop();
    if (!code) return null;
    return fetch(`${origin}/oauth2/token`, {
      method: "POST",
      headers: form_,
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: spa.client_id }),
    });
  };
  const cells = {
    hello: async () => () => fetch(`${origin}/__bench/hello`),
    client_creds: async () => () =>
      fetch(`${origin}/oauth2/token`, { method: "POST", headers: { ...form_, Authorization: basicAuth(m2m.client_id, m2m.client_secret) }, body: "grant_type=client_credentials" }),
    code: async () => exchange(await makeCodes("openid profile email")),
    "code+offline": async () => exchange(await makeCodes("openid profile email offline")),
  };

  console.log(machineLine(`${SECONDS} s per cell after 0.8 s warm-up, concurrency ${LEVELS.join(", ")}`));
  const rows = [];
  for (const c of LEVELS) {
    for (const [kind, make] of Object.entries(cells)) {
      // A fresh pool per cell: the warm-up draws from it too, codes are never reused.
      rows.push({ c, kind, ...(await measure({ concurrency: c, seconds: SECONDS, request: await make(), workerdPid })) });
    }
  }
  console.log();
  printTable([["C", (r) => String(r.c)], ["request", (r) => r.kind], ...loadColumns((r) => rows.find((h) => h.c === r.c && h.kind === "hello"))], rows);

  // Signing cost per algorithm: N signatures inside one request, minus a hello round trip.
  const N = 200;
  const timed = async (path) => {
    const t0 = performance.now();
    const res = await fetch(`${origin}${path}`);
    return { ms: performance.now() - t0, res, text: await res.text() };
  };
  const hello = [];
  for (let i = 0; i < 30; i++) hello.push((await timed("/__bench/hello")).ms);
  const base = hello.sort((a, b) => a - b)[15];
  const signRows = [];
  for (const [slug, alg] of [["bench", "RS256"], ["bench-es", "ES256"], ["bench-ed", "EdDSA"]]) {
    await timed(`/__bench/sign?slug=${slug}&n=5`); // creates and caches the key
    const runs = [];
    for (let i = 0; i < 7; i++) {
      const { ms, res, text } = await timed(`/__bench/sign?slug=${slug}&n=${N}`);
      if (!res.ok || JSON.parse(Buffer.from(text.split(".")[0], "base64url").toString()).alg !== alg) throw new Error(`sign ${alg}: ${res.status} ${text}`);
      runs.push(((ms - base) * 1000) / N);
    }
    signRows.push({ alg, us: runs.sort((a, b) => a - b)[3] });
  }
  console.log();
  printTable([["alg", (r) => r.alg], [`µs per signature (median of 7 × ${N})`, (r) => r.us.toFixed(0)]], signRows);
  const reuse = await db.prepare("SELECT count(*) AS n FROM events WHERE type = 'refresh_token.reuse_detected'").first("n");
  console.log(`\nreuse events: ${reuse} (must be 0); ${machineLine()}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await dispose();
}
