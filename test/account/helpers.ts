/** Helpers for the account pages inside workerd: the dev mailbox, users with email, the hosted forms. */
import { SELF } from "cloudflare:test";
import { appAuth, call, uniqueSlug, type TestApp } from "../helpers";
import { addClient, Browser, hiddenFields, oauthApp, type OAuthTestApp, type TestClient } from "../oauth/helpers";

export interface Mail {
  id: string;
  app_id: string;
  type: string;
  kind: "password_reset" | "email_verification" | "email_code";
  to: string;
  subject: string;
  text: string;
  html: string;
  link?: string;
  code?: string;
}

export async function mailbox(to: string): Promise<Mail[]> {
  const res = await SELF.fetch(`http://127.0.0.1:8787/dev/mailbox.json?to=${encodeURIComponent(to)}`);
  if (res.status !== 200) throw new Error(`mailbox: ${res.status}`);
  return ((await res.json()) as { messages: Mail[] }).messages;
}

/**
 * The next message of `kind` to `to` that is not in `seen`, once the outbox delivered it
 * (its object's alarm runs right after the request that queued it).
 */
export async function nextMail(to: string, kind: Mail["kind"], seen = new Set<string>()): Promise<Mail> {
  for (let i = 0; i < 200; i++) {
    const found = (await mailbox(to)).find((m) => m.kind === kind && !seen.has(m.id));
    if (found) {
      seen.add(found.id);
      return found;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${kind} mail to ${to}`);
}

export interface MailUser {
  _id: string;
  username: string;
  email: string;
  password: string;
  token?: string;
}

/** A Kinvey signup with an email; `token` is absent under email_verification=required. */
export async function signupWithEmail(app: TestApp, password = "first password 1"): Promise<MailUser> {
  const username = uniqueSlug("u");
  const email = `${username}@example.com`;
  const res = await call(`/user/${app.id}`, { method: "POST", headers: { Authorization: appAuth(app) }, json: { username, password, email } });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { _id: string; _kmd: { authtoken?: string } };
  return { _id: body._id, username, email, password, token: body._kmd.authtoken };
}

export async function accountApp(settings: Record<string, unknown> = {}): Promise<{ app: OAuthTestApp; client: TestClient }> {
  const app = await oauthApp({ settings });
  return { app, client: await addClient(app) };
}

/** GETs a hosted page and posts its form back with `values` (Origin: the issuer). */
export async function submit(browser: Browser, path: string, values: Record<string, string>, from?: string): Promise<Response> {
  const page = from ?? (await (await browser.fetch(path)).text());
  const form = hiddenFields(page);
  for (const [k, v] of Object.entries(values)) form.set(k, v);
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1] ?? path.split("?")[0]!;
  return browser.post(action, form, { Origin: browser.app.origin });
}

/** The path and query of a mailed link, for the test browser (which knows the app's origin). */
export function pathOf(link: string): string {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
}
