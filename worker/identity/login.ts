/**
 * Password sign-in shared by Kinvey login, Basic user credentials and the hosted page:
 * rate limits, constant-time answers for unknown users, hash upgrades.
 */
import type { Env } from "../env";
import { RequestError } from "../http/errors";
import { eventStatement } from "../events/log";
import { decoyHash, hashPassword, needsRehash, passwordParams, verifyPassword } from "./password";
import { countAttemptStatements, forgiveAttempt, limitKeys, retryAfter, type CounterRow } from "./rate-limit";
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

/**
 * The active user whose password this is. Throws RequestError `rate_limited` or
 * `invalid_credentials`; never says which part was wrong.
 */
export async function checkPassword(env: Env, check: PasswordCheck): Promise<UserRow> {
  if (check.identifier.length > MAX_IDENTIFIER_LENGTH || check.password.length > MAX_PASSWORD_LENGTH) {
    throw new RequestError("invalid_credentials", "Invalid credentials.");
  }
  const now = check.now ?? Date.now();
  const keys = await limitKeys(check.appId, check.clientAddress, check.identifier);
  const [users, ...counters] = await env.DB.batch<UserRow | CounterRow>([
    userByIdentifierStatement(env, check.appId, check.identifier),
    ...countAttemptStatements(env, keys, now),
  ]);
  const user = (users?.results[0] as UserRow | undefined) ?? null;
  const rows = counters.flatMap((c) => c.results as CounterRow[]);
  const wait = retryAfter(rows, keys, now);
  if (wait > 0) throw new RequestError("rate_limited", "Too many failed attempts; try again later.", wait);

  const params = passwordParams(env);
  const ok = await verifyPassword(check.password, user?.password_hash ?? (await decoyHash(params)), params);
  if (!user || !ok || user.status !== "active") {
    await eventStatement(env, check.appId, "user.authentication_failed", user?.id ?? null, { reason: "invalid_credentials" }, now).run();
    throw new RequestError("invalid_credentials", "Invalid credentials.");
  }
  await forgiveAttempt(env, keys);
  if (needsRehash(user.password_hash, params)) {
    const upgraded = await hashPassword(check.password, params);
    await recordSignInStatement(env, user.app_id, user.id, now, upgraded).run();
    user.password_hash = upgraded;
  }
  return user;
}
