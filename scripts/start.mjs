// `npm start`: local secrets, migrations, the demo seed, then `wrangler dev` on 127.0.0.1:8787.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedSql } from "./seed.mjs";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const wrangler = (...args) => execFileSync("npx", ["wrangler", ...args], { stdio: ["ignore", "inherit", "inherit"], env });

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example");
}
wrangler("d1", "migrations", "apply", "latch", "--local");

const file = join(mkdtempSync(join(tmpdir(), "latch-seed-")), "seed.sql");
writeFileSync(file, seedSql());
wrangler("d1", "execute", "latch", "--local", "--file", file);
console.log("seeded the demo app (see README: Demo credentials)");

const dev = spawn("npx", ["wrangler", "dev", "--ip", "127.0.0.1", "--port", "8787"], { stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));
