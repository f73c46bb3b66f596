/**
 * SQL fragments that carry their parameters, so compiled queries are always bound,
 * never string-built from input. Fragments use positional `?` only; composing keeps the
 * parameters in text order.
 */
export interface Sql {
  text: string;
  params: unknown[];
}

export function sql(text: string, ...params: unknown[]): Sql {
  return { text, params };
}

/** Joins fragments with `sep` (e.g. " AND "), parameters in order. */
export function join(parts: Sql[], sep: string): Sql {
  return { text: parts.map((p) => p.text).join(sep), params: parts.flatMap((p) => p.params) };
}

/** Concatenates fragments and literal SQL text (trusted, never input). */
export function concat(...parts: (Sql | string)[]): Sql {
  const frags = parts.map((p) => (typeof p === "string" ? { text: p, params: [] } : p));
  return { text: frags.map((p) => p.text).join(""), params: frags.flatMap((p) => p.params) };
}

export function bind(db: D1Database, q: Sql): D1PreparedStatement {
  return db.prepare(q.text).bind(...q.params);
}
