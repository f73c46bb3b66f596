// Records a hand-written migration in drizzle's journal and snapshot, so the next
// `npm run db:generate` diffs against it. Usage: npm run db:snapshot -- 0003_my_change
// It asks drizzle-kit what it would generate from schema/tables.ts over the migrations
// before this one, checks the hand-written file contains each of those statements, and
// copies drizzle's snapshot and journal entry. Run it after changing tables.ts.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const name = process.argv[2];
if (!name || !/^\d{4}_[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:snapshot -- NNNN_name (a file schema/migrations/NNNN_name.sql)");
  process.exit(2);
}
const dir = "schema/migrations";
const work = ".wrangler/db-snapshot";
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(dir, join(work, "migrations"), { recursive: true });
rmSync(join(work, "migrations", `${name}.sql`));
const journalPath = join(work, "migrations", "meta", "_journal.json");
const journal = JSON.parse(readFileSync(journalPath, "utf8"));
journal.entries = journal.entries.filter((e) => e.tag !== name);
writeFileSync(journalPath, JSON.stringify(journal, null, 2));
const idx = name.slice(0, 4);
for (const f of readdirSync(join(work, "migrations", "meta"))) if (f.startsWith(`${idx}_`)) rmSync(join(work, "migrations", "meta", f));
writeFileSync(join(work, "drizzle.config.ts"), `import { defineConfig } from "drizzle-kit";\nexport default defineConfig({ dialect: "sqlite", schema: "./schema/tables.ts", out: "./${work}/migrations" });\n`);
// drizzle-kit numbers what it generates by count, not by the reserved number in `name`.
const before = new Set(readdirSync(join(work, "migrations")));
execFileSync("npx", ["drizzle-kit", "generate", "--config", join(work, "drizzle.config.ts"), "--name", name.slice(5)], { stdio: ["ignore", "ignore", "inherit"] });
const generated = readdirSync(join(work, "migrations")).find((f) => !before.has(f) && f.endsWith(".sql"));
if (!generated) {
  console.error(`drizzle-kit generated nothing for ${name}: tables.ts matches the migrations before it.`);
  process.exit(1);
}
const flat = (s) => s.replace(/\s+/g, " ").trim();
const mine = flat(readFileSync(join(dir, `${name}.sql`), "utf8"));
const missing = readFileSync(join(work, "migrations", generated), "utf8")
  .split("--> statement-breakpoint")
  .map(flat)
  .filter((statement) => statement && !mine.includes(statement.replace(/;$/, "")));
if (missing.length) {
  console.error(`${name}.sql lacks what tables.ts implies:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
const out = JSON.parse(readFileSync(journalPath, "utf8"));
const entry = out.entries.find((e) => e.tag === generated.replace(/\.sql$/, ""));
entry.tag = name;
entry.idx = Number(idx);
const real = JSON.parse(readFileSync(join(dir, "meta", "_journal.json"), "utf8"));
real.entries = [...real.entries.filter((e) => e.tag !== name), entry].sort((a, b) => a.idx - b.idx);
writeFileSync(join(dir, "meta", "_journal.json"), JSON.stringify(real, null, 2) + "\n");
cpSync(join(work, "migrations", "meta", `${generated.slice(0, 4)}_snapshot.json`), join(dir, "meta", `${idx}_snapshot.json`));
console.log(`recorded ${name} in drizzle's journal and snapshot`);
