/** The pure parts of account mail (issue 14): transport configuration, templates, credential and setting rules. */
import { describe, expect, it } from "vitest";
import { mailConfig, transportName } from "../../worker/mail/config";
import { fromHeader } from "../../worker/mail/transports";
import { escapeHtml, renderMail } from "../../worker/mail/templates";
import { signInLinks } from "../../worker/recovery/links";
import { codeInput, linkTokenInput, maskEmail, methodAllowed, overRequestLimit, REQUEST_LIMITS, unusable, verificationBlocks, verificationWanted } from "../../worker/recovery/rules";
import { DEFAULT_SETTINGS, mergeSettings } from "../../worker/tenancy/settings";

describe("mail transport configuration", () => {
  it("defaults to webhook and reads each transport", () => {
    expect(mailConfig({})).toEqual({ transport: "webhook" });
    expect(transportName({ MAIL_TRANSPORT: " Resend " })).toBe("resend");
    expect(mailConfig({ MAIL_TRANSPORT: "dev", DEV_MODE: "true" })).toEqual({ transport: "dev" });
    expect(mailConfig({ MAIL_TRANSPORT: "resend", MAIL_FROM: "no-reply@auth.example.com", MAIL_API_KEY: "re_1" })).toEqual({
      transport: "resend",
      from: "no-reply@auth.example.com",
      apiKey: "re_1",
      apiUrl: "https://api.resend.com",
    });
    expect(mailConfig({ MAIL_TRANSPORT: "postmark", MAIL_FROM: "a@b.example", MAIL_API_KEY: "t" })).toMatchObject({ apiUrl: "https://api.postmarkapp.com" });
  });

  it("refuses what would leak or cannot work: dev outside development, plain http to anything but a local stub, no key, a bad sender", () => {
    expect(mailConfig({ MAIL_TRANSPORT: "dev" })).toMatchObject({ transport: "broken", problem: expect.stringContaining("development") });
    expect(mailConfig({ MAIL_TRANSPORT: "smtp" })).toMatchObject({ transport: "broken" });
    const base = { MAIL_TRANSPORT: "resend", MAIL_FROM: "a@b.example", MAIL_API_KEY: "k" };
    expect(mailConfig({ ...base, MAIL_API_URL: "http://127.0.0.1:9999" })).toMatchObject({ transport: "broken", problem: "MAIL_API_URL must be https" });
    expect(mailConfig({ ...base, MAIL_API_URL: "http://127.0.0.1:9999", DEV_MODE: "true" })).toMatchObject({ transport: "resend", apiUrl: "http://127.0.0.1:9999" });
    expect(mailConfig({ ...base, MAIL_API_URL: "http://mail.example", DEV_MODE: "true" })).toMatchObject({ transport: "broken" });
    expect(mailConfig({ ...base, MAIL_API_KEY: "" })).toMatchObject({ transport: "broken", problem: "MAIL_API_KEY is not set" });
    expect(mailConfig({ ...base, MAIL_FROM: "Name <a@b.example>" })).toMatchObject({ transport: "broken" });
  });

  it("names the sender after the app, without what could break the header", () => {
    expect(fromHeader("Acme Shop", "no-reply@a.example")).toBe('"Acme Shop" <no-reply@a.example>');
    expect(fromHeader('Evil"\r\nBcc: x@y <z>', "n@a.example")).toBe('"EvilBcc: x@y z" <n@a.example>');
    expect(fromHeader("", "n@a.example")).toBe("n@a.example");
  });
});

describe("mail templates", () => {
  it("renders each message as text and HTML with the app's name and its link or code", () => {
    const reset = renderMail({ kind: "password_reset", appName: "Acme", to: "ada@example.com", username: "ada", minutes: 30, link: "https://acme.example/account/reset-password?token=T" });
    expect(reset).toMatchObject({ kind: "password_reset", to: "ada@example.com", subject: "Reset your Acme password", link: "https://acme.example/account/reset-password?token=T" });
    expect(reset.text).toContain("https://acme.example/account/reset-password?token=T");
    expect(reset.text).toContain("expires in 30 minutes");
    expect(reset.html).toContain('href="https://acme.example/account/reset-password?token=T"');
    const verify = renderMail({ kind: "email_verification", appName: "Acme", to: "ada@example.com", username: "ada", minutes: 1440, link: "https://x/v" });
    expect(verify.subject).toBe("Confirm your email for Acme");
    expect(verify.text).toContain("24 hours");
    const code = renderMail({ kind: "email_code", appName: "Acme", to: "ada@example.com", username: "ada", minutes: 10, code: "123456" });
    expect(code.subject).toBe("Your Acme sign-in code: 123456");
    expect(code.html).toContain(">123456<");
    expect(code.link).toBeUndefined();
  });

  it("escapes everything in the HTML part and keeps the subject on one line", () => {
    const m = renderMail({ kind: "password_reset", appName: "<b>Evil</b>\nCo", to: "a@b.example", username: "<script>", minutes: 30, link: 'https://x/?a="b"' });
    expect(m.html).not.toContain("<script>");
    expect(m.html).not.toContain("<b>Evil");
    expect(m.html).toContain("&lt;script&gt;");
    expect(m.html).toContain('href="https://x/?a=&quot;b&quot;"');
    expect(m.subject).toBe("Reset your <b>Evil</b> Co password");
    expect(escapeHtml(`&<>"'`)).toBe("&amp;&lt;&gt;&quot;&#39;");
  });
});

describe("credential rules", () => {
  const row = { user_id: "u", consumed_at: null, expires_at: 1000 };
  it("a credential is usable once, before it expires, and only when it names an account", () => {
    expect(unusable(row, 999)).toBeNull();
    expect(unusable(row, 1000)).toBe("expired");
    expect(unusable({ ...row, consumed_at: 5 }, 10)).toBe("used");
    expect(unusable({ ...row, user_id: null }, 10)).toBe("unknown");
    expect(unusable(null, 10)).toBe("unknown");
  });

  it("reads codes and link tokens strictly", () => {
    expect(codeInput("123 456")).toBe("123456");
    expect(codeInput("123-456")).toBe("123456");
    expect(codeInput("12345")).toBeNull();
    expect(codeInput("12345a")).toBeNull();
    expect(codeInput(null)).toBeNull();
    expect(linkTokenInput("a".repeat(43))).toBe("a".repeat(43));
    expect(linkTokenInput("a".repeat(42))).toBeNull();
    expect(linkTokenInput("a".repeat(42) + "/")).toBeNull();
  });

  it("limits requests per account and per address", () => {
    expect(overRequestLimit(REQUEST_LIMITS.perAccount - 1, 0)).toBe(false);
    expect(overRequestLimit(REQUEST_LIMITS.perAccount, 0)).toBe(true);
    expect(overRequestLimit(0, REQUEST_LIMITS.perAddress)).toBe(true);
  });

  it("masks an email for the 'verify your email' page", () => {
    expect(maskEmail("ada@example.com")).toBe("a•••@example.com");
    expect(maskEmail("x")).toBe("•••");
  });
});

describe("the settings behind the flows", () => {
  it("email_verification decides what is mailed and what is blocked", () => {
    const unverified = { email: "a@b.example", email_verified: 0 };
    expect(verificationWanted({ email_verification: "off" }, unverified)).toBe(false);
    expect(verificationWanted({ email_verification: "optional" }, unverified)).toBe(true);
    expect(verificationWanted({ email_verification: "optional" }, { ...unverified, email: null })).toBe(false);
    expect(verificationWanted({ email_verification: "required" }, { ...unverified, email_verified: 1 })).toBe(false);
    expect(verificationBlocks({ email_verification: "optional" }, unverified)).toBe(false);
    expect(verificationBlocks({ email_verification: "required" }, unverified)).toBe(true);
    expect(verificationBlocks({ email_verification: "required" }, { email_verified: 1 })).toBe(false);
  });

  it("sign_in_methods is a non-empty set of known methods, and decides the sign-in page's links", () => {
    expect(DEFAULT_SETTINGS.sign_in_methods).toEqual(["password"]);
    expect(mergeSettings(DEFAULT_SETTINGS, { sign_in_methods: ["email_code", "password", "email_code"] }).sign_in_methods).toEqual(["password", "email_code"]);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { sign_in_methods: [] })).toThrow(/sign_in_methods/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { sign_in_methods: ["sms"] })).toThrow(/unknown method sms/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { email_verification: "sometimes" })).toThrow(/email_verification must be one of/);
    const fields: [string, string][] = [["client_id", "c"], ["prompt", "login"]];
    expect(signInLinks({ sign_in_methods: ["password"] }, fields)).toEqual({ forgotHref: "/account/forgot-password?client_id=c" });
    expect(signInLinks({ sign_in_methods: ["email_code"] }, fields)).toEqual({ emailCodeHref: "/account/email-code?client_id=c" });
    expect(methodAllowed({ sign_in_methods: ["password", "email_code"] }, "email_code")).toBe(true);
  });
});
