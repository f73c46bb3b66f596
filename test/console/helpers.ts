/** Driving the operator console from workerd tests: sign in, read pages, post forms. */
import { SELF } from "cloudflare:test";

/** The deployment's own host in the `dev` environment (BASE_HOST). */
export const CONSOLE = "http://localhost:8787/console";

export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no CSRF token in page: ${html.slice(0, 300)}`);
  return match[1]!;
}

export function cookieOf(res: Response, name: string): string | null {
  for (const line of res.headers.getAll("Set-Cookie")) if (line.startsWith(`${name}=`)) return line.slice(name.length + 1, line.indexOf(";"));
  return null;
}

/** A distinct client address per caller keeps the sign-in counters of tests apart. */
let addresses = 0;
export function address(): string {
  addresses += 1;
  return `198.51.100.${addresses}`;
}

/** The sign-in page's CSRF token and the pre-login cookie it is bound to. */
export async function signInForm(ip: string): Promise<{ csrf: string; cookie: string }> {
  const res = await SELF.fetch(CONSOLE, { headers: { "cf-connecting-ip": ip } });
  if (res.status !== 200) throw new Error(`sign-in page: ${res.status}`);
  return { csrf: csrfOf(await res.text()), cookie: `latch_csrf=${cookieOf(res, "latch_csrf")}` };
}

export function postSignIn(ip: string, form: { csrf: string; cookie: string }, token: string | null): Promise<Response> {
  const body = new URLSearchParams({ csrf: form.csrf, ...(token === null ? {} : { token }) });
  return SELF.fetch(`${CONSOLE}/sign-in`, { method: "POST", redirect: "manual", headers: { Cookie: form.cookie, "cf-connecting-ip": ip }, body });
}

export interface Operator {
  cookie: string;
  get(path: string): Promise<{ status: number; html: string; res: Response }>;
  /** Posts a form with the page's CSRF token (read from `from`, default `path`'s page) unless `csrf` is given. */
  post(path: string, fields?: Record<string, string>, options?: { csrf?: string | null; from?: string }): Promise<Response>;
}

export function operator(cookie: string): Operator {
  const headers = { Cookie: `latch_console=${cookie}` };
  const get = async (path: string) => {
    const res = await SELF.fetch(`${CONSOLE}${path}`, { headers, redirect: "manual" });
    return { status: res.status, html: await res.text(), res };
  };
  return {
    cookie,
    get,
    async post(path, fields = {}, options = {}) {
      let csrf = options.csrf;
      if (csrf === undefined) csrf = csrfOf((await get(options.from ?? "/apps")).html);
      const body = new URLSearchParams({ ...fields, ...(csrf === null ? {} : { csrf }) });
      return SELF.fetch(`${CONSOLE}${path}`, { method: "POST", headers, body, redirect: "manual" });
    },
  };
}

export async function signIn(): Promise<Operator> {
  const ip = address();
  const res = await postSignIn(ip, await signInForm(ip), "test-admin-token");
  if (res.status !== 303) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  return operator(cookieOf(res, "latch_console")!);
}
