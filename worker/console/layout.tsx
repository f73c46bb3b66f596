/**
 * The console's frame: a wider page than the hosted sign-in pages, a nav per app, and
 * the one same-origin script (/console/console.js) that asks before destructive forms
 * and copies secrets. Every page works without it.
 */
import type { Child } from "hono/jsx";
import { htmlPage, SCRIPT_PAGE_HEADERS } from "../ui/layout";

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 24px;display:flex;gap:18px;align-items:center;flex-wrap:wrap}header a{color:#fff;text-decoration:none}header .brand{font-weight:700}
header form{margin:0 0 0 auto}header button{background:#39425a;margin:0}
main{max-width:1040px;margin:24px auto;padding:0 24px}section{background:#fff;border-radius:10px;box-shadow:0 1px 6px rgba(0,0,0,.07);padding:20px 24px;margin:0 0 20px}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:0 0 12px}nav.app{display:flex;gap:14px;margin:0 0 16px;flex-wrap:wrap}
table{width:100%;border-collapse:collapse;font-size:14px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eceef2;vertical-align:top}th{color:#5b6475;font-weight:600}
label{display:block;font-weight:600;margin:10px 0 4px}input[type=text],input[type=password],input[type=search],select,textarea{width:100%;padding:8px 10px;border:1px solid #c8ccd4;border-radius:6px;font:inherit}
textarea{font-family:ui-monospace,Menlo,monospace;font-size:13px;min-height:90px}code,.mono{font-family:ui-monospace,Menlo,monospace;font-size:13px;word-break:break-all}
button{margin-top:12px;padding:8px 14px;border:0;border-radius:6px;background:#2453d4;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button.danger{background:#b42323}form.inline{display:inline}form.inline button{margin:0 6px 0 0;padding:4px 10px;font-size:13px}
.ok{padding:10px 12px;border-radius:8px;background:#e8f6ec;color:#1b6e35}.error{padding:10px 12px;border-radius:8px;background:#fdecec;color:#a21b1b}
.secret{padding:10px 12px;border-radius:8px;background:#fff7e0;border:1px solid #f0d48a}.muted{color:#5b6475}.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#e8ecf6;color:#2453d4;font-size:13px}
a{color:#2453d4}.row{display:grid;grid-template-columns:1fr 1fr;gap:0 16px}`;

export interface Frame {
  title: string;
  /** Present once signed in: the sign-out form needs it. */
  csrf?: string;
  app?: { id: string; name: string };
  error?: string;
  notice?: string;
  children: Child;
}

export function ConsoleLayout(props: Frame) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{props.title} · Latch console</title>
        <style>{STYLE}</style>
      </head>
      <body>
        <header>
          <a class="brand" href="/console/apps">Latch console</a>
          {props.csrf ? <a href="/console/apps">Apps</a> : null}
          {props.csrf ? (
            <form method="post" action="/console/sign-out">
              <input type="hidden" name="csrf" value={props.csrf} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main>
          {props.app ? <AppNav app={props.app} /> : null}
          {props.notice ? <p class="ok" role="status">{props.notice}</p> : null}
          {props.error ? <p class="error" role="alert">{props.error}</p> : null}
          {props.children}
        </main>
        <script src="/console/console.js" defer></script>
      </body>
    </html>
  );
}

function AppNav(props: { app: { id: string; name: string } }) {
  const base = `/console/apps/${props.app.id}`;
  return (
    <nav class="app">
      <strong>{props.app.name}</strong>
      <a href={base}>Settings &amp; clients</a>
      <a href={`${base}/users`}>Users</a>
      <a href={`${base}/roles`}>Roles &amp; permissions</a>
      <a href={`${base}/webhooks`}>Webhooks</a>
      <a href={`${base}/events`}>Events</a>
    </nav>
  );
}

/** A POST form with the session's CSRF token; `confirm` asks first when the script runs. */
export function Form(props: { action: string; csrf: string; children: Child; inline?: boolean; confirm?: string }) {
  return (
    <form method="post" action={props.action} class={props.inline ? "inline" : undefined} data-confirm={props.confirm}>
      <input type="hidden" name="csrf" value={props.csrf} />
      {props.children}
    </form>
  );
}

/** A table with one header row; the children are its body's rows. */
export function Table(props: { head: string[]; children: Child }) {
  return (
    <table>
      <thead>
        <tr>
          {props.head.map((label) => (
            <th>{label}</th>
          ))}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

/** A page; secrets on it are never cached (PAGE_HEADERS: no-store). */
export function consolePage(node: unknown, status = 200, headers: Record<string, string | string[]> = {}): Promise<Response> {
  return htmlPage(node, status, { ...SCRIPT_PAGE_HEADERS, ...headers });
}

/** The enhancement script: confirm before `data-confirm` forms, a copy button beside each secret. */
export const CONSOLE_SCRIPT = `"use strict";
document.addEventListener("submit", function (e) {
  var f = e.target, q = f && f.getAttribute && f.getAttribute("data-confirm");
  if (q && !window.confirm(q)) e.preventDefault();
});
document.querySelectorAll("[data-secret]").forEach(function (el) {
  if (!navigator.clipboard) return;
  var b = document.createElement("button");
  b.type = "button"; b.textContent = "Copy"; b.className = "copy";
  b.addEventListener("click", function () { navigator.clipboard.writeText(el.textContent || ""); b.textContent = "Copied"; });
  el.after(b);
});
`;
