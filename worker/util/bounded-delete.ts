/**
 * A DELETE that removes at most `limit` rows: SQLite (as D1 builds it) has no
 * `DELETE … LIMIT`, so the rows are chosen by rowid in a subquery. Scheduled work uses it
 * so that no run holds the database for long, however much has piled up.
 */

/**
 * `rows` is a SELECT of the rowids to remove (of `table`), whose parameters are `params`;
 * the limit is bound last. Every Latch table is a rowid table.
 */
export function boundedDelete(db: D1Database, table: string, rows: string, params: unknown[], limit: number): D1PreparedStatement {
  return db.prepare(`DELETE FROM ${table} WHERE rowid IN (${rows} LIMIT ?)`).bind(...params, limit);
}

/** Runs a boundedDelete: how many rows it removed, and how many D1 read to find them. */
export async function runBoundedDelete(db: D1Database, table: string, rows: string, params: unknown[], limit: number): Promise<{ deleted: number; read: number }> {
  const { meta } = await boundedDelete(db, table, rows, params, limit).run();
  return { deleted: meta.changes ?? 0, read: meta.rows_read ?? 0 };
}
