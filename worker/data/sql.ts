/**
 * SQL fragments that carry their parameters, so compiled queries are always bound,
 * never string-built from input. Fragments use positional `?` only; composing keeps the
 * parameters in text order.
 */
export interface Sql {
  text: string;
  params: unknown[];
}

/**
 * A value the statement computes itself (a scalar subquery), bound where a value would be:
 * the signed-in user's id read from the session inside the data statement, so a data read
 * is one D1 round trip. SQLite evaluates an uncorrelated scalar subquery once per statement.
 */
export class SqlValue {
  constructor(
    readonly text: string,
    readonly params: unknown[],
  ) {}
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

/** D1 refuses statements with more bound parameters, or longer SQL text, than these. */
export const MAX_BOUND_PARAMETERS = 100;
export const MAX_STATEMENT_BYTES = 100_000;

/**
 * Numbers the placeholders, one number per distinct value: compiled statements repeat the
 * app id, collection, user id and JSON paths many times, and D1 counts parameters.
 */
export function numbered(q: Sql): Sql {
  const index = new Map<string, number>();
  const params: unknown[] = [];
  const number = (part: Sql): string => {
    let i = 0;
    const text = part.text.replace(/\?/g, () => {
      if (i >= part.params.length) throw new Error("more placeholders than parameters");
      const value = part.params[i++];
      // A computed value goes in as its subquery, with its own parameters numbered alike.
      if (value instanceof SqlValue) return `(${number(value)})`;
      const key = `${typeof value}:${String(value)}`;
      let n = index.get(key);
      if (n === undefined) {
        params.push(value);
        n = params.length;
        index.set(key, n);
      }
      return `?${n}`;
    });
    if (i !== part.params.length) throw new Error("more parameters than placeholders");
    return text;
  };
  return { text: number(q), params };
}

/** Prepares a fragment. Placeholders must be bare `?` (no `?N`, no `?` inside literals). */
export function bind(db: D1Database, q: Sql): D1PreparedStatement {
  const n = numbered(q);
  if (n.params.length > MAX_BOUND_PARAMETERS) throw new StatementTooLarge(`${n.params.length} bound values and paths; D1 allows ${MAX_BOUND_PARAMETERS}`);
  if (n.text.length > MAX_STATEMENT_BYTES) throw new StatementTooLarge(`${n.text.length} characters of SQL; D1 allows ${MAX_STATEMENT_BYTES}`);
  return db.prepare(n.text).bind(...n.params);
}

export class StatementTooLarge extends Error {}
