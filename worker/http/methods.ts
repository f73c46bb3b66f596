/**
 * RFC 9110 §15.5.6 for every face at once: when routing finds no handler for the request's
 * method but the path has handlers for others, the answer is 405 with `Allow`, not 404.
 * The route table is read from the composed app (hono keeps every route it was given,
 * prefixes applied), so no face declares its methods twice.
 */
import type { Hono } from "hono";
import { PatternRouter } from "hono/router/pattern-router";

type Routes = Hono["routes"];

/** The methods some handler answers on `path`; middleware (`ALL`) does not count. */
export function methodIndex(routes: Routes): (path: string) => string[] {
  const router = new PatternRouter<string>();
  for (const route of routes) if (route.method !== "ALL") router.add("ALL", route.path, route.method);
  return (path) => {
    const methods = new Set(router.match("GET", path)[0].map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}

/** The `Allow` list when `method` is not among the path's methods; null when 404 is the answer. */
export function disallowed(index: (path: string) => string[], method: string, path: string): string[] | null {
  const methods = index(path);
  return methods.length > 0 && !methods.includes(method) ? methods : null;
}
