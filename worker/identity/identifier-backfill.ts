/**
 * Keys the identifiers that migration 0002's SQL back-fill left without one (non-ASCII
 * names, or names whose keys collide), in bounded batches, and reports the collisions an
 * operator must resolve by renaming one side. A colliding row keeps a null key: it cannot
 * be found by its identifier until then, which is safer than letting two accounts answer
 * to one name. `POST /admin/identifiers/backfill` runs it.
 */
import type { Env } from "../env";
import { identifierKey } from "./identifiers";
import type { UserRow } from "./users";

export interface Collision {
  app_id: string;
  user_id: string;
  field: "username" | "email";
  value: string;
  /** The user that already answers to this key. */
  taken_by: string;
}

export interface BackfillReport {
  keyed: number;
  collisions: Collision[];
  /** Rows still unkeyed after this run (colliding ones included); run again while it shrinks. */
  remaining: number;
}

const BATCH = 200;

export async function backfillIdentifierKeys(env: Env, limit = BATCH): Promise<BackfillReport> {
  const { results } = await env.DB.prepare(
    "SELECT id, app_id, username, username_key, email, email_key FROM users WHERE username_key IS NULL OR (email IS NOT NULL AND email_key IS NULL) ORDER BY created_at, id LIMIT ?",
  )
    .bind(limit)
    .all<Pick<UserRow, "id" | "app_id" | "username" | "username_key" | "email" | "email_key">>();
  let keyed = 0;
  const collisions: Collision[] = [];
  for (const row of results) {
    const wanted: { field: "username" | "email"; column: string; value: string }[] = [];
    if (row.username_key === null) wanted.push({ field: "username", column: "username_key", value: row.username });
    if (row.email !== null && row.email_key === null) wanted.push({ field: "email", column: "email_key", value: row.email });
    for (const w of wanted) {
      const key = identifierKey(w.value);
      const holder = await env.DB.prepare("SELECT id FROM users WHERE app_id = ?1 AND id != ?2 AND (username_key = ?3 OR email_key = ?3) LIMIT 1")
        .bind(row.app_id, row.id, key)
        .first<{ id: string }>();
      if (holder) {
        collisions.push({ app_id: row.app_id, user_id: row.id, field: w.field, value: w.value, taken_by: holder.id });
        continue;
      }
      try {
        await env.DB.prepare(`UPDATE users SET ${w.column} = ? WHERE app_id = ? AND id = ?`).bind(key, row.app_id, row.id).run();
        keyed += 1;
      } catch (err) {
        // Another row took the key between the check and the write (or the cross trigger refused).
        if (!(err instanceof Error && /UNIQUE constraint failed|identifier taken/i.test(err.message))) throw err;
        collisions.push({ app_id: row.app_id, user_id: row.id, field: w.field, value: w.value, taken_by: "(concurrent write)" });
      }
    }
  }
  const remaining = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE username_key IS NULL OR (email IS NOT NULL AND email_key IS NULL)").first<number>("n");
  return { keyed, collisions, remaining: remaining ?? 0 };
}
