/**
 * Issuing a mailed credential (a reset link, a verification link, a sign-in code) for an
 * identifier someone typed, without telling them whether it names an account:
 * - the same D1 work either way: one batch reads the user and the two request counters, one
 *   batch writes a row (a real one, or for no usable account a row whose hash matches
 *   nothing) plus, for a real one, its event and mail in the outbox;
 * - the same CPU either way: a message is rendered and sealed even when it is dropped;
 * - the same limits either way: they count the identifier as typed and the client address;
 * - the sending itself is never on the response path: the outbox object does it afterwards.
 * So the page (or Kinvey's 204) that follows is the same, in content and in time.
 */
import type { Env } from "../env";
import type { EventSource, EventType } from "../events/log";
import { identifierKey } from "../identity/identifiers";
import { insertOneTimeStatement, newOneTimeId, oneTimeDigest, recentCountStatements, type OneTimeKind, type OneTimeRow } from "../identity/one-time";
import { MAX_EMAIL_LENGTH, userByIdentifierStatement, type UserRow } from "../identity/users";
import { mailStatements } from "../mail/queue";
import { sealEnvelope } from "../mail/seal";
import { renderMail, type MailKind } from "../mail/templates";
import type { App } from "../tenancy/apps";
import { randomToken } from "../util/crypto";
import { LIFETIME_MS, overRequestLimit, REQUEST_LIMITS } from "./rules";

/** No identifier is longer than the longest email; what is longer names no one. */
const MAX_IDENTIFIER_LENGTH = MAX_EMAIL_LENGTH;

export interface IssueContext {
  /** The client address the request came from (rate limits). */
  address: string;
  /** The hosted authorization request to return to afterwards, if any. */
  fields: [string, string][] | null;
  /** Who asked: `hosted`, `kinvey`, `signup`. Recorded in the event. */
  via: string;
  now: number;
  source?: EventSource;
}

/** What a usable account gets: the credential's secret parts, its binding, and its message. */
export interface Plan {
  /** HMAC of what the credential is bound to. */
  binding: string;
  /** HMAC of the secret, as stored. */
  secretHash: string;
  /** Null: no message (the hosted new-password step hands the token over itself). */
  mail: { type: EventType; kind: MailKind; to: string; link?: string; code?: string; data: Record<string, unknown> } | null;
}

export interface Issued {
  /** Over a request limit: nothing was written or sent. */
  limited: boolean;
  /** The row's id (a code's challenge id). Present whenever not limited, for real and decoy rows alike. */
  id?: string;
}

/** The per-account limit counts this: the identifier as typed, keyed, under the deployment's HMAC. */
export function subjectOf(env: Env, kind: OneTimeKind, identifier: string): Promise<string> {
  return oneTimeDigest(env, "subject", kind, identifierKey(identifier.slice(0, MAX_IDENTIFIER_LENGTH)));
}

async function rowFor(env: Env, app: App, kind: OneTimeKind, id: string, subject: string, ctx: IssueContext, plan: Plan | null, userId: string | null): Promise<OneTimeRow> {
  return {
    id,
    app_id: app.id,
    kind,
    user_id: plan ? userId : null,
    // A decoy's hash is of a secret no one has: it matches nothing.
    secret_hash: plan?.secretHash ?? (await oneTimeDigest(env, "decoy", randomToken())),
    binding: plan?.binding ?? "-",
    subject,
    address: await oneTimeDigest(env, "address", ctx.address),
    continue: ctx.fields ? JSON.stringify(ctx.fields) : null,
    attempts: 0,
    created_at: ctx.now,
    expires_at: ctx.now + LIFETIME_MS[kind],
    consumed_at: null,
  };
}

async function write(env: Env, app: App, kind: OneTimeKind, id: string, subject: string, ctx: IssueContext, user: UserRow | null, plan: Plan | null): Promise<void> {
  const row = await rowFor(env, app, kind, id, subject, ctx, plan, user?.id ?? null);
  const statements = [insertOneTimeStatement(env, row)];
  const minutes = Math.round(LIFETIME_MS[kind] / 60_000);
  if (plan?.mail && user) {
    const { type, kind: mailKind, to, link, code, data } = plan.mail;
    const queued = await mailStatements(env, app, {
      type,
      userId: user.id,
      data: { ...data, via: ctx.via },
      mail: { kind: mailKind, to, username: user.username, minutes, link, code },
      now: ctx.now,
      source: ctx.source,
    });
    statements.push(...queued.statements);
  } else {
    // The work a real message costs, for an answer that costs the same.
    const decoy = renderMail({ kind: kind === "email_code" ? "email_code" : "password_reset", appName: app.name, to: "nobody@invalid", username: "nobody", minutes, link: `https://invalid/${randomToken()}`, code: "000000" });
    await sealEnvelope(env, app.id, id, { transport: "decoy", message: decoy });
  }
  await env.DB.batch(statements);
}

/**
 * Issues a credential of `kind` for whoever `identifier` names (username or email, any
 * form), when `plan` finds the account usable (it returns null otherwise: no email, not
 * active, nothing to verify). Same work, same answer, either way.
 */
export async function issueForIdentifier(
  env: Env,
  app: App,
  kind: OneTimeKind,
  identifier: string,
  ctx: IssueContext,
  plan: (user: UserRow, id: string) => Promise<Plan | null>,
): Promise<Issued> {
  const subject = await subjectOf(env, kind, identifier);
  const address = await oneTimeDigest(env, "address", ctx.address);
  const [users, bySubject, byAddress] = await env.DB.batch([
    userByIdentifierStatement(env, app.id, identifier.slice(0, MAX_IDENTIFIER_LENGTH)),
    ...recentCountStatements(env, app.id, kind, subject, address, ctx.now - REQUEST_LIMITS.windowMs),
  ]);
  const count = (r: D1Result | undefined) => Number((r?.results[0] as { n: number } | undefined)?.n ?? 0);
  if (overRequestLimit(count(bySubject), count(byAddress))) return { limited: true };
  const found = (users?.results[0] as UserRow | undefined) ?? null;
  const user = found && found.status === "active" ? found : null;
  const id = newOneTimeId();
  const made = user ? await plan(user, id) : null;
  await write(env, app, kind, id, subject, ctx, made ? user : null, made);
  return { limited: false, id };
}

/** Issues a credential for a user already in hand (sign-up, the resend button, a required new password). */
export async function issueForUser(env: Env, app: App, kind: OneTimeKind, user: UserRow, ctx: IssueContext, plan: (id: string) => Promise<Plan>): Promise<Issued> {
  const subject = await subjectOf(env, kind, user.username);
  const address = await oneTimeDigest(env, "address", ctx.address);
  const [bySubject, byAddress] = await env.DB.batch(recentCountStatements(env, app.id, kind, subject, address, ctx.now - REQUEST_LIMITS.windowMs));
  const count = (r: D1Result | undefined) => Number((r?.results[0] as { n: number } | undefined)?.n ?? 0);
  if (overRequestLimit(count(bySubject), count(byAddress))) return { limited: true };
  const id = newOneTimeId();
  await write(env, app, kind, id, subject, ctx, user, await plan(id));
  return { limited: false, id };
}
