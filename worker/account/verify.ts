/**
 * Email verification pages (recovery/verification.ts has the rules):
 *   GET  /account/verify-email?token=…   "confirm this email" (GET never uses the link: scanners prefetch)
 *   POST /account/verify-email           confirms it; the next token says email_verified: true
 *   POST /account/verify-email/resend    the "verify your email first" page's button: another link
 */
import { Hono } from "hono";
import { ACCOUNT_PATHS } from "../recovery/links";
import { linkTokenInput, maskEmail } from "../recovery/rules";
import { completeVerification, resendTicket, sendVerification, ticketUser, usableVerification } from "../recovery/verification";
import { ConfirmEmailPage, DonePage, LinkProblemPage, VerifyFirstPage } from "../ui/account";
import { backHref, EXPIRED_FORM, issueContext, pageKit, readPosted, type AccountContext, type AccountEnv } from "./context";
import { LINK_PROBLEM } from "./reset";

export const verifyRoutes = new Hono<AccountEnv>();

async function linkProblem(c: AccountContext, message = LINK_PROBLEM): Promise<Response> {
  const kit = await pageKit(c);
  return kit.send(LinkProblemPage({ appName: c.var.app.name, message }), 400);
}

async function confirmForm(c: AccountContext, token: string, email: string, status: number, error?: string): Promise<Response> {
  const kit = await pageKit(c);
  return kit.send(ConfirmEmailPage({ appName: c.var.app.name, action: ACCOUNT_PATHS.verify, csrf: kit.csrf, token, email, error }), status);
}

verifyRoutes.get(ACCOUNT_PATHS.verify, async (c) => {
  const token = linkTokenInput(c.req.query("token"));
  const found = token ? await usableVerification(c.env, c.var.app, token) : null;
  if (!token || !found) return linkProblem(c);
  return confirmForm(c, token, found.user.email!, 200);
});

verifyRoutes.post(ACCOUNT_PATHS.verify, async (c) => {
  const { app } = c.var;
  const posted = await readPosted(c, async (form) => {
    const token = linkTokenInput(form.get("token"));
    const found = token ? await usableVerification(c.env, app, token) : null;
    return token && found ? confirmForm(c, token, found.user.email!, 403, EXPIRED_FORM) : linkProblem(c);
  });
  if (!posted.ok) return posted.response;
  const token = linkTokenInput(posted.form.get("token"));
  const done = token ? await completeVerification(c.env, app, token) : null;
  if (!done) return linkProblem(c);
  const kit = await pageKit(c);
  const back = backHref(done.fields);
  const page = DonePage({ appName: app.name, heading: "Email confirmed", message: `${done.user.email} is confirmed as your email.`, continueHref: back, continueLabel: "Continue to sign in" });
  return kit.send(page, 200);
});

verifyRoutes.post(ACCOUNT_PATHS.resend, async (c) => {
  const { app, issuer } = c.var;
  const gone = "This page expired. Sign in again to ask for a new link.";
  const verifyFirst = async (ticket: string, email: string, fields: [string, string][], status: number, message: { notice?: string; error?: string }) => {
    const kit = await pageKit(c);
    return kit.send(VerifyFirstPage({ appName: app.name, action: ACCOUNT_PATHS.resend, csrf: kit.csrf, hidden: fields, email, ticket, sent: false, ...message }), status);
  };
  const posted = await readPosted(c, async (form, fields) => {
    const user = await ticketUser(c.env, app, form.get("ticket"));
    return user?.email ? verifyFirst(form.get("ticket")!, maskEmail(user.email), fields, 403, { error: EXPIRED_FORM }) : linkProblem(c, gone);
  });
  if (!posted.ok) return posted.response;
  const user = await ticketUser(c.env, app, posted.form.get("ticket"));
  if (!user || !user.email) return linkProblem(c, gone);
  const ticket = await resendTicket(c.env, app, user.id);
  if (user.email_verified) return verifyFirst(ticket, maskEmail(user.email), posted.fields, 200, { notice: "Your email is already confirmed: sign in again." });
  const issued = await sendVerification(c.env, app, user, issuer, { ...issueContext(c, posted.fields), via: "resend" });
  if (!issued || issued.limited) return verifyFirst(ticket, maskEmail(user.email), posted.fields, 429, { error: "Too many links asked for. Please wait a few minutes." });
  return verifyFirst(ticket, maskEmail(user.email), posted.fields, 200, { notice: `We sent a new link to ${maskEmail(user.email)}.` });
});
