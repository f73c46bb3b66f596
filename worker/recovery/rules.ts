/**
 * The rules of the mailed credentials (password reset, email verification, sign-in codes)
 * and of the settings that govern them, as pure functions. The flows that apply them are
 * reset.ts, verification.ts and email-code.ts; the store is identity/one-time.ts.
 */
import type { OneTimeKind, OneTimeRow } from "../identity/one-time";
import type { UserRow } from "../identity/users";
import type { AppSettings, SignInMethod } from "../tenancy/settings";

const MINUTE = 60_000;

/** How long each credential lives. */
export const LIFETIME_MS: Record<OneTimeKind, number> = {
  password_reset: 30 * MINUTE,
  email_verification: 24 * 60 * MINUTE,
  email_code: 10 * MINUTE,
};

/** Wrong codes a code survives; the next attempt after them is refused without comparing. */
export const CODE_ATTEMPTS = 5;

/**
 * Messages asked for per window, of each kind: per account (the identifier as typed, so an
 * unknown name counts exactly like a known one and the limit says nothing about accounts)
 * and per client address. A request over either gets no message.
 */
export const REQUEST_LIMITS = {
  windowMs: 15 * MINUTE,
  perAccount: 5,
  perAddress: 30,
} as const;

export function overRequestLimit(accountCount: number, addressCount: number): boolean {
  return accountCount >= REQUEST_LIMITS.perAccount || addressCount >= REQUEST_LIMITS.perAddress;
}

/** Why a stored credential cannot be used now, or null when it can. */
export function unusable(row: Pick<OneTimeRow, "user_id" | "consumed_at" | "expires_at"> | null, now: number): "unknown" | "used" | "expired" | null {
  if (!row || row.user_id === null) return "unknown";
  if (row.consumed_at !== null) return "used";
  if (row.expires_at <= now) return "expired";
  return null;
}

/** A typed code: six digits, spaces and dashes ignored; null for anything else. */
export function codeInput(value: string | null): string | null {
  const digits = (value ?? "").replace(/[\s-]/g, "");
  return /^\d{6}$/.test(digits) ? digits : null;
}

/** Link tokens are 256-bit base64url; anything else names nothing and costs no read. */
export function linkTokenInput(value: string | null | undefined): string | null {
  return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null;
}

/** Whether a sign-up (or a later request) mails a verification link to this user. */
export function verificationWanted(settings: Pick<AppSettings, "email_verification">, user: Pick<UserRow, "email" | "email_verified">): boolean {
  return settings.email_verification !== "off" && user.email !== null && !user.email_verified;
}

/** email_verification=required: this user may not sign in until the email is verified. */
export function verificationBlocks(settings: Pick<AppSettings, "email_verification">, user: Pick<UserRow, "email_verified">): boolean {
  return settings.email_verification === "required" && !user.email_verified;
}

/** What the Kinvey API answers a correct password of an unverified user under `required` (401 InsufficientCredentials). */
export const UNVERIFIED_MESSAGE =
  "This app requires a verified email (email_verification=required). Open the link mailed to the account, or ask for a new one with user-email-verification-initiate, then log in.";

export function methodAllowed(settings: Pick<AppSettings, "sign_in_methods">, method: SignInMethod): boolean {
  return settings.sign_in_methods.includes(method);
}

/** `a•••@example.com`: enough for the owner to recognise, not to harvest. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "•••";
  return `${email[0]}•••${email.slice(at)}`;
}
