// The Node test project starts real workers with persisted local D1 (test/node/harness.ts);
// this applies the migrations to their state directories first (the workers project
// applies its own).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

for (const state of [".wrangler/test-state", ".wrangler/test-state-own"]) {
  rmSync(state, { recursive: true, force: true });
  execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "latch", "--local", "--env", "dev", "--persist-to", state], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
  });
}
