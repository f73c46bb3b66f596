/**
 * A static server for single-page apps built on real client libraries: each host gets its
 * own page (the same page at every path, as an SPA's router would have it), and `/lib/…`
 * serves files straight from node_modules, unmodified.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";

export interface SpaServer {
  port: number;
  /** Serves `html` on `host` (no port). */
  page(host: string, html: string): void;
  close(): Promise<void>;
}

/** `libs`: URL path under /lib/ → [package, file inside the package]. */
export async function startSpaServer(libs: Record<string, [string, string]>): Promise<SpaServer> {
  const files = new Map<string, string>();
  for (const [name, [pkg, file]] of Object.entries(libs)) {
    files.set(`/lib/${name}`, readFileSync(join("node_modules", pkg, file), "utf8"));
  }
  const pages = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const lib = files.get(path);
    if (lib !== undefined) {
      res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" }).end(lib);
      return;
    }
    const html = pages.get(String(req.headers.host ?? "").replace(/:\d+$/, ""));
    if (html === undefined) res.writeHead(404).end("unknown site");
    else res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    page: (host, html) => pages.set(host, html),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
