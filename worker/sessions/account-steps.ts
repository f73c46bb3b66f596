/**
 * The account's own steps between a correct first factor and a session (completeFirstFactor,
 * sign-in.ts), in this order:
 * 1. `password_reset_required` (Kinde's `is_password_reset_requested`, set by the management
 *    API) and the factor was the password: the page to choose a new one, holding a fresh
 *    reset token (the same single-use, 30-minute, hash-bound credential as a mailed link).
 *    After it, the user signs in with the new password. Other factors are not asked.
 * 2. A sign-up mails the verification link when the app verifies emails.
 * 3. `email_verification: required` and the email is not verified: the "verify your email
 *    first" page with a resend button, and no session. A user without an email is refused.
 */
import type { Context } from "hono";
import type { Env } from "../env";
import { clientAddress } from "../http/client-address";
import type { UserRow } from "../identity/users";
import { ACCOUNT_PATHS } from "../recovery/links";
import { issueRequiredReset } from "../recovery/reset";
import { maskEmail, verificationBlocks } from "../recovery/rules";
import { resendTicket, sendVerification } from "../recovery/verification";
import type { App } from "../tenancy/apps";
import { CheckEmailPage, NewPasswordPage, VerifyFirstPage } from "../ui/account";
import { htmlPage } from "../ui/layout";
import { csrfToken, preLoginValue } from "./csrf";

export type AccountStep = { kind: "step"; response: Response } | { kind: "refused"; message: string } | null;

export const NO_EMAIL_MESSAGE = "This app needs a verified email address to sign in, and this account has none. Ask the app's support to add one.";

export async function accountStep<E extends { Bindings: Env }>(
  c: Context<E>,
  site: { app: App; host: string; issuer: string },
  user: UserRow,
  factor: { method: string; created?: boolean; fields: [string, string][] },
): Promise<AccountStep> {
  const { app, host, issuer } = site;
  const ctx = { address: clientAddress(c.env, c.req.raw.headers), fields: factor.fields, via: "hosted", now: Date.now() };
  const pre = preLoginValue(c, host);
  const headers: Record<string, string> = pre.setCookie ? { "Set-Cookie": pre.setCookie } : {};
  const csrf = () => csrfToken(c.env, app.id, pre.value);

  if (factor.method === "password" && user.password_reset_required) {
    const token = await issueRequiredReset(c.env, app, user, ctx);
    if (!token) {
      const page = CheckEmailPage({ appName: app.name, heading: "Try again later", message: "", error: "Too many requests for this account. Please wait a few minutes and sign in again." });
      return { kind: "step", response: await htmlPage(page, 429, headers) };
    }
    const page = NewPasswordPage({ appName: app.name, action: ACCOUNT_PATHS.reset, csrf: await csrf(), token, username: user.username, minPassword: app.settings.password_min_length, required: true });
    return { kind: "step", response: await htmlPage(page, 200, headers) };
  }

  const sent = factor.created ? await sendVerification(c.env, app, user, issuer, { ...ctx, via: "signup" }) : null;
  if (!verificationBlocks(app.settings, user)) return null;
  if (!user.email) return { kind: "refused", message: NO_EMAIL_MESSAGE };
  const page = VerifyFirstPage({
    appName: app.name,
    action: ACCOUNT_PATHS.resend,
    csrf: await csrf(),
    hidden: factor.fields,
    email: maskEmail(user.email),
    ticket: await resendTicket(c.env, app, user.id),
    sent: Boolean(sent && !sent.limited),
  });
  return { kind: "step", response: await htmlPage(page, 403, headers) };
}
