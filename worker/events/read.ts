/** The event log, read side: shared by the management API (manage/events.ts) and the operator console. */
import type { Env } from "../env";

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
  const where = ["app_id = ?"];
  const params: unknown[] = [appId];
  if (filter.type) {
    where.push("type = ?");
    params.push(filter.type);
  }
  if (filter.userId) {
    where.push("user_id = ?");
    params.push(filter.userId);
  }
  if (filter.after) {
    where.push("(created_at < ? OR (created_at = ? AND id < ?))");
    params.push(filter.after.createdAt, filter.after.createdAt, filter.after.id);
  }
  const { results } = await env.DB.prepare(`SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY created_at DESC, id DESC LIMIT ?`)
    .bind(...params, filter.limit)
    .all<EventRow>();
  return results;
}

export async function eventById(env: Env, appId: string, id: string): Promise<EventRow | null> {
  return env.DB.prepare("SELECT * FROM events WHERE app_id = ? AND id = ?").bind(appId, id).first<EventRow>();
}
