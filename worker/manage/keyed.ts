/**
 * What roles and permissions share: a per-app key, a name, a description; the same
 * validation, views and paged listing.
 */
import { ApiError } from "../http/errors";
import { ACCESS_KEY, AccessKeyTakenError, type KeyedRow } from "../identity/access-admin";
import { bad, notFound, text, type ManageContext } from "./context";
import { pageOf, parsePage } from "./paging";

export function keyOf(body: Record<string, unknown>, required: boolean): string | undefined {
  const key = body.key;
  if (key === undefined && !required) return undefined;
  if (typeof key !== "string" || !ACCESS_KEY.test(key)) bad("key must be 1 to 128 characters of A-Z, a-z, 0-9, _ : . -");
  return key;
}

export function descriptionOf(body: Record<string, unknown>): string | null | undefined {
  if (body.description === null) return null;
  return text(body, "description", 1024);
}

export function keyedView(row: KeyedRow) {
  return { id: row.id, key: row.key, name: row.name, description: row.description };
}

export async function loadKeyed(c: ManageContext, table: "roles" | "permissions", id: string): Promise<KeyedRow> {
  const row = await c.env.DB.prepare(`SELECT * FROM ${table} WHERE app_id = ? AND id = ?`).bind(c.var.app.id, id).first<KeyedRow>();
  if (!row) notFound(table === "roles" ? "role" : "permission", id);
  return row;
}

/** One page of `sql` (which must select `created_at` and `id` and end in a WHERE clause). */
export async function listPage<T extends { created_at: number; id: string }>(
  c: ManageContext,
  sql: string,
  params: unknown[],
  prefix = "",
): Promise<{ items: T[]; nextToken: string | undefined }> {
  const page = parsePage(c.req.query("page_size"), c.req.query("next_token"));
  const p = prefix ? `${prefix}.` : "";
  let query = sql;
  const all = [...params];
  if (page.after) {
    query += ` AND (${p}created_at > ? OR (${p}created_at = ? AND ${p}id > ?))`;
    all.push(page.after.createdAt, page.after.createdAt, page.after.id);
  }
  query += ` ORDER BY ${p}created_at, ${p}id LIMIT ?`;
  const { results } = await c.env.DB.prepare(query).bind(...all, page.size + 1).all<T>();
  return pageOf(results, page.size);
}

export function conflictOnKey(err: unknown, what: "role" | "permission" | "feature_flag"): never {
  if (err instanceof AccessKeyTakenError || (err instanceof Error && /UNIQUE constraint failed/i.test(err.message))) {
    throw new ApiError(`${what.toUpperCase() as Uppercase<typeof what>}_KEY_TAKEN`, `A ${what} with this key exists.`);
  }
  throw err;
}
