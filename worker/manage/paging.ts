/**
 * Keyset paging for list endpoints (`page_size`, `next_token`). The token is an opaque
 * base64url of the last row's (created_at, id), so pages stay stable while rows are added.
 * Pure: parsing and encoding only; callers put the condition into their SQL.
 */
import { base64url, fromBase64url } from "../util/crypto";
import { bad } from "./context";

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 500;

export interface Page {
  size: number;
  after: { createdAt: number; id: string } | null;
}

export function parsePage(pageSize: string | undefined, nextToken: string | undefined): Page {
  let size = DEFAULT_PAGE_SIZE;
  if (pageSize !== undefined && pageSize !== "") {
    size = Number(pageSize);
    if (!/^\d+$/.test(pageSize) || size < 1 || size > MAX_PAGE_SIZE) bad(`page_size must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
  }
  return { size, after: nextToken ? decodeToken(nextToken) : null };
}

export function encodeToken(createdAt: number, id: string): string {
  return base64url(new TextEncoder().encode(JSON.stringify([createdAt, id])));
}

function decodeToken(token: string): { createdAt: number; id: string } {
  try {
    if (token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) throw new Error();
    const value: unknown = JSON.parse(new TextDecoder().decode(fromBase64url(token)));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === "string") {
      return { createdAt: value[0] as number, id: value[1] };
    }
  } catch {
    // fall through
  }
  bad("next_token is not a token this API issued.", "INVALID_NEXT_TOKEN");
}

/**
 * Splits a `size + 1` query result into the page and its next token.
 * `rows` must be ordered by the keyset the caller paged on.
 */
export function pageOf<T extends { created_at: number; id: string }>(rows: T[], size: number): { items: T[]; nextToken: string | undefined } {
  if (rows.length <= size) return { items: rows, nextToken: undefined };
  const items = rows.slice(0, size);
  const last = items[items.length - 1]!;
  return { items, nextToken: encodeToken(last.created_at, last.id) };
}
