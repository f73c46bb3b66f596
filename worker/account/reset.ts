/**
 * Forgot password and reset (recovery/reset.ts has the rules):
 *   GET  /account/forgot-password   the form (linked from the sign-in page, with its authorization request)
 *   POST /account/forgot-password   always the same "check your email" page, account or not
 *   GET  /account/reset-password?token=…   the new-password form, when the link is usable
 *   POST /account/reset-password    sets it; ends every session and chain of the user
 * The mailed link is only read by GET (mail scanners prefetch links); only POST uses it.
 */
import { Hono } from "hono";
import { ACCOUNT_PATHS } from "../recovery/links";
import { completeReset, requestPasswordReset, usableReset } from "../recovery/reset";
import { linkTokenInput, methodAllowed } from "../recovery/rules";
import { carried } from "../sessions/continue";
import { CheckEmailPage, DonePage, ForgotPasswordPage, LinkProblemPage, NewPasswordPage } from "../ui/account";
import { backHref, EXPIRED_FORM, identifierInput, issueContext, notOffered, pageKit, readPosted, type AccountContext, type AccountEnv } from "./context";

export const resetRoutes = new Hono<AccountEnv>();

export const LINK_PROBLEM = "This link is not valid: it has expired, it was already used, or a newer one replaced it. Ask for a new one.";
const SENT = "If an account with an email matches what you entered, we have sent it a link to choose a new password. The link expires in 30 minutes.";

async function forgotForm(c: AccountContext, fields: [string, string][], state: { status: number; error?: string; identifier?: string }): Promise<Response> {
  const kit = await pageKit(c);
  const page = ForgotPasswordPage({ appName: c.var.app.name, action: ACCOUNT_PATHS.forgot, csrf: kit.csrf, hidden: fields, backHref: backHref(fields), ...state });
  return kit.send(page, state.status);
}

resetRoutes.get(ACCOUNT_PATHS.forgot, async (c) => {
  if (!methodAllowed(c.var.app.settings, "password")) return notOffered("Password sign-in");
  const fields = carried(new URL(c.req.url).searchParams);
  return forgotForm(c, fields, { status: 200, identifier: new URL(c.req.url).searchParams.get("login_hint") ?? undefined });
});

resetRoutes.post(ACCOUNT_PATHS.forgot, async (c) => {
  const { app, issuer } = c.var;
  if (!methodAllowed(app.settings, "password")) return notOffered("Password sign-in");
  const posted = await readPosted(c, (_form, fields) => forgotForm(c, fields, { status: 403, error: EXPIRED_FORM }));
  if (!posted.ok) return posted.response;
  const identifier = identifierInput(posted.form.get("username"));
  if (!identifier) return forgotForm(c, posted.fields, { status: 400, error: "Enter your username or email." });
  const issued = await requestPasswordReset(c.env, app, identifier, issuer, issueContext(c, posted.fields));
  const kit = await pageKit(c);
  const back = backHref(posted.fields);
  if (issued.limited) {
    return kit.send(CheckEmailPage({ appName: app.name, heading: "Try again later", message: "", error: "Too many requests. Please wait a few minutes before asking for another link.", backHref: back }), 429);
  }
  return kit.send(CheckEmailPage({ appName: app.name, heading: "Check your email", message: SENT, backHref: back }), 200);
});

async function linkProblem(c: AccountContext): Promise<Response> {
  const kit = await pageKit(c);
  return kit.send(LinkProblemPage({ appName: c.var.app.name, message: LINK_PROBLEM }), 400);
}

async function newPasswordForm(c: AccountContext, token: string, username: string, status: number, error?: string): Promise<Response> {
  const kit = await pageKit(c);
  const { app } = c.var;
  return kit.send(NewPasswordPage({ appName: app.name, action: ACCOUNT_PATHS.reset, csrf: kit.csrf, token, username, minPassword: app.settings.password_min_length, error }), status);
}

resetRoutes.get(ACCOUNT_PATHS.reset, async (c) => {
  const token = linkTokenInput(c.req.query("token"));
  const found = token ? await usableReset(c.env, c.var.app, token) : null;
  if (!token || !found) return linkProblem(c);
  return newPasswordForm(c, token, found.user.username, 200);
});

resetRoutes.post(ACCOUNT_PATHS.reset, async (c) => {
  const { app } = c.var;
  const posted = await readPosted(c, async (form) => {
    const token = linkTokenInput(form.get("token"));
    const found = token ? await usableReset(c.env, app, token) : null;
    return token && found ? newPasswordForm(c, token, found.user.username, 403, EXPIRED_FORM) : linkProblem(c);
  });
  if (!posted.ok) return posted.response;
  const token = linkTokenInput(posted.form.get("token"));
  if (!token) return linkProblem(c);
  const password = posted.form.get("password") ?? "";
  if (password !== (posted.form.get("password_confirm") ?? "")) {
    const found = await usableReset(c.env, app, token);
    return found ? newPasswordForm(c, token, found.user.username, 400, "The two passwords differ.") : linkProblem(c);
  }
  const result = await completeReset(c.env, app, token, password, "hosted");
  if (!result.ok && result.problem === "link") return linkProblem(c);
  if (!result.ok) {
    const found = await usableReset(c.env, app, token);
    return found ? newPasswordForm(c, token, found.user.username, 400, `Choose a password of at least ${app.settings.password_min_length} characters.`) : linkProblem(c);
  }
  const kit = await pageKit(c);
  const page = DonePage({
    appName: app.name,
    heading: "Password changed",
    message: "Your password has been changed, and every device signed in to your account has been signed out. Sign in with your new password.",
    continueHref: backHref(result.fields),
    continueLabel: "Sign in",
  });
  return kit.send(page, 200);
});
