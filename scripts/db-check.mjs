// CI: schema/tables.ts and the migrations agree, so `npm run db:generate` would write nothing.
// (A hand-written migration needs `npm run db:snapshot` to bring drizzle's snapshot along.)
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const work = ".wrangler/db-check";
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync("schema/migrations", join(work, "migrations"), { recursive: true });
writeFileSync(join(work, "drizzle.config.ts"), `import { defineConfig } from "drizzle-kit";\nexport default defineConfig({ dialect: "sqlite", schema: "./schema/tables.ts", out: "./${work}/migrations" });\n`);
const before = readdirSync(join(work, "migrations")).length;
execFileSync("npx", ["drizzle-kit", "generate", "--config", join(work, "drizzle.config.ts")], { stdio: ["ignore", "ignore", "inherit"] });
if (readdirSync(join(work, "migrations")).length !== before) {
  console.error("schema/tables.ts differs from the migrations' snapshot: write the migration, then run npm run db:snapshot.");
  process.exit(1);
}
console.log("Schema: tables.ts and the migrations agree.");
