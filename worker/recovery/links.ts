/**
 * Where the account pages live (the `account` face, worker/account/routes.ts), for the
 * pages and messages of other modules that link to them. Every link carries the
 * authorization request being served, so the browser can go back to it afterwards.
 */
import type { AppSettings } from "../tenancy/settings";
import { methodAllowed } from "./rules";

export const ACCOUNT_PATHS = {
  forgot: "/account/forgot-password",
  reset: "/account/reset-password",
  verify: "/account/verify-email",
  resend: "/account/verify-email/resend",
  emailCode: "/account/email-code",
} as const;

function withFields(path: string, fields: [string, string][]): string {
  const query = new URLSearchParams(fields).toString();
  return query ? `${path}?${query}` : path;
}

/** The links the hosted sign-in page offers besides its password form. */
export function signInLinks(settings: Pick<AppSettings, "sign_in_methods">, fields: [string, string][]): { forgotHref?: string; emailCodeHref?: string } {
  const carriedFields = fields.filter(([k]) => k !== "prompt");
  return {
    ...(methodAllowed(settings, "password") ? { forgotHref: withFields(ACCOUNT_PATHS.forgot, carriedFields) } : {}),
    ...(methodAllowed(settings, "email_code") ? { emailCodeHref: withFields(ACCOUNT_PATHS.emailCode, carriedFields) } : {}),
  };
}

/** A link in a message: the page on the issuer the request came to, with its token. */
export function tokenLink(issuer: string, path: string, token: string): string {
  return `${issuer}${path}?token=${encodeURIComponent(token)}`;
}
