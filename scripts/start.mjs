// `npm start`: local secrets, migrations, `wrangler dev` (the `dev` environment) on
// 127.0.0.1:8787, then the demo seed through the worker's own dev-only seed route.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const ORIGIN = "http://127.0.0.1:8787";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example");
}
execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "latch", "--local", "--env", "dev"], { stdio: ["ignore", "inherit", "inherit"], env });

const dev = spawn("npx", ["wrangler", "dev", "--env", "dev", "--ip", "127.0.0.1", "--port", "8787"], { stdio: "inherit", env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));

const adminToken = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();
for (let attempt = 0; attempt < 120; attempt++) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  try {
    const res = await fetch(`${ORIGIN}/admin/dev/seed`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}` } });
    if (!res.ok) throw new Error(`seed: ${res.status} ${await res.text()}`);
    const { seeded } = await res.json();
    console.log(`demo app ready on ${ORIGIN} (${seeded.length ? `seeded ${seeded.join(", ")}` : "already seeded"}; README: Demo credentials)`);
    break;
  } catch (err) {
    if (!(err instanceof TypeError)) {
      console.error(String(err));
      break;
    }
  }
}
