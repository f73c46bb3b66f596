/**
 * Size-limited body reading. Bodies are read as a stream and cut off at the limit, so
 * an oversized upload costs at most MAX_BODY_BYTES of memory whatever Content-Length says.
 * A body that ends before its Content-Length (or whose connection drops mid-body) is the
 * client's fault: a 400, never the runtime's error as a 5xx. JSON is bounded in depth
 * before it is parsed (MAX_JSON_DEPTH), so no face's handler walks a pathological tree.
 */
import type { Context } from "hono";
import { MAX_BODY_BYTES } from "../env";
import { RequestError } from "./errors";

const INCOMPLETE = "The request body is shorter than its Content-Length.";

/** Nesting deeper than this is refused; no Latch document comes near it. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when `text` nests arrays/objects deeper than `max`: one pass over the brackets
 * outside strings, cheaper than the parse it spares (and exact for any valid JSON).
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: the next character is escaped
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

export async function readBodyText(c: Context, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limit) throw new RequestError("body_too_large", `The request body exceeds ${limit} bytes.`);
  const stream = c.req.raw.body;
  if (!stream) return "";
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      throw new RequestError("incomplete_body", INCOMPLETE);
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new RequestError("body_too_large", `The request body exceeds ${limit} bytes.`);
    }
    chunks.push(value);
  }
  if (Number.isInteger(declared) && size < declared) throw new RequestError("incomplete_body", INCOMPLETE);
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(all);
  } catch {
    throw new RequestError("malformed_body", "The request body is not valid UTF-8.");
  }
}

/**
 * Reads a JSON body. An empty body (with or without a JSON content type) yields
 * `undefined`, which callers treat as "no body" where the protocol allows it.
 */
export async function readJson(c: Context): Promise<unknown> {
  const text = await readBodyText(c);
  if (text.trim() === "") return undefined;
  const type = c.req.header("content-type") ?? "";
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new RequestError("unsupported_media_type", "The request body must be JSON.");
  }
  if (jsonTooDeep(text)) throw new RequestError("too_deep", `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestError("malformed_body", "The request body is not valid JSON.");
  }
}

/** Reads a JSON object body; `{}` when empty. Arrays and scalars are refused. */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  const body = await readJson(c);
  if (body === undefined) return {};
  if (!isPlainObject(body)) throw new RequestError("malformed_body", "The request body must be a JSON object.");
  return body;
}

/** Reads an `application/x-www-form-urlencoded` body (OAuth endpoints, hosted forms). */
export async function readForm(c: Context): Promise<URLSearchParams> {
  const text = await readBodyText(c);
  const type = c.req.header("content-type") ?? "";
  if (text && !/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw new RequestError("unsupported_media_type", "The request body must be application/x-www-form-urlencoded.");
  }
  return new URLSearchParams(text);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
