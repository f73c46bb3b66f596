/**
 * Re-renders the README tables that are generated from code (the settings spec and the
 * management scope catalogue); test/unit checks that the README holds exactly these.
 * Run: npx tsx scripts/readme-tables.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { settingsTable } from "../worker/tenancy/settings";
import { scopesTable } from "../worker/identity/management-scopes";

/** Replaces the markdown table that starts with `header` by `table`. */
function replaceTable(text: string, header: string, table: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line === header);
  if (start < 0) throw new Error(`README has no table headed: ${header}`);
  let end = start;
  while (end < lines.length && lines[end].startsWith("|")) end++;
  return [...lines.slice(0, start), table, ...lines.slice(end)].join("\n");
}

const readmePath = new URL("../README.md", import.meta.url);
let readme = readFileSync(readmePath, "utf8");
for (const table of [settingsTable(), scopesTable()]) readme = replaceTable(readme, table.split("\n")[0], table);
writeFileSync(readmePath, readme);
