// The node test project starts the real worker with a persisted local D1; this applies
// the migrations to that state directory first (the workers project applies its own).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

const state = ".wrangler/test-state";
rmSync(state, { recursive: true, force: true });
execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "latch", "--local", "--persist-to", state], {
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
});
