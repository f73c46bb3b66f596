/** Collection settings: the permission level (SPEC §3). No row means Shared. */
import type { Env } from "../env";
import { KinveyError } from "../http/errors";
import { LEVELS, type Level } from "./acl";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_\-.]{0,127}$/;

/** Collection names: letters, digits, `_-.`, not starting with `_` (reserved for endpoints). */
export function collectionName(value: string | undefined): string {
  if (!value || !NAME.test(value)) throw new KinveyError("BadRequest", "Collection names are 1 to 128 letters, digits or _-. and start with a letter or digit.");
  return value;
}

export function isLevel(value: unknown): value is Level {
  return typeof value === "string" && (LEVELS as readonly string[]).includes(value);
}

export async function levelOf(env: Env, appId: string, collection: string): Promise<Level> {
  const row = await env.DB.prepare("SELECT level FROM collections WHERE app_id = ? AND name = ?").bind(appId, collection).first<{ level: string }>();
  return row && isLevel(row.level) ? row.level : "shared";
}

export function setLevelStatement(env: Env, appId: string, collection: string, level: Level, now = Date.now()): D1PreparedStatement {
  return env.DB.prepare(
    "INSERT INTO collections (app_id, name, level, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (app_id, name) DO UPDATE SET level = excluded.level",
  ).bind(appId, collection, level, now);
}
