/**
 * Password sign-in shared by Kinvey login, Basic user credentials and the hosted page:
 * rate limits, constant-time answers for unknown users, hash upgrades.
 */
import type { Env } from "../env";
import { RequestError } from "../http/errors";
import { eventStatement } from "../events/log";
import { failureEventReason } from "./attempt-rules";
import { decoyHash, hashPassword, needsRehash, passwordParams, verifyPassword } from "./password";
import { addressKey, attemptKeys, countAccountAttempt, countAddressAttempt, forgiveAttempt } from "./rate-limit";
import { recordSignInStatement, userByIdentifierStatement, type UserRow } from "./users";

export interface PasswordCheck {
  appId: string;
  /** Username, or (hosted login) username-or-email. */
  identifier: string;
  password: string;
  clientAddress: string;
  now?: number;
}

/** Longer identifiers or passwords are never valid: refused before any lookup or hashing. */
export const MAX_IDENTIFIER_LENGTH = 320;
export const MAX_PASSWORD_LENGTH = 1024;

const limited = (wait: number) => new RequestError("rate_limited", "Too many failed attempts; try again later.", wait);

/**
 * The active user whose password this is. Throws RequestError `rate_limited` or
 * `invalid_credentials`; never says which part was wrong. The attempt is counted (address,
 * then account) before the password is checked; a failure writes nothing to D1 except the
 * event of a failure that fills a lock (failureEventReason).
 */
export async function checkPassword(env: Env, check: PasswordCheck): Promise<UserRow> {
  if (check.identifier.length > MAX_IDENTIFIER_LENGTH || check.password.length > MAX_PASSWORD_LENGTH) {
    throw new RequestError("invalid_credentials", "Invalid credentials.");
  }
  const now = check.now ?? Date.now();
  // The address is counted while the user is looked up; the account's key needs the user.
  const [addressWait, user] = await Promise.all([
    countAddressAttempt(env, addressKey(check.appId, check.clientAddress), now),
    userByIdentifierStatement(env, check.appId, check.identifier).first<UserRow>(),
  ]);
  if (addressWait > 0) throw limited(addressWait);
  const keys = await attemptKeys(check.appId, check.clientAddress, check.identifier, user);
  const { wait, counts } = await countAccountAttempt(env, keys, check.clientAddress, now);
  if (wait > 0) throw limited(wait);

  const params = passwordParams(env);
  const ok = await verifyPassword(check.password, user?.password_hash ?? (await decoyHash(params)), params);
  if (!user || !ok || user.status !== "active") {
    const reason = user ? failureEventReason(counts) : null;
    if (reason) await eventStatement(env, check.appId, "user.authentication_failed", user!.id, { reason }, now).run();
    throw new RequestError("invalid_credentials", "Invalid credentials.");
  }
  await forgiveAttempt(env, keys, check.clientAddress, now);
  if (needsRehash(user.password_hash, params)) {
    const upgraded = await hashPassword(check.password, params);
    await recordSignInStatement(env, user.app_id, user.id, now, upgraded).run();
    user.password_hash = upgraded;
  }
  return user;
}
