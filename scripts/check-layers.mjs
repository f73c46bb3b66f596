// The layering rule of the README's architecture, checked: a face (one wire surface) never
// imports another face, and nothing below the faces imports a face. Only the composition
// root (worker/app.ts, worker/index.ts) sees every face. Exits 1 and names each offending
// import. `npm run check:layers`; .ci/run runs it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const worker = join(root, "worker");

/** One directory under worker/ per face. */
export const FACES = ["kinvey", "data", "oauth", "browser", "manage", "passkeys", "admin", "console", "account", "upstream", "dev"];
const ROOTS = new Set(["app.ts", "index.ts"]);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The top-level part of worker/ a file belongs to: a face, a lower module, or the root. */
function partOf(path) {
  const rel = relative(worker, path).split("/");
  return rel.length === 1 ? rel[0] : rel[0];
}

const IMPORT = /(?:^|\n)\s*(?:import|export)[^"'`;]*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;
const problems = [];
for (const file of files(worker)) {
  const from = partOf(file);
  if (ROOTS.has(from)) continue;
  const text = readFileSync(file, "utf8");
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2];
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(worker + "/")) continue;
    const to = partOf(target);
    if (to === from || !FACES.includes(to)) continue;
    const why = FACES.includes(from) ? `face ${from} imports face ${to}` : `lower module ${from} imports face ${to}`;
    problems.push(`${relative(root, file)}: ${why} (${spec})`);
  }
}

if (problems.length) {
  console.error(`Layering: ${problems.length} import(s) break the rule (README "Architecture"):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`Layering: no face imports another face, and no lower module imports a face.`);
