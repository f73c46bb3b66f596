/**
 * Email verification (setting `email_verification`: off | optional | required). A link is
 * mailed on sign-up (hosted and Kinvey), on Kinvey's `user-email-verification-initiate` and
 * from the hosted "resend" button; it lives 24 hours, is single use, and is bound to the
 * user and the email it was sent to, so a changed email (which the user store makes
 * unverified) kills it. Confirming sets `users.email_verified` (this flow and the
 * management API are the only writers) and makes the user's refresh chains rebuild their
 * claims, so the next token says `email_verified: true`.
 */
import { invalidateUserClaims } from "../chains/api";
import type { Env } from "../env";
import { eventStatement } from "../events/log";
import { identifierKey } from "../identity/identifiers";
import { consumeOneTime, oneTimeBySecret, oneTimeDigest } from "../identity/one-time";
import { updateUser, userById, userEventData, type UserRow } from "../identity/users";
import type { App } from "../tenancy/apps";
import { randomToken, timingSafeEqual } from "../util/crypto";
import { issueForIdentifier, issueForUser, type IssueContext, type Issued, type Plan } from "./issue";
import { ACCOUNT_PATHS, tokenLink } from "./links";
import { unusable, verificationWanted } from "./rules";

function verifyBinding(env: Env, user: Pick<UserRow, "id" | "email">): Promise<string> {
  return oneTimeDigest(env, "verify", user.id, identifierKey(user.email ?? ""));
}

async function verifyPlan(env: Env, user: UserRow, issuer: string): Promise<Plan> {
  const token = randomToken();
  return {
    binding: await verifyBinding(env, user),
    secretHash: await oneTimeDigest(env, "secret", token),
    mail: { type: "user.email_verification_requested", kind: "email_verification", to: user.email!, link: tokenLink(issuer, ACCOUNT_PATHS.verify, token), data: {} },
  };
}

/** Kinvey's `user-email-verification-initiate`: a link for the account `identifier` names, when it has an unverified email. */
export function requestVerification(env: Env, app: App, identifier: string, issuer: string, ctx: IssueContext): Promise<Issued> {
  return issueForIdentifier(env, app, "email_verification", identifier, ctx, async (user) => (verificationWanted(app.settings, user) ? verifyPlan(env, user, issuer) : null));
}

/** Sign-up and the resend button: a link for this user, when the app verifies emails and this one is not yet. */
export async function sendVerification(env: Env, app: App, user: UserRow, issuer: string, ctx: IssueContext): Promise<Issued | null> {
  if (!verificationWanted(app.settings, user)) return null;
  return issueForUser(env, app, "email_verification", user, ctx, () => verifyPlan(env, user, issuer));
}

export interface UsableVerification {
  rowId: string;
  user: UserRow;
  fields: [string, string][] | null;
}

export async function usableVerification(env: Env, app: App, token: string, now = Date.now()): Promise<UsableVerification | null> {
  const row = await oneTimeBySecret(env, app.id, "email_verification", token);
  if (unusable(row, now) || !row?.user_id) return null;
  const user = await userById(env, app.id, row.user_id);
  if (!user || user.status !== "active" || !user.email) return null;
  if (!timingSafeEqual(await verifyBinding(env, user), row.binding)) return null;
  return { rowId: row.id, user, fields: row.continue ? (JSON.parse(row.continue) as [string, string][]) : null };
}

/** Marks the email verified (this flow's one write of the column), with its events. */
export async function markEmailVerified(env: Env, app: App, user: UserRow, via: string, now = Date.now()): Promise<UserRow> {
  if (user.email_verified) return user;
  const next = await updateUser(env, app, user, { emailVerified: true }, (updated) => [
    eventStatement(env, app.id, "user.email_verified", user.id, { email: user.email, via }, now),
    eventStatement(env, app.id, "user.updated", user.id, { ...userEventData(updated), fields: ["email_verified"] }, now),
  ], now);
  await invalidateUserClaims(env, app.id, user.id);
  return next;
}

export async function completeVerification(env: Env, app: App, token: string, now = Date.now()): Promise<{ user: UserRow; fields: [string, string][] | null } | null> {
  const found = await usableVerification(env, app, token, now);
  if (!found || !(await consumeOneTime(env, found.rowId, now))) return null;
  return { user: await markEmailVerified(env, app, found.user, "link", now), fields: found.fields };
}

/**
 * The hosted "resend" button's ticket: it names the user who just proved a first factor
 * and was stopped by `required`, for 30 minutes, under the deployment's HMAC. It lets that
 * browser ask for another link and nothing else.
 */
const TICKET_MS = 30 * 60_000;

export async function resendTicket(env: Env, app: App, userId: string, now = Date.now()): Promise<string> {
  const until = now + TICKET_MS;
  return `${userId}.${until}.${await oneTimeDigest(env, "resend", app.id, userId, String(until))}`;
}

export async function ticketUser(env: Env, app: App, ticket: string | null, now = Date.now()): Promise<UserRow | null> {
  const [userId, until, mac] = (ticket ?? "").split(".");
  if (!userId || !until || !mac || !/^\d{1,15}$/.test(until) || Number(until) <= now || userId.length > 64) return null;
  if (!timingSafeEqual(await oneTimeDigest(env, "resend", app.id, userId, until), mac)) return null;
  const user = await userById(env, app.id, userId);
  return user && user.status === "active" ? user : null;
}
