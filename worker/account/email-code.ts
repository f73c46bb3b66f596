/**
 * Sign-in by an emailed code (recovery/email-code.ts has the rules), when the app's
 * `sign_in_methods` include `email_code`:
 *   GET  /account/email-code               "email me a code" (linked from the sign-in page)
 *   POST /account/email-code  op=send      always the "enter your code" page, account or not
 *   POST /account/email-code  op=verify    checks the code; a right one is a first factor
 * A right code confirms the email (it proved the mailbox), then completeFirstFactor applies
 * the auth policy like any sign-in, and the browser continues to /oauth2/auth for its code.
 */
import { Hono } from "hono";
import { checkEmailCode, requestEmailCode } from "../recovery/email-code";
import { ACCOUNT_PATHS } from "../recovery/links";
import { codeInput, methodAllowed } from "../recovery/rules";
import { markEmailVerified } from "../recovery/verification";
import { carried, continueHref } from "../sessions/continue";
import { preLoginCookie } from "../sessions/csrf";
import { completeFirstFactor } from "../sessions/sign-in";
import { requestHost } from "../tenancy/host";
import { EmailCodeEnterPage, EmailCodeRequestPage } from "../ui/account";
import { backHref, EXPIRED_FORM, identifierInput, issueContext, notOffered, pageKit, readPosted, type AccountContext, type AccountEnv } from "./context";

export const emailCodeRoutes = new Hono<AccountEnv>();

const CHALLENGE = /^ott_[0-9a-z]{24}$/;

async function requestForm(c: AccountContext, fields: [string, string][], state: { status: number; error?: string; identifier?: string }): Promise<Response> {
  const kit = await pageKit(c);
  return kit.send(EmailCodeRequestPage({ appName: c.var.app.name, action: ACCOUNT_PATHS.emailCode, csrf: kit.csrf, hidden: fields, backHref: backHref(fields), ...state }), state.status);
}

async function enterForm(c: AccountContext, fields: [string, string][], challenge: string, status: number, message: { error?: string; notice?: string } = {}): Promise<Response> {
  const kit = await pageKit(c);
  const againHref = `${ACCOUNT_PATHS.emailCode}?${new URLSearchParams(fields).toString()}`;
  return kit.send(EmailCodeEnterPage({ appName: c.var.app.name, action: ACCOUNT_PATHS.emailCode, csrf: kit.csrf, hidden: fields, challenge, againHref, ...message }), status);
}

emailCodeRoutes.get(ACCOUNT_PATHS.emailCode, async (c) => {
  if (!methodAllowed(c.var.app.settings, "email_code")) return notOffered("Sign-in by email code");
  const params = new URL(c.req.url).searchParams;
  return requestForm(c, carried(params), { status: 200, identifier: params.get("login_hint") ?? undefined });
});

emailCodeRoutes.post(ACCOUNT_PATHS.emailCode, async (c) => {
  const { app, issuer } = c.var;
  const host = requestHost(c);
  if (!methodAllowed(app.settings, "email_code")) return notOffered("Sign-in by email code");
  const posted = await readPosted(c, (form, fields) =>
    form.get("op") === "verify" && CHALLENGE.test(form.get("challenge") ?? "")
      ? enterForm(c, fields, form.get("challenge")!, 403, { error: EXPIRED_FORM })
      : requestForm(c, fields, { status: 403, error: EXPIRED_FORM }),
  );
  if (!posted.ok) return posted.response;
  const { form, fields } = posted;
  // readPosted checked the CSRF token, so the pre-login cookie is there.
  const browser = preLoginCookie(c, host)!;

  if (form.get("op") !== "verify") {
    const identifier = identifierInput(form.get("username"));
    if (!identifier) return requestForm(c, fields, { status: 400, error: "Enter your username or email." });
    const issued = await requestEmailCode(c.env, app, identifier, browser, issueContext(c, fields));
    if (issued.limited) return requestForm(c, fields, { status: 429, identifier, error: "Too many codes asked for. Please wait a few minutes and try again." });
    return enterForm(c, fields, issued.id!, 200);
  }

  const challenge = form.get("challenge") ?? "";
  if (!CHALLENGE.test(challenge)) return requestForm(c, fields, { status: 400, error: "This sign-in code page is broken. Ask for a new code." });
  const code = codeInput(form.get("code"));
  if (!code) return enterForm(c, fields, challenge, 400, { error: "Enter the 6-digit code from the message." });
  const checked = await checkEmailCode(c.env, app, challenge, code, browser);
  if (!checked.ok) {
    if (checked.problem === "wrong") return enterForm(c, fields, challenge, 401, { error: "That code is not right. Check the message and try again." });
    if (checked.problem === "attempts") return enterForm(c, fields, challenge, 429, { error: "Too many wrong codes: this code no longer works. Ask for a new code." });
    return enterForm(c, fields, challenge, 400, { error: "This code has expired or was already used. Ask for a new code." });
  }
  const next = checked.fields ?? fields;
  const user = await markEmailVerified(c.env, app, checked.user, "email_code");
  const outcome = await completeFirstFactor(c, { app, host, issuer }, user, { method: "email_code", fields: next });
  if (outcome.kind === "refused") return enterForm(c, fields, challenge, 403, { error: outcome.message });
  if (outcome.kind === "enrol" || outcome.kind === "step") return outcome.response;
  if (outcome.offer) return outcome.offer;
  const res = c.redirect(continueHref(next), 303);
  res.headers.append("Set-Cookie", outcome.signedIn.cookie);
  res.headers.set("Cache-Control", "no-store");
  return res;
});
