// The token endpoint side by side: Latch, OpenAuth 0.4.3 and workers-oauth-provider 1.2.3, each
// served by Miniflare from this harness and loaded by the same wrk, in one run.
//   node bench/oauth.mjs           (about 2 minutes; DURATION_MS=3000 per cell, LEVELS=1,4)
// Cells per concurrency C (C wrk connections, one thread each; see bench/README.md):
//   hello                GET /__bench/hello on the Latch worker: the ceiling
//   d1                   GET /__bench/d1: one D1 round trip (SELECT 1), for the breakdown
//   code  latch-rs/-es   POST /oauth2/token authorization_code, public client + PKCE S256,
//                        scope "openid profile email": access + ID token (RS256 / ES256 app)
//         openauth, wop  POST /token authorization_code, public client + PKCE S256
//   refresh latch-rs/-es POST /oauth2/token refresh_token (access + ID token, real chains)
//         openauth, wop  POST /token refresh_token
//   client_creds         Latch, m2m client, client_secret_basic, RS256
//   code+offline         Latch RS256: the exchange also starts a refresh chain
// Refresh tokens are per connection in wrk's Lua (each answer's refresh_token is the
// connection's next request); codes are a pool split over the connections, each used once.
import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { request as httpRequest } from "node:http";
import { printProfile, startProfile } from "./lib/profile.mjs";
import { adminHeaders, applyMigrations, basicAuth, bundle, fetchRetry, fmt, jsonClient, latchCounters, loadColumns, machineLine, measure, printTable, processCpuMs, requireWrk, startMiniflare } from "./lib/harness.mjs";

requireWrk();
const LEVELS = (process.env.LEVELS ?? "1,4").split(",").map(Number);
const SECONDS = Math.max(1, Math.round(Number(process.env.DURATION_MS ?? 3000) / 1000));
const REDIRECT = "http://localhost:3000/callback";
const started = performance.now();

/** node:http, because fetch will not send a Host header of our choosing (apps are chosen by Host). */
function hostRequest(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const log = (...a) => console.log(`[${((performance.now() - started) / 1000).toFixed(1)}s]`, ...a);
const verifier = randomBytes(32).toString("base64url");
const challenge = createHash("sha256").update(verifier).digest("base64url");
const FORM = { "Content-Type": "application/x-www-form-urlencoded" };

// Code pools are sized from the same system's refresh rate at the same C, measured just before:
// three times what the warm-up and the cell would use at that rate (OpenAuth exchanges codes
// up to 1.6× faster than it refreshes, which ran a pool of twice dry), still small enough that
// making codes (KV writes for the peers) does not dominate the run. A cell that runs out
// says so in its errors column. CODE_POOL=n fixes the size instead.
const POOL = process.env.CODE_POOL ? Number(process.env.CODE_POOL) : null;

const [latchPath, openauthPath, wopPath] = await Promise.all([bundle("bench/bench-worker.ts"), bundle("bench/peers/openauth-worker.ts"), bundle("bench/peers/wop-worker.ts")]);
// PROFILE="code:latch RS256" (scenario:system) also takes a V8 CPU profile of that cell in the
// Latch worker through Miniflare's inspector port and prints where the time went.
const PROFILE = process.env.PROFILE;
const INSPECTOR = 9229 + (process.pid % 500);
const latch = await startMiniflare({ scriptPath: latchPath, options: PROFILE ? { inspectorPort: INSPECTOR } : {} });
const openauth = await startMiniflare({ scriptPath: openauthPath, latch: false, options: { kvNamespaces: ["KV"] } });
const wop = await startMiniflare({ scriptPath: wopPath, latch: false, options: { kvNamespaces: ["OAUTH_KV"] } });
try {
  await applyMigrations(latch.db);
  const json = jsonClient(latch.origin);
  const post = (path, body, headers = adminHeaders) => json(path, { method: "POST", headers, body: JSON.stringify(body) });

  // --- Latch: two apps (RS256 default, ES256), each with a public client, a user signed in
  // through the hosted page (the session codes are bound to), and chains for refresh cells.
  async function latchApp(slug, alg) {
    const app = await post("/admin/apps", { name: slug, slug, ...(alg === "RS256" ? {} : { settings: { signing_alg: alg } }) });
    const host = `${slug}.localhost:8787`;
    const spa = await post(`/admin/apps/${app.id}/clients`, { name: "spa", type: "public", redirect_uris: [REDIRECT] });
    const user = await json(`/user/${app.id}`, {
      method: "POST",
      headers: { Authorization: basicAuth(app.id, app.app_secret), "Content-Type": "application/json" },
      body: JSON.stringify({ username: "bench", password: "bench password 1", email: "bench@bench.test" }),
    });
    const authorize = `/oauth2/auth?${new URLSearchParams({ response_type: "code", client_id: spa.client_id, redirect_uri: REDIRECT, scope: "openid", code_challenge: challenge, code_challenge_method: "S256" })}`;
    const page = await hostRequest(`${latch.origin}${authorize}`, { headers: { host } });
    const cookie = [page.headers["set-cookie"] ?? []].flat().map((c) => c.split(";")[0]).join("; ");
    const form = new URLSearchParams();
    for (const [, name, value] of page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form.append(name, value.replace(/&amp;/g, "&"));
    form.set("username", "bench");
    form.set("password", "bench password 1");
    const posted = await hostRequest(`${latch.origin}/oauth2/auth`, { method: "POST", headers: { host, cookie, ...FORM }, body: form.toString() });
    if (posted.status !== 303) throw new Error(`hosted login (${slug}): ${posted.status} ${posted.text.slice(0, 300)}`);
    const session = await latch.db.prepare("SELECT id FROM sessions WHERE user_id = ? AND kind = 'browser'").bind(user._id).first();
    // One user (one RefreshChains object) per refresh connection, like independent devices.
    const chains = async (n) => {
      const out = [];
      const now = Date.now();
      for (let i = 0; i < n; i++) {
        const userId = `${slug}-chain-${out.length}-${randomBytes(4).toString("hex")}`;
        await latch.db
          .prepare("INSERT INTO users (id, app_id, username, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, 'unused', ?, ?)")
          .bind(userId, app.id, userId, `${userId}@bench.test`, now, now)
          .run();
        out.push((await post("/__bench/start", { appId: app.id, userId, clientId: spa.client_id }, {})).refreshToken);
      }
      return out;
    };
    const codes = (scope, n) => post("/__bench/codes", { n, appId: app.id, clientId: spa.client_id, userId: user._id, sessionId: session.id, redirectUri: REDIRECT, challenge, scope }, {});
    return { app, host, spa, codes, chains };
  }
  const rs = await latchApp("bench", "RS256");
  const es = await latchApp("bench-es", "ES256");
  const m2m = await post(`/admin/apps/${rs.app.id}/clients`, { name: "svc", type: "m2m", scopes: ["read:users"] });

  // --- the peers: a public client each; codes from their own authorization paths.
  const wopClient = (await (await fetchRetry(`${wop.origin}/__bench/client?redirect_uri=${encodeURIComponent(REDIRECT)}`)).json()).clientId;
  const peers = {
    openauth: { mf: openauth, clientId: "bench-client", token: "/token" },
    wop: { mf: wop, clientId: wopClient, token: "/token" },
  };
  const peerCodes = async (peer, n) => {
    const res = await fetchRetry(`${peer.mf.origin}/__bench/codes?${new URLSearchParams({ n: String(n), challenge, client_id: peer.clientId, redirect_uri: REDIRECT })}`);
    if (!res.ok) throw new Error(`codes: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const peerChains = async (peer, n) => {
    const out = [];
    for (const code of await peerCodes(peer, n)) {
      const res = await fetchRetry(`${peer.mf.origin}${peer.token}`, {
        method: "POST",
        headers: FORM,
        body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, client_id: peer.clientId, code_verifier: verifier }),
      });
      const body = await res.json();
      if (!body.refresh_token) throw new Error(`peer code exchange: ${res.status} ${JSON.stringify(body)}`);
      out.push(body.refresh_token);
    }
    return out;
  };
  log(`three workers up; ${machineLine()}`);

  // --- cells ------------------------------------------------------------------------------
  const codeBody = (clientId) => new URLSearchParams({ grant_type: "authorization_code", code: "CODE", redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier }).toString().replace("CODE", "{item}");
  const refreshBody = (clientId) => `grant_type=refresh_token&client_id=${encodeURIComponent(clientId)}&refresh_token={item}`;
  const latchCell = (app) => ({ mf: latch, headers: { ...FORM, Host: app.host }, path: "/oauth2/token" });
  const cells = [
    { scenario: "hello", system: "latch", make: async () => ({ mf: latch, request: { path: "/__bench/hello" } }) },
    { scenario: "d1", system: "latch", make: async () => ({ mf: latch, request: { path: "/__bench/d1" } }) },
    ...[
      ["latch RS256", rs],
      ["latch ES256", es],
    ].map(([system, app]) => ({
      scenario: "refresh",
      system,
      make: async (c) => ({ mf: latch, mode: "rotate", field: "refresh_token", items: await app.chains(c), request: { method: "POST", path: "/oauth2/token", headers: latchCell(app).headers, body: refreshBody(app.spa.client_id) } }),
    })),
    // The chain machinery alone (rotateChain over DO RPC, no tokens minted): the floor table's.
    {
      scenario: "rotate",
      system: "latch",
      make: async (c) => ({
        mf: latch,
        mode: "rotate",
        field: "refresh_token",
        items: await rs.chains(c),
        request: { method: "POST", path: "/__bench/rotate", headers: FORM, body: `app_id=${rs.app.id}&client_id=${encodeURIComponent(rs.spa.client_id)}&refresh_token={item}` },
      }),
    },
    ...Object.entries(peers).map(([system, peer]) => ({
      scenario: "refresh",
      system,
      make: async (c) => ({ mf: peer.mf, mode: "rotate", field: "refresh_token", items: await peerChains(peer, c), request: { method: "POST", path: peer.token, headers: FORM, body: refreshBody(peer.clientId) } }),
    })),
    ...[
      ["latch RS256", rs],
      ["latch ES256", es],
    ].map(([system, app]) => ({
      scenario: "code",
      system,
      make: async (c) => ({ mf: latch, mode: "consume", items: await app.codes("openid profile email", pool(c, system)), request: { method: "POST", path: "/oauth2/token", headers: latchCell(app).headers, body: codeBody(app.spa.client_id) } }),
    })),
    ...Object.entries(peers).map(([system, peer]) => ({
      scenario: "code",
      system,
      make: async (c) => ({ mf: peer.mf, mode: "consume", items: await peerCodes(peer, pool(c, system)), request: { method: "POST", path: peer.token, headers: FORM, body: codeBody(peer.clientId) } }),
    })),
    {
      scenario: "client_creds",
      system: "latch RS256",
      make: async () => ({ mf: latch, request: { method: "POST", path: "/oauth2/token", headers: { ...latchCell(rs).headers, Authorization: basicAuth(m2m.client_id, m2m.client_secret) }, body: "grant_type=client_credentials" } }),
    },
    {
      scenario: "code+offline",
      system: "latch RS256",
      make: async (c) => ({ mf: latch, mode: "consume", items: await rs.codes("openid profile email offline", pool(c, "latch RS256")), request: { method: "POST", path: "/oauth2/token", headers: latchCell(rs).headers, body: codeBody(rs.spa.client_id) } }),
    },
  ];

  const rows = [];
  const pool = (c, system) => {
    if (POOL) return POOL;
    const refresh = rows.find((r) => r.c === c && r.scenario === "refresh" && r.system === system);
    return Math.min(6000, Math.max(300, Math.ceil(3 * (SECONDS + 1) * (refresh?.rps ?? 500))));
  };
  for (const c of LEVELS) {
    for (const cell of cells) {
      const { mf, ...opts } = await cell.make(c);
      const profiling = PROFILE === `${cell.scenario}:${cell.system}` ? await startProfile(INSPECTOR) : null;
      const r = await measure({ origin: mf.origin, workerdPid: mf.workerdPid, concurrency: c, seconds: SECONDS, ...(mf === latch && !["hello", "d1", "rotate"].includes(cell.scenario) ? { counters: latchCounters(latch.origin) } : {}), ...opts });
      if (profiling) printProfile(await profiling(), r.n);
      rows.push({ c, scenario: cell.scenario, system: cell.system, ...r });
      log(`C=${c} ${cell.scenario} ${cell.system}: ${fmt.int(r.rps)} req/s, p50 ${fmt.ms(r.p50)} ms, workerd ${fmt.cpu(r.workerdCpuMs)} ms/req${r.errors ? `, ${r.errors} errors` : ""}`);
    }
  }
  const hello = (r) => rows.find((h) => h.c === r.c && h.scenario === "hello");
  const peerRow = (r, system) => rows.find((x) => x.c === r.c && x.scenario === r.scenario && x.system === system);
  const vs = (system) => [`÷ ${system} req/s`, (r) => (r.system.startsWith("latch") && peerRow(r, system) ? fmt.ratio(r.rps / peerRow(r, system).rps) : "")];
  console.log(`\n${machineLine(`${SECONDS} s per cell after 1 s warm-up`)}`);
  printTable([["C", (r) => String(r.c)], ["scenario", (r) => r.scenario], ["system", (r) => r.system], ...loadColumns(hello), vs("openauth"), vs("wop")], rows);

  // Signing cost per algorithm: N signatures inside one request. workerd CPU over 3 × N
  // (what the breakdown uses: it does not grow with the machine's load) and, for reference,
  // the median wall time of one such request minus a hello round trip.
  await post("/admin/apps", { name: "bench-ed", slug: "bench-ed", settings: { signing_alg: "EdDSA" } });
  const N = 200;
  const timed = async (path) => {
    const t0 = performance.now();
    const res = await fetchRetry(`${latch.origin}${path}`);
    return { ms: performance.now() - t0, res, text: await res.text() };
  };
  const helloMs = [];
  for (let i = 0; i < 30; i++) helloMs.push((await timed("/__bench/hello")).ms);
  const base = helloMs.sort((a, b) => a - b)[15];
  const signRows = [];
  for (const [slug, alg] of [["bench", "RS256"], ["bench-es", "ES256"], ["bench-ed", "EdDSA"]]) {
    await timed(`/__bench/sign?slug=${slug}&n=5`); // creates and caches the key
    const runs = [];
    const cpu0 = processCpuMs(latch.workerdPid);
    for (let i = 0; i < 3; i++) {
      const { ms, res, text } = await timed(`/__bench/sign?slug=${slug}&n=${N}`);
      if (!res.ok || JSON.parse(Buffer.from(text.split(".")[0], "base64url").toString()).alg !== alg) throw new Error(`sign ${alg}: ${res.status} ${text}`);
      runs.push(((ms - base) * 1000) / N);
    }
    const cpuUs = ((processCpuMs(latch.workerdPid) - cpu0) * 1000) / (3 * N);
    signRows.push({ alg, us: cpuUs, wallUs: runs.sort((a, b) => a - b)[1] });
  }
  console.log();
  printTable([["alg", (r) => r.alg], [`workerd CPU µs per signature (3 × ${N})`, (r) => r.us.toFixed(0)], ["wall µs (median of 3)", (r) => r.wallUs.toFixed(0)]], signRows);

  // Where the code exchange's workerd CPU goes, by difference between cells of this run (C=1):
  // client_creds is the same HTTP path, form, cached client and one signature without the
  // exchange; code+offline adds only the chain start; signatures are timed alone above.
  const at = (scenario, system) => rows.find((r) => r.c === LEVELS[0] && r.scenario === scenario && r.system === system)?.workerdCpuMs;
  const sig = (alg) => signRows.find((r) => r.alg === alg).us / 1000;
  const parts = [
    ["process floor (hello: workerd's HTTP and Miniflare's entry worker)", at("hello", "latch")],
    ["token endpoint: routing, form, cached client, JSON (client_creds − hello − 1 RS256 signature)", at("client_creds", "latch RS256") - at("hello", "latch") - sig("RS256")],
    ["two RS256 signatures (access + ID token)", 2 * sig("RS256")],
    ["the exchange: one D1 batch (consume + user, claims, session), PKCE, claims (code − client_creds − 1 RS256 signature)", at("code", "latch RS256") - at("client_creds", "latch RS256") - sig("RS256")],
    ["  of which one D1 round trip alone (d1 − hello)", at("d1", "latch") - at("hello", "latch")],
    ["with offline: the chain start (index + code record batch, the object's SQLite commit) (code+offline − code)", at("code+offline", "latch RS256") - at("code", "latch RS256")],
  ];
  console.log(`\nCode exchange, workerd CPU ms per request by part (C=${LEVELS[0]}, this run; code RS256 = ${fmt.cpu(at("code", "latch RS256"))} ms):`);
  printTable([["part", (p) => p[0]], ["ms", (p) => fmt.cpu(p[1])]], parts);

  // The RS256 targets against what no code can go below, by workerd CPU at the highest C: the
  // HTTP floor, the chain's rotation or the one D1 round trip (measured above), and two RSA
  // signatures (timed above). A target by CPU: Latch's CPU ≤ the peer's ÷ the ratio.
  const top = LEVELS[LEVELS.length - 1];
  const cpu = (scenario, system) => rows.find((r) => r.c === top && r.scenario === scenario && r.system === system)?.workerdCpuMs;
  const floors = [
    { target: "refresh RS256 ≥ 2× both peers", floor: cpu("rotate", "latch") + 2 * sig("RS256"), floorText: "rotate + 2 RS256 signatures", need: Math.min(cpu("refresh", "openauth"), cpu("refresh", "wop")) / 2, now: cpu("refresh", "latch RS256") },
    { target: "code RS256 ≥ 1.5× OpenAuth", floor: cpu("d1", "latch") + 2 * sig("RS256"), floorText: "d1 (HTTP + one D1 trip) + 2 RS256 signatures", need: cpu("code", "openauth") / 1.5, now: cpu("code", "latch RS256") },
  ];
  console.log(`\nRS256 targets against their floor (workerd CPU ms per request, C=${top}, this run):`);
  printTable(
    [
      ["target", (f) => f.target],
      ["Latch now", (f) => fmt.cpu(f.now)],
      ["floor", (f) => `${fmt.cpu(f.floor)} (${f.floorText})`],
      ["the target needs at most", (f) => fmt.cpu(f.need)],
      ["left for the rest (needs − floor)", (f) => fmt.cpu(f.need - f.floor)],
      ["the rest now (Latch − floor)", (f) => fmt.cpu(f.now - f.floor)],
    ],
    floors,
  );
  const openssl = opensslSignUs();
  if (openssl) console.log(`Native OpenSSL on this machine (openssl speed): RSA-2048 ${openssl.rsa} µs, ECDSA P-256 ${openssl.ecdsa} µs per signature; workerd above: RS256 ${sig("RS256") * 1000 | 0} µs, ES256 ${sig("ES256") * 1000 | 0} µs.`);

  const reuse = await latch.db.prepare("SELECT count(*) AS n FROM events WHERE type = 'refresh_token.reuse_detected'").first("n");
  console.log(`\nLatch reuse events: ${reuse} (must be 0); ${machineLine()}; total ${((performance.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await Promise.all([latch.dispose(), openauth.dispose(), wop.dispose()]);
}

/** µs per signature by the machine's own OpenSSL, for comparison with workerd's; null without openssl. */
function opensslSignUs() {
  try {
    const out = execFileSync("openssl", ["speed", "-seconds", "1", "rsa2048", "ecdsap256"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    // Columns: sign s, verify s, sign/s, verify/s; sign/s keeps its precision for fast algorithms.
    const perSign = (re) => {
      const m = out.match(re);
      return m ? Math.round(1e6 / Number(m[1])) : null;
    };
    const rsa = perSign(/^rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)/m);
    const ecdsa = perSign(/^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)/m);
    return rsa && ecdsa ? { rsa, ecdsa } : null;
  } catch {
    return null;
  }
}
