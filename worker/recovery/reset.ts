/**
 * Password reset. A request (the hosted "Forgot password?" page, Kinvey's
 * `user-password-reset-initiate`) mails a single-use link that lives 30 minutes, bound to
 * the user and to the password hash at the time, stored as an HMAC (issue.ts). The link's
 * page sets a new password under the app's rules through the user store, and the reset
 * ends every session and refresh chain of the user, voids the user's other reset links,
 * clears the per-account lockout and records `user.password_reset` and `user.updated`.
 * A password change of any kind changes the hash, so it also kills every link issued before.
 */
import { endUserChains } from "../chains/api";
import type { Env } from "../env";
import { eventStatement } from "../events/log";
import { consumeOneTime, oneTimeBySecret, oneTimeDigest, retireUserOneTimeStatement, type OneTimeRow } from "../identity/one-time";
import { clearAccountFailures } from "../identity/rate-limit";
import { deleteAllUserSessionsStatement } from "../identity/sessions";
import { cleanPassword, updateUser, userById, userEventData, UserInputError, type UserRow } from "../identity/users";
import type { App } from "../tenancy/apps";
import { randomToken, timingSafeEqual } from "../util/crypto";
import { issueForIdentifier, issueForUser, type IssueContext, type Issued, type Plan } from "./issue";
import { ACCOUNT_PATHS, tokenLink } from "./links";
import { unusable } from "./rules";

function resetBinding(env: Env, user: Pick<UserRow, "id" | "password_hash">): Promise<string> {
  return oneTimeDigest(env, "reset", user.id, user.password_hash);
}

async function resetPlan(env: Env, user: UserRow, issuer: string, withMail: boolean): Promise<Plan & { token: string }> {
  const token = randomToken();
  return {
    token,
    binding: await resetBinding(env, user),
    secretHash: await oneTimeDigest(env, "secret", token),
    mail:
      withMail && user.email
        ? { type: "user.password_reset_requested", kind: "password_reset", to: user.email, link: tokenLink(issuer, ACCOUNT_PATHS.reset, token), data: {} }
        : null,
  };
}

/** Mails a reset link to the account `identifier` names, if there is one with an email. */
export function requestPasswordReset(env: Env, app: App, identifier: string, issuer: string, ctx: IssueContext): Promise<Issued> {
  return issueForIdentifier(env, app, "password_reset", identifier, ctx, async (user) => (user.email ? resetPlan(env, user, issuer, true) : null));
}

/**
 * A reset token handed straight to a user who just proved the password but must choose a new
 * one (`password_reset_required`): no mail, the same rules as a mailed link.
 */
export async function issueRequiredReset(env: Env, app: App, user: UserRow, ctx: IssueContext): Promise<string | null> {
  let token: string | null = null;
  const issued = await issueForUser(env, app, "password_reset", user, ctx, async () => {
    const plan = await resetPlan(env, user, "", false);
    token = plan.token;
    return plan;
  });
  return issued.limited ? null : token;
}

export interface UsableReset {
  row: OneTimeRow;
  user: UserRow;
  /** The authorization request the reset began from, to sign in again afterwards. */
  fields: [string, string][] | null;
}

/** The link's credential and user when the link may still be used: unused, unexpired, this app's, and the password unchanged. */
export async function usableReset(env: Env, app: App, token: string, now = Date.now()): Promise<UsableReset | null> {
  const row = await oneTimeBySecret(env, app.id, "password_reset", token);
  if (unusable(row, now) || !row?.user_id) return null;
  const user = await userById(env, app.id, row.user_id);
  if (!user || user.status !== "active") return null;
  if (!timingSafeEqual(await resetBinding(env, user), row.binding)) return null;
  return { row, user, fields: row.continue ? (JSON.parse(row.continue) as [string, string][]) : null };
}

export type ResetResult =
  | { ok: true; user: UserRow; fields: [string, string][] | null }
  | { ok: false; problem: "link" }
  | { ok: false; problem: "password"; message: string };

/** Sets the new password from a reset link, with everything a reset implies (see the header). */
export async function completeReset(env: Env, app: App, token: string, password: string, via: string, now = Date.now()): Promise<ResetResult> {
  const found = await usableReset(env, app, token, now);
  if (!found) return { ok: false, problem: "link" };
  // The rules first: a password the app refuses leaves the link usable for another try.
  try {
    cleanPassword(password, app.settings.password_min_length);
  } catch (err) {
    if (err instanceof UserInputError) return { ok: false, problem: "password", message: err.message };
    throw err;
  }
  if (!(await consumeOneTime(env, found.row.id, now))) return { ok: false, problem: "link" };
  const { user } = found;
  const next = await updateUser(env, app, user, { password }, (updated) => [
    deleteAllUserSessionsStatement(env, app.id, user.id),
    retireUserOneTimeStatement(env, app.id, user.id, "password_reset", now),
    eventStatement(env, app.id, "user.password_reset", user.id, { via }, now),
    eventStatement(env, app.id, "user.updated", user.id, { ...userEventData(updated), fields: ["password"] }, now),
  ], now);
  await endUserChains(env, app.id, user.id, "password_reset", now);
  await clearAccountFailures(env, app.id, user);
  return { ok: true, user: next, fields: found.fields };
}
