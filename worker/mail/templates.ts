/**
 * The messages Latch mails, as HTML and text, per app (its name in the subject, the
 * greeting and the sender's display name). Pure. Every value is escaped in the HTML part;
 * nothing is fetched (no images, no tracking), so a message reads the same offline.
 */

export type MailKind = "password_reset" | "email_verification" | "email_code";

export interface MailMessage {
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The link of a reset or verification message. */
  link?: string;
  /** The code of a sign-in code message. */
  code?: string;
}

export interface MailInput {
  kind: MailKind;
  appName: string;
  to: string;
  username: string;
  /** Minutes the link or code lives. */
  minutes: number;
  link?: string;
  code?: string;
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);
}

/** Subject lines take no line breaks. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

function lifetime(minutes: number): string {
  return minutes % 60 === 0 && minutes >= 60 ? `${minutes / 60} hour${minutes === 60 ? "" : "s"}` : `${minutes} minutes`;
}

interface Parts {
  subject: string;
  intro: string;
  action?: { label: string; href: string };
  code?: string;
  outro: string;
}

function parts(input: MailInput): Parts {
  const app = oneLine(input.appName);
  const life = lifetime(input.minutes);
  switch (input.kind) {
    case "password_reset":
      return {
        subject: `Reset your ${app} password`,
        intro: `Someone asked to reset the password of your ${app} account (${input.username}). If it was you, choose a new password:`,
        action: { label: "Choose a new password", href: input.link ?? "" },
        outro: `The link works once and expires in ${life}. If you did not ask for this, ignore this message: your password stays as it is.`,
      };
    case "email_verification":
      return {
        subject: `Confirm your email for ${app}`,
        intro: `Confirm that ${input.to} is the email address of your ${app} account (${input.username}):`,
        action: { label: "Confirm my email", href: input.link ?? "" },
        outro: `The link works once and expires in ${life}. If you did not create this account, ignore this message.`,
      };
    case "email_code":
      return {
        subject: `Your ${app} sign-in code: ${input.code ?? ""}`,
        intro: `Use this code to sign in to ${app} as ${input.username}:`,
        code: input.code ?? "",
        outro: `It works once and expires in ${life}. Never share it: ${app} will never ask you for it. If you did not try to sign in, ignore this message.`,
      };
  }
}

export function renderMail(input: MailInput): MailMessage {
  const p = parts(input);
  const text = [
    `Hello ${input.username},`,
    "",
    p.intro,
    "",
    ...(p.action ? [p.action.href] : []),
    ...(p.code ? [p.code] : []),
    "",
    p.outro,
    "",
    `— ${oneLine(input.appName)}`,
  ].join("\n");
  const e = escapeHtml;
  const body = [
    `<p>Hello ${e(input.username)},</p>`,
    `<p>${e(p.intro)}</p>`,
    p.action
      ? `<p><a href="${e(p.action.href)}" style="display:inline-block;padding:10px 18px;border-radius:6px;background:#2453d4;color:#ffffff;text-decoration:none;font-weight:600">${e(p.action.label)}</a></p>` +
        `<p style="font-size:13px;color:#5b6475">Or paste this address into your browser: ${e(p.action.href)}</p>`
      : "",
    p.code ? `<p style="font-size:28px;font-weight:700;letter-spacing:6px;font-family:monospace">${e(p.code)}</p>` : "",
    `<p style="color:#5b6475">${e(p.outro)}</p>`,
    `<p>— ${e(oneLine(input.appName))}</p>`,
  ].join("\n");
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${e(p.subject)}</title></head><body style="font:15px/1.5 system-ui,sans-serif;color:#1d2330">\n${body}\n</body></html>`;
  return {
    kind: input.kind,
    to: input.to,
    subject: oneLine(p.subject),
    text,
    html,
    ...(input.link ? { link: input.link } : {}),
    ...(input.code ? { code: input.code } : {}),
  };
}
