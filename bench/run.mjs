// All four benchmarks, one after another (never in parallel: they would measure each other).
//   npm run bench                 (about 6 minutes; wrk is the load generator)
//   npm run bench -- oauth data   only those, in that order
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";

const ALL = ["oauth", "refresh", "data", "password-hash", "failed-login"];
const chosen = process.argv.length > 2 ? process.argv.slice(2) : ALL;
const unknown = chosen.filter((name) => !ALL.includes(name));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(", ")} (have: ${ALL.join(", ")})`);
  process.exit(2);
}
let failed = 0;
for (const name of chosen) {
  console.log(`\n=== bench/${name}.mjs (load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}) ===`);
  const { status } = spawnSync(process.execPath, [fileURLToPath(new URL(`${name}.mjs`, import.meta.url))], { stdio: "inherit" });
  if (status !== 0) {
    console.error(`bench/${name}.mjs exited with ${status}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
