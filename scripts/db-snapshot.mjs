// Keeps drizzle-kit's bookkeeping (schema/migrations/meta) true after hand-written
// migrations, so `npm run db:generate` diffs against the real schema. `npm run db:snapshot`.
//
// Migrations from BASE on were written by hand (they move data, add triggers, or were written
// on branches in parallel), so their snapshots cannot come from drizzle-kit one by one. This:
// 1. asks drizzle-kit what schema/tables.ts adds to the last snapshot it made itself (BASE),
// 2. checks that every statement of that diff stands in one of the hand-written migrations
//    (tables.ts and the SQL agree: a failure names what a migration lacks),
// 3. rewrites the journal (one entry per .sql file, in name order) and the snapshots after
//    BASE as a chain whose last one is tables.ts's schema.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The last migration whose snapshot drizzle-kit wrote from tables.ts itself. */
const BASE = "0003";
const dir = "schema/migrations";
const meta = join(dir, "meta");
const work = ".wrangler/db-snapshot";

const sqlFiles = readdirSync(dir).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
const handWritten = sqlFiles.filter((f) => f.slice(0, 4) > BASE);
const journal = JSON.parse(readFileSync(join(meta, "_journal.json"), "utf8"));
const baseEntries = journal.entries.filter((e) => e.tag.slice(0, 4) <= BASE).sort((a, b) => a.idx - b.idx);

rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, "migrations", "meta"), { recursive: true });
for (const e of baseEntries) {
  cpSync(join(dir, `${e.tag}.sql`), join(work, "migrations", `${e.tag}.sql`));
  cpSync(join(meta, `${e.tag.slice(0, 4)}_snapshot.json`), join(work, "migrations", "meta", `${e.tag.slice(0, 4)}_snapshot.json`));
}
writeFileSync(join(work, "migrations", "meta", "_journal.json"), JSON.stringify({ ...journal, entries: baseEntries }, null, 2));
writeFileSync(join(work, "drizzle.config.ts"), `import { defineConfig } from "drizzle-kit";\nexport default defineConfig({ dialect: "sqlite", schema: "./schema/tables.ts", out: "./${work}/migrations" });\n`);
execFileSync("npx", ["drizzle-kit", "generate", "--config", join(work, "drizzle.config.ts"), "--name", "current"], { stdio: ["ignore", "ignore", "inherit"] });

const generated = readdirSync(join(work, "migrations")).find((f) => f.endsWith("_current.sql"));
const flat = (s) => s.replace(/\s+/g, " ").replace(/;\s*$/, "").trim();
if (generated) {
  const written = handWritten.map((f) => flat(readFileSync(join(dir, f), "utf8"))).join(" ");
  const missing = readFileSync(join(work, "migrations", generated), "utf8")
    .split("--> statement-breakpoint")
    .map(flat)
    .filter((statement) => statement && !written.includes(statement));
  if (missing.length) {
    console.error(`tables.ts implies statements no migration after ${BASE} contains:\n  ${missing.join("\n  ")}`);
    process.exit(1);
  }
} else if (handWritten.length) {
  console.error(`tables.ts matches migration ${BASE}, yet ${handWritten.join(", ")} follow it: add their tables and columns to tables.ts.`);
  process.exit(1);
}

// The journal: every migration once, in order.
const when = new Map(journal.entries.map((e) => [e.tag, e.when]));
journal.entries = sqlFiles.map((f, idx) => {
  const tag = f.replace(/\.sql$/, "");
  return { idx, version: "6", when: when.get(tag) ?? Date.now(), tag, breakpoints: true };
});
writeFileSync(join(meta, "_journal.json"), JSON.stringify(journal, null, 2) + "\n");

// The snapshots after BASE: a chain ending in tables.ts's schema (the ones between carry it too).
const current = generated
  ? JSON.parse(readFileSync(join(work, "migrations", "meta", `${generated.slice(0, 4)}_snapshot.json`), "utf8"))
  : JSON.parse(readFileSync(join(meta, `${BASE}_snapshot.json`), "utf8"));
for (const f of readdirSync(meta)) if (/^\d{4}_snapshot\.json$/.test(f) && f.slice(0, 4) > BASE) rmSync(join(meta, f));
let prevId = JSON.parse(readFileSync(join(meta, `${BASE}_snapshot.json`), "utf8")).id;
for (const f of handWritten) {
  const id = crypto.randomUUID();
  writeFileSync(join(meta, `${f.slice(0, 4)}_snapshot.json`), JSON.stringify({ ...current, id, prevId }, null, 2) + "\n");
  prevId = id;
}
console.log(`drizzle's journal lists ${sqlFiles.length} migrations; tables.ts agrees with ${handWritten.join(", ") || "them"}`);
