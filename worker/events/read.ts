/** The event log, read side: shared by the management API (manage/events.ts) and the operator console. */
import type { Env } from "../env";
import { Where } from "../util/where";

export interface EventRow {
  id: string;
  app_id: string;
  type: string;
  user_id: string | null;
  data: string;
  source: string;
  created_at: number;
}

/** Events newest first, filtered by type and user; keyset paging by (created_at, id) descending. */
export async function listEvents(
  env: Env,
  appId: string,
  filter: { type?: string; userId?: string; after?: { createdAt: number; id: string } | null; limit: number },
): Promise<EventRow[]> {
  const where = new Where("app_id = ?", appId);
  if (filter.type) where.and("type = ?", filter.type);
  if (filter.userId) where.and("user_id = ?", filter.userId);
  if (filter.after) where.and("(created_at < ? OR (created_at = ? AND id < ?))", filter.after.createdAt, filter.after.createdAt, filter.after.id);
  const { results } = await env.DB.prepare(`SELECT * FROM events WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT ?`)
    .bind(...where.params, filter.limit)
    .all<EventRow>();
  return results;
}

export async function eventById(env: Env, appId: string, id: string): Promise<EventRow | null> {
  return env.DB.prepare("SELECT * FROM events WHERE app_id = ? AND id = ?").bind(appId, id).first<EventRow>();
}
