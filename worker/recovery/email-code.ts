/**
 * Email one-time codes, a hosted sign-in method (setting `sign_in_methods`): 6 digits,
 * 10 minutes, single use, at most 5 attempts per code, requests limited per account and
 * per address (rules.ts). A code is bound to the browser that asked for it (its pre-login
 * cookie) and to the email it was sent to. An identifier that names no account gets a
 * challenge all the same, whose code matches nothing and which runs out of attempts exactly
 * like a real one. The sign-in itself is `completeFirstFactor` with auth_method "email_code".
 */
import type { Env } from "../env";
import { identifierKey } from "../identity/identifiers";
import { consumeOneTime, countAttempt, oneTimeById, oneTimeDigest } from "../identity/one-time";
import { userById, type UserRow } from "../identity/users";
import type { App } from "../tenancy/apps";
import { randomId, timingSafeEqual } from "../util/crypto";
import { issueForIdentifier, type IssueContext, type Issued } from "./issue";
import { CODE_ATTEMPTS, unusable } from "./rules";

function codeBinding(env: Env, user: Pick<UserRow, "id" | "email">, browser: string): Promise<string> {
  return oneTimeDigest(env, "code-binding", user.id, identifierKey(user.email ?? ""), browser);
}

function codeHash(env: Env, id: string, code: string): Promise<string> {
  return oneTimeDigest(env, "code", id, code);
}

/** Mails a code to the account `identifier` names (when it has an email); `browser` is the pre-login cookie. */
export function requestEmailCode(env: Env, app: App, identifier: string, browser: string, ctx: IssueContext): Promise<Issued> {
  return issueForIdentifier(env, app, "email_code", identifier, ctx, async (user, id) => {
    if (!user.email) return null;
    const code = randomId(6, "0123456789");
    return {
      binding: await codeBinding(env, user, browser),
      secretHash: await codeHash(env, id, code),
      mail: { type: "user.email_code_requested", kind: "email_code", to: user.email, code, data: {} },
    };
  });
}

export type CodeCheck =
  | { ok: true; user: UserRow; fields: [string, string][] | null }
  /** wrong: try again; attempts: this code is spent; expired: used, expired or unknown. */
  | { ok: false; problem: "wrong" | "attempts" | "expired" };

/**
 * Checks a typed code against its challenge. The attempt is counted before the comparison
 * (so parallel guesses cannot exceed the limit), and the comparison needs nothing but the
 * row, so a wrong code costs the same whether the challenge is real or a decoy.
 */
export async function checkEmailCode(env: Env, app: App, challengeId: string, code: string, browser: string, now = Date.now()): Promise<CodeCheck> {
  const row = await countAttempt(env, app.id, challengeId, now, CODE_ATTEMPTS);
  if (!row) {
    const spent = await oneTimeById(env, app.id, "email_code", challengeId);
    return { ok: false, problem: spent && !unusable({ ...spent, user_id: "" }, now) && spent.attempts >= CODE_ATTEMPTS ? "attempts" : "expired" };
  }
  const wrong = (): CodeCheck => ({ ok: false, problem: row.attempts >= CODE_ATTEMPTS ? "attempts" : "wrong" });
  if (!timingSafeEqual(await codeHash(env, row.id, code), row.secret_hash) || !row.user_id) return wrong();
  const user = await userById(env, app.id, row.user_id);
  if (!user || user.status !== "active" || !timingSafeEqual(await codeBinding(env, user, browser), row.binding)) return wrong();
  if (!(await consumeOneTime(env, row.id, now))) return { ok: false, problem: "expired" };
  return { ok: true, user, fields: row.continue ? (JSON.parse(row.continue) as [string, string][]) : null };
}
