/**
 * What the account pages share: the app chosen by Host, the pre-login cookie every form's
 * CSRF token is bound to, and the guard every POST passes (Origin, when sent, is the
 * issuer; the CSRF token matches the cookie).
 */
import type { Context } from "hono";
import type { Env } from "../env";
import { readForm } from "../http/body";
import { clientAddress } from "../http/client-address";
import { MAX_EMAIL_LENGTH } from "../identity/users";
import type { IssueContext } from "../recovery/issue";
import { carried, continueHref } from "../sessions/continue";
import { csrfToken, csrfValid, preLoginValue } from "../sessions/csrf";
import { requestHost, type HostVars } from "../tenancy/host";
import { htmlPage } from "../ui/layout";
import { ErrorPage } from "../ui/message";

export type AccountEnv = { Bindings: Env; Variables: HostVars };
export type AccountContext = Context<AccountEnv>;

/** A page with the pre-login cookie set when the browser lacks one, and its CSRF token. */
export async function pageKit(c: AccountContext): Promise<{ csrf: string; send(node: unknown, status: number): Promise<Response> }> {
  const pre = preLoginValue(c, requestHost(c));
  const csrf = await csrfToken(c.env, c.var.app.id, pre.value);
  return { csrf, send: (node, status) => htmlPage(node, status, pre.setCookie ? { "Set-Cookie": pre.setCookie } : {}) };
}

export type Posted = { ok: true; form: URLSearchParams; fields: [string, string][] } | { ok: false; response: Response; form: URLSearchParams | null; fields: [string, string][] };

/**
 * Reads a posted form. Another site's Origin gets an error page; a stale or missing CSRF
 * token gets `csrfExpired` (the page re-rendered with its error) and changes nothing.
 */
export async function readPosted(c: AccountContext, csrfExpired: (form: URLSearchParams, fields: [string, string][]) => Promise<Response>): Promise<Posted> {
  const origin = c.req.header("origin");
  if (origin && origin !== "null" && origin !== c.var.issuer) {
    return { ok: false, form: null, fields: [], response: await htmlPage(ErrorPage({ error: "invalid_request", description: "This form was posted from another site." }), 403) };
  }
  const form = await readForm(c);
  const fields = carried(form);
  if (!(await csrfValid(c, c.var.app.id, requestHost(c), form.get("csrf")))) return { ok: false, form, fields, response: await csrfExpired(form, fields) };
  return { ok: true, form, fields };
}

export const EXPIRED_FORM = "This form expired. Please try again.";

/** Back to the authorization request, when the page was reached from one. */
export function backHref(fields: [string, string][] | null): string | undefined {
  return fields && fields.some(([k]) => k === "client_id") ? continueHref(fields) : undefined;
}

export function issueContext(c: AccountContext, fields: [string, string][] | null): IssueContext {
  return { address: clientAddress(c.env, c.req.raw.headers), fields: fields && fields.length ? fields : null, via: "hosted", now: Date.now() };
}

/** A username or email as typed, or null when it cannot name anyone (empty, absurdly long). */
export function identifierInput(value: string | null): string | null {
  const v = (value ?? "").trim();
  return v && v.length <= MAX_EMAIL_LENGTH ? v : null;
}

export async function notOffered(what: string): Promise<Response> {
  return htmlPage(ErrorPage({ error: "not_found", description: `${what} is not offered by this app.` }), 404);
}
