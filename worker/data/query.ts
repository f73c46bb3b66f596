/**
 * The Kinvey query language of SPEC §3 (a Mongo subset) compiled to parameterised SQL over
 * `entities e` and its JSON `data` column. Field names become JSON paths built here from a
 * whitelisted alphabet and bound as parameters; values are always bound. Anything outside the
 * subset is refused with InvalidQuerySyntax rather than guessed at.
 *
 * Semantics, as Mongo: equality and comparisons match a field's value or, when it is an
 * array, any element; comparisons stay within a type (numbers with numbers, strings with
 * strings); `{f: null}` matches null or missing; `$ne`/`$nin` match missing fields.
 * `$regex` takes anchored prefixes only (`^abc`, metacharacters escaped), compiled to a
 * prefix comparison: SQLite on D1 has no REGEXP.
 */
import { isPlainObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { concat, join, sql, type Sql } from "./sql";

/** Largest `limit` a request may ask for, and the most entities a list returns. */
export const MAX_LIMIT = 10_000;
const MAX_QUERY_CHARS = 16_384;
const MAX_DEPTH = 8;
const MAX_TERMS = 256;
const MAX_IN = 1_000;
const MAX_SORT_KEYS = 8;
const MAX_FIELDS = 100;
const MAX_SKIP = 1_000_000_000;
const SEGMENT = /^[A-Za-z0-9_\-@]{1,64}$/;
const MAX_SEGMENTS = 16;

export function invalid(debug: string): never {
  throw new KinveyError("InvalidQuerySyntax", debug);
}

/** Where a field lives: a lifted column, or a JSON path in `data`. */
type Target = { kind: "column"; expr: string; type: "text" | "time" } | { kind: "json"; path: string };

const COLUMNS: Record<string, Target> = {
  _id: { kind: "column", expr: "e.id", type: "text" },
  "_acl.creator": { kind: "column", expr: "e.creator", type: "text" },
  "_kmd.ect": { kind: "column", expr: "e.created_at", type: "time" },
  "_kmd.lmt": { kind: "column", expr: "e.updated_at", type: "time" },
};

export function fieldSegments(field: string): string[] {
  if (typeof field !== "string" || field.length === 0 || field.length > 512) invalid("Field names must be non-empty strings.");
  const segments = field.split(".");
  if (segments.length > MAX_SEGMENTS || !segments.every((s) => SEGMENT.test(s))) {
    invalid(`Unsupported field name ${JSON.stringify(field)}: use letters, digits, _ - @, separated by dots.`);
  }
  return segments;
}

export function target(field: string): Target {
  const column = COLUMNS[field];
  if (column) return column;
  const segments = fieldSegments(field);
  if (segments[0] === "_acl" || segments[0] === "_kmd") invalid(`Cannot query ${field}; only _acl.creator, _kmd.ect and _kmd.lmt.`);
  // Quoted keys: no character of a whitelisted segment can end the quote or start a path step.
  const path = "$" + segments.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `."${s}"`)).join("");
  return { kind: "json", path };
}

type Scalar = string | number | boolean | null;
type Value = Scalar | Value[] | { [k: string]: Value };

/** Compiles a parsed query object. Empty matches everything. */
export function compileQuery(query: unknown): Sql {
  const budget = { terms: 0 };
  if (!isPlainObject(query)) invalid("The query must be a JSON object.");
  refuseNonFinite(query);
  return compileObject(query, 0, budget);
}

/**
 * JSON.parse turns an overflowing literal such as -1e999 into -Infinity. Bound as a parameter
 * it would silently match nothing, and inside an object or array value JSON.stringify would
 * turn it into null, matching what the caller never asked for. One walk over every value
 * (all operators, nested $and/$or/$nor, $in/$all lists, object values) refuses it instead.
 * Iterative, so a deeply nested value cannot exhaust the stack before MAX_DEPTH is checked.
 */
function refuseNonFinite(query: Record<string, unknown>): void {
  const stack: unknown[] = [query];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "number") {
      if (!Number.isFinite(v)) invalid("Numbers in a query must be finite (an out-of-range literal such as 1e999 is not).");
    } else if (Array.isArray(v)) stack.push(...v);
    else if (isPlainObject(v)) stack.push(...Object.values(v));
  }
}

/** Parses the `query` parameter; absent or empty is `{}`. */
export function parseQueryParam(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === "") return {};
  if (text.length > MAX_QUERY_CHARS) invalid(`The query may be at most ${MAX_QUERY_CHARS} characters.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    invalid("The query is not valid JSON.");
  }
  if (!isPlainObject(value)) invalid("The query must be a JSON object.");
  return value;
}

function compileObject(query: Record<string, unknown>, depth: number, budget: { terms: number }): Sql {
  if (depth > MAX_DEPTH) invalid(`Queries may nest at most ${MAX_DEPTH} levels.`);
  const parts: Sql[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (++budget.terms > MAX_TERMS) invalid(`Queries may hold at most ${MAX_TERMS} terms.`);
    if (key.startsWith("$")) {
      if (key !== "$and" && key !== "$or" && key !== "$nor") invalid(`Unsupported operator ${key}.`);
      if (!Array.isArray(value) || value.length === 0 || !value.every(isPlainObject)) invalid(`${key} takes a non-empty array of queries.`);
      const subs = (value as Record<string, unknown>[]).map((q) => compileObject(q, depth + 1, budget));
      if (key === "$and") parts.push(concat("(", join(subs, " AND "), ")"));
      else if (key === "$or") parts.push(concat("(", join(subs, " OR "), ")"));
      else parts.push(concat("NOT coalesce((", join(subs, " OR "), "), 0)"));
    } else {
      parts.push(compileField(key, value as Value));
    }
  }
  return parts.length === 0 ? sql("1") : concat("(", join(parts, " AND "), ")");
}

function compileField(field: string, value: Value): Sql {
  const t = target(field);
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const ops = keys.filter((k) => k.startsWith("$"));
    if (ops.length > 0 && ops.length !== keys.length) invalid(`Cannot mix operators and fields in the value of ${field}.`);
    if (ops.length > 0) return compileOperators(t, field, value as Record<string, Value>);
  }
  return eq(t, value);
}

function compileOperators(t: Target, field: string, ops: Record<string, Value>): Sql {
  const parts: Sql[] = [];
  for (const [op, arg] of Object.entries(ops)) {
    switch (op) {
      case "$eq":
        parts.push(eq(t, arg));
        break;
      case "$ne":
        parts.push(not(eq(t, arg)));
        break;
      case "$in":
        parts.push(inList(t, field, op, arg));
        break;
      case "$nin":
        parts.push(not(inList(t, field, op, arg)));
        break;
      case "$all": {
        const values = list(field, op, arg);
        parts.push(values.length === 0 ? sql("0") : concat("(", join(values.map((v) => eq(t, v)), " AND "), ")"));
        break;
      }
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte":
        parts.push(compare(t, field, op, arg));
        break;
      case "$exists":
        if (typeof arg !== "boolean") invalid(`$exists on ${field} takes true or false.`);
        parts.push(exists(t, arg));
        break;
      case "$regex":
        if (ops.$options !== undefined && ops.$options !== "") invalid("$options is not supported.");
        parts.push(regex(t, field, arg));
        break;
      case "$options":
        if (ops.$regex === undefined) invalid("$options needs $regex.");
        break;
      default:
        invalid(`Unsupported operator ${op} on ${field}.`);
    }
  }
  return concat("(", join(parts, " AND "), ")");
}

function not(inner: Sql): Sql {
  // Missing fields make comparisons NULL; NOT of "no match" must be a match.
  return concat("NOT coalesce(", inner, ", 0)");
}

function list(field: string, op: string, arg: Value): Value[] {
  if (!Array.isArray(arg) || arg.length > MAX_IN) invalid(`${op} on ${field} takes an array of at most ${MAX_IN} values.`);
  return arg;
}

/**
 * Strings and numbers go in as one JSON array each (`IN (SELECT value FROM json_each(?))`),
 * so a long list costs one bound parameter, not one per value.
 */
function inList(t: Target, field: string, op: string, arg: Value): Sql {
  const values = list(field, op, arg);
  if (values.length === 0) return sql("0");
  const strings = values.filter((v): v is string => typeof v === "string");
  const numbers = values.filter((v): v is number => typeof v === "number");
  const others = values.filter((v) => typeof v !== "string" && typeof v !== "number");
  const members = (values: unknown[]) => sql("(SELECT value FROM json_each(?))", JSON.stringify(values));
  if (t.kind === "column") {
    if (t.type === "time") return concat(`${t.expr} IN `, members(values.map((v) => time(v, op))));
    return strings.length === 0 ? sql("0") : concat(`${t.expr} IN `, members(strings));
  }
  return any(t.path, (type, value) => {
    const parts: Sql[] = [];
    if (strings.length) parts.push(concat("(", type, " IS 'text' AND ", value, " IN ", members(strings), ")"));
    if (numbers.length) parts.push(concat("(", type, " IN ('integer', 'real') AND ", value, " IN ", members(numbers), ")"));
    for (const v of others) parts.push(scalarEq(type, value, v));
    return concat("(", join(parts, " OR "), ")");
  });
}

/**
 * `pred` applied to the field itself or, when the field is an array, to any element.
 * `type`/`value` are SQL expressions for json_type and the SQL value of what is tested.
 */
function any(path: string, pred: (type: Sql, value: Sql) => Sql): Sql {
  return concat(
    "(",
    pred(sql("json_type(e.data, ?)", path), sql("json_extract(e.data, ?)", path)),
    sql(" OR (json_type(e.data, ?) IS 'array' AND EXISTS (SELECT 1 FROM json_each(e.data, ?) j WHERE ", path, path),
    pred(sql("j.type"), sql("j.value")),
    ")))",
  );
}

function scalarEq(type: Sql, value: Sql, v: Value): Sql {
  if (v === null) return concat("(", type, " IS NULL OR ", type, " IS 'null')");
  if (typeof v === "boolean") return concat("(", type, v ? " IS 'true')" : " IS 'false')");
  if (typeof v === "string") return concat("(", type, " IS 'text' AND ", value, " = ", sql("?", v), ")");
  if (typeof v === "number") return concat("(", type, " IN ('integer', 'real') AND ", value, " = ", sql("?", v), ")");
  // Objects and arrays compare as minified JSON (Mongo compares them whole, key order included).
  return concat("(", type, " IN ('object', 'array') AND json(", value, ") = json(", sql("?", JSON.stringify(v)), "))");
}

function eq(t: Target, v: Value): Sql {
  if (t.kind === "json") return any(t.path, (type, value) => scalarEq(type, value, v));
  if (t.type === "time") return sql(`${t.expr} = ?`, time(v, "equality"));
  return typeof v === "string" ? sql(`${t.expr} = ?`, v) : sql("0");
}

const OPS: Record<string, string> = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" };

function compare(t: Target, field: string, op: string, v: Value): Sql {
  const sqlOp = OPS[op] as string;
  if (t.kind === "column") {
    if (t.type === "time") return sql(`${t.expr} ${sqlOp} ?`, time(v, op));
    if (typeof v !== "string") invalid(`${op} on ${field} takes a string.`);
    return sql(`${t.expr} ${sqlOp} ?`, v);
  }
  if (typeof v === "string") return any(t.path, (type, value) => concat("(", type, " IS 'text' AND ", value, ` ${sqlOp} `, sql("?", v), ")"));
  if (typeof v === "number") {
    return any(t.path, (type, value) => concat("(", type, " IN ('integer', 'real') AND ", value, ` ${sqlOp} `, sql("?", v), ")"));
  }
  invalid(`${op} on ${field} takes a number or a string.`);
}

function exists(t: Target, present: boolean): Sql {
  if (t.kind === "column") return sql(present ? "1" : "0");
  return sql(`json_type(e.data, ?) ${present ? "IS NOT NULL" : "IS NULL"}`, t.path);
}

function regex(t: Target, field: string, pattern: Value): Sql {
  if (typeof pattern !== "string") invalid(`$regex on ${field} takes a string.`);
  const prefix = regexPrefix(pattern);
  const n = Array.from(prefix).length;
  if (t.kind === "column") {
    if (t.type === "time") invalid(`$regex cannot apply to ${field}.`);
    return sql(`substr(${t.expr}, 1, ?) = ?`, n, prefix);
  }
  return any(t.path, (type, value) => concat("(", type, " IS 'text' AND substr(", value, ", 1, ", sql("?", n), ") = ", sql("?", prefix), ")"));
}

const META = new Set([..."\\^$.|?*+()[]{}"]);

/** `^abc` (with `\`-escaped metacharacters, optionally ending `.*`) → `abc`. */
export function regexPrefix(pattern: string): string {
  if (!pattern.startsWith("^")) invalid("$regex must be anchored with ^.");
  let body = pattern.slice(1);
  if (body.endsWith(".*") && !body.endsWith("\\.*")) body = body.slice(0, -2);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === "\\") {
      const next = body[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) invalid("$regex supports literal prefixes only (escape classes such as \\d are not supported).");
      out += next;
      i++;
    } else if (META.has(ch)) {
      invalid("$regex supports literal prefixes only: ^ followed by text (escape metacharacters with \\).");
    } else out += ch;
  }
  return out;
}

function time(v: Value, what: string): number {
  const ms = typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) invalid(`_kmd times in ${what} must be ISO-8601 strings.`);
  return ms;
}

/** `sort={"field": 1|-1, …}` → ORDER BY items (without the keyword). */
export function compileSort(text: string | undefined): Sql | null {
  if (text === undefined || text.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    invalid("sort is not valid JSON.");
  }
  if (!isPlainObject(value)) invalid('sort must be a JSON object such as {"name": 1}.');
  const entries = Object.entries(value);
  if (entries.length === 0) return null;
  if (entries.length > MAX_SORT_KEYS) invalid(`sort may name at most ${MAX_SORT_KEYS} fields.`);
  return join(
    entries.map(([field, dir]) => {
      if (dir !== 1 && dir !== -1) invalid(`sort direction of ${field} must be 1 or -1.`);
      const t = target(field);
      const order = dir === 1 ? "ASC" : "DESC";
      return t.kind === "column" ? sql(`${t.expr} ${order}`) : sql(`json_extract(e.data, ?) ${order}`, t.path);
    }),
    ", ",
  );
}

/** `fields=a,b.c` → paths to keep (`_id`, `_acl`, `_kmd` are always returned). */
export function parseFields(text: string | undefined): string[][] | null {
  if (text === undefined || text.trim() === "") return null;
  const fields = text.split(",").map((f) => f.trim());
  if (fields.length > MAX_FIELDS) invalid(`fields may name at most ${MAX_FIELDS} fields.`);
  return fields.map((f) => fieldSegments(f));
}

/** Keeps only `fields` of a document (plus its metadata). */
export function project(doc: Record<string, unknown>, fields: string[][] | null): Record<string, unknown> {
  if (!fields) return doc;
  const out: Record<string, unknown> = { _id: doc._id };
  // Own properties only, defined not assigned: a field named `__proto__` stays a field.
  const put = (o: Record<string, unknown>, k: string, v: unknown) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const path of fields) {
    let source: unknown = doc;
    for (const seg of path) source = (isPlainObject(source) || Array.isArray(source)) && Object.hasOwn(source, seg) ? (source as Record<string, unknown>)[seg] : undefined;
    if (source === undefined) continue;
    let dest = out;
    path.forEach((seg, i) => {
      if (i === path.length - 1) put(dest, seg, source);
      else {
        if (!Object.hasOwn(dest, seg) || !isPlainObject(dest[seg])) put(dest, seg, {});
        dest = dest[seg] as Record<string, unknown>;
      }
    });
  }
  out._acl = doc._acl;
  out._kmd = doc._kmd;
  return out;
}

/** `limit`: a non-negative integer up to MAX_LIMIT; above it, Kinvey's ResultSetSizeExceeded. */
export function parseLimit(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  if (!/^\d{1,12}$/.test(text)) invalid("limit must be a non-negative integer.");
  const n = Number(text);
  if (n > MAX_LIMIT) throw new KinveyError("ResultSetSizeExceeded", `limit may be at most ${MAX_LIMIT}.`);
  return n;
}

export function parseSkip(text: string | undefined): number {
  if (text === undefined || text === "") return 0;
  if (!/^\d{1,12}$/.test(text) || Number(text) > MAX_SKIP) invalid(`skip must be an integer from 0 to ${MAX_SKIP}.`);
  return Number(text);
}
