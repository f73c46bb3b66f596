/** The frame of every hosted page: inline styles only, nothing external; only the passkey pages load a (same-origin) script. */
import type { Child } from "hono/jsx";

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:380px;margin:8vh auto;padding:32px;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:22px;margin:0 0 4px}p.sub{margin:0 0 24px;color:#5b6475}
label{display:block;font-weight:600;margin:16px 0 6px}input[type=text],input[type=password],input[type=email]{width:100%;padding:10px 12px;border:1px solid #c8ccd4;border-radius:8px;font:inherit}
button{width:100%;margin-top:24px;padding:11px;border:0;border-radius:8px;background:#2453d4;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.secondary{background:#e8ecf6;color:#2453d4}.ok{margin:0 0 8px;padding:10px 12px;border-radius:8px;background:#e8f6ec;color:#1b6e35}ul.keys{list-style:none;padding:0}ul.keys li{padding:12px 0;border-bottom:1px solid #eceef2}ul.keys form{display:inline}ul.keys button{width:auto;margin:6px 6px 0 0;padding:6px 10px;font-size:14px}.error{margin:0 0 8px;padding:10px 12px;border-radius:8px;background:#fdecec;color:#a21b1b}.alt{margin-top:20px;text-align:center;color:#5b6475}
a{color:#2453d4}a.button{display:block;margin-top:12px;padding:11px;border-radius:8px;text-align:center;text-decoration:none;font-weight:600}`;

export function Layout(props: { title: string; children: Child; script?: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{props.title}</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <main>{props.children}</main>
        {props.script ? <script src="/passkeys/client.js" defer></script> : null}
      </body>
    </html>
  );
}

/** Headers for every hosted page: not framable, not cached, no referrer, no scripts. */
export const PAGE_HEADERS = {
  "Cache-Control": "no-store",
  "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
} as const;

/**
 * For the passkey pages: the same, plus the one script they need (/passkeys/client.js,
 * same origin) and fetches back to the auth host. Replaces the default policy.
 */
export const SCRIPT_PAGE_HEADERS = {
  "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
} as const;

/** A complete HTML response for a page element; `headers` named in PAGE_HEADERS replace the default. */
export async function htmlPage(node: unknown, status: number, headers: Record<string, string | string[]> = {}): Promise<Response> {
  const body = "<!DOCTYPE html>" + (await String(await (node as { toString(): string | Promise<string> }).toString()));
  const res = new Response(body, { status, headers: { "Content-Type": "text/html; charset=UTF-8", ...PAGE_HEADERS } });
  for (const [name, value] of Object.entries(headers)) {
    if (name in PAGE_HEADERS && typeof value === "string") res.headers.set(name, value);
    else for (const v of Array.isArray(value) ? value : [value]) res.headers.append(name, v);
  }
  return res;
}
