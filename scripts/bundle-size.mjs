// Builds the Worker as `wrangler deploy` would (the top-level environment, nothing uploaded)
// and reports its gzip size; exits 1 above Cloudflare's 3 MiB (gzip) limit for a Worker on
// the Free plan, so the bundle cannot outgrow a deployment unnoticed. `npm run bundle:size`;
// .ci/run runs it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const LIMIT = 3 * 1024 * 1024;
const out = mkdtempSync(join(tmpdir(), "latch-bundle-"));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

try {
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--env=", "--outdir", out], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  // The modules wrangler would upload (it also writes a source map and a README there).
  const code = files(out).filter((f) => /\.(js|mjs|cjs|wasm)$/.test(f));
  const raw = code.reduce((n, f) => n + statSync(f).size, 0);
  const gzip = code.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  const mib = (n) => `${(n / 1024 / 1024).toFixed(2)} MiB`;
  console.log(`Bundle: ${code.length} file(s), ${mib(raw)} raw, ${mib(gzip)} gzip (limit ${mib(LIMIT)} gzip).`);
  if (gzip > LIMIT) {
    console.error(`Bundle: ${mib(gzip)} gzip is over the ${mib(LIMIT)} limit.`);
    process.exitCode = 1;
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
