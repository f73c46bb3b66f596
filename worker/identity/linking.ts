/**
 * Which user an upstream sign-in is (issue 15). The decision is pure (`decideLink`); the
 * I/O around it reads the identity and the user with the same email, then writes in one
 * batch each: a new user with its identity and events, or a link with its event. Nothing is
 * written when the sign-in is refused, so a failure never leaves a half-made user.
 *
 * Rules:
 * - An identity already linked (connection + subject) signs in its user.
 * - Linking by email needs the provider to have verified the email AND Latch to have it
 *   verified on the existing user AND the app to allow it (`upstream_link_by_email`).
 *   Without Latch's side, anyone could pre-register a victim's address with a password and
 *   be joined to the victim's Google account later (pre-account takeover).
 * - A management API pre-link (`POST /users/{id}/identities`, email as value) is claimed
 *   by the first sign-in through that connection whose email is that one, verified.
 * - Otherwise a new user, when the app allows sign-up through connections
 *   (`upstream_signup`); an email taken by someone else refuses rather than guesses.
 */
import type { Env } from "../env";
import { eventStatement } from "../events/log";
import type { App } from "../tenancy/apps";
import {
  claimPendingStatement,
  identityBySubject,
  insertIdentityStatement,
  isIdentityTaken,
  newIdentityId,
  pendingLinkByEmail,
  recordIdentityLoginStatement,
  type IdentityRow,
} from "./identities";
import { cleanEmail, createUser, findUsers, IdentifierTakenError, newUserId, userById, UserInputError, type UserRow } from "./users";

export interface LinkFacts {
  /** The identity already stored for this connection and subject. */
  identity: { id: string; userId: string } | null;
  /** A pre-link for this connection and the profile's email. */
  pending: { id: string; userId: string } | null;
  /** The user whose email is the profile's email. */
  emailUser: { id: string; emailVerified: boolean } | null;
  profile: { email: string | null; emailVerified: boolean };
  settings: { linkByEmail: boolean; signup: boolean };
}

export type LinkDecision =
  | { kind: "existing"; userId: string; identityId: string }
  | { kind: "claim"; userId: string; identityId: string }
  | { kind: "link"; userId: string }
  | { kind: "create" }
  | { kind: "refuse"; reason: "email_taken" | "signup_closed" };

export function decideLink(f: LinkFacts): LinkDecision {
  if (f.identity) return { kind: "existing", userId: f.identity.userId, identityId: f.identity.id };
  const verified = f.profile.email !== null && f.profile.emailVerified;
  if (f.pending && verified) return { kind: "claim", userId: f.pending.userId, identityId: f.pending.id };
  if (f.emailUser) {
    if (verified && f.emailUser.emailVerified && f.settings.linkByEmail) return { kind: "link", userId: f.emailUser.id };
    return { kind: "refuse", reason: "email_taken" };
  }
  return f.settings.signup ? { kind: "create" } : { kind: "refuse", reason: "signup_closed" };
}

export interface UpstreamIdentity {
  connectionId: string;
  /** The `auth_method` this sign-in records (`oidc:google`), for events. */
  method: string;
  subject: string;
  email: string | null;
  emailVerified: boolean;
  profile: Record<string, string>;
}

export type LinkResult =
  | { ok: true; user: UserRow; created: boolean; linked: boolean }
  | { ok: false; reason: "email_taken" | "signup_closed" | "user_inactive" };

async function facts(env: Env, app: App, up: UpstreamIdentity): Promise<LinkFacts> {
  const [identity, pending, emailUsers] = await Promise.all([
    identityBySubject(env, app.id, up.connectionId, up.subject),
    up.email ? pendingLinkByEmail(env, app.id, up.connectionId, up.email) : Promise.resolve(null),
    up.email ? findUsers(env, app.id, { email: up.email, limit: 1 }) : Promise.resolve([]),
  ]);
  const emailUser = emailUsers[0];
  const toLink = (row: IdentityRow | null) => (row ? { id: row.id, userId: row.user_id } : null);
  return {
    identity: toLink(identity),
    pending: toLink(pending),
    emailUser: emailUser ? { id: emailUser.id, emailVerified: emailUser.email_verified === 1 } : null,
    profile: { email: up.email, emailVerified: up.emailVerified },
    settings: { linkByEmail: app.settings.upstream_link_by_email, signup: app.settings.upstream_signup },
  };
}

async function activeUser(env: Env, appId: string, id: string): Promise<UserRow | null> {
  const user = await userById(env, appId, id);
  return user && user.status === "active" ? user : null;
}

/** The user this upstream sign-in is, linking or creating as the rules say. */
export async function resolveUpstreamUser(env: Env, app: App, upstream: UpstreamIdentity, now = Date.now(), retried = false): Promise<LinkResult> {
  const up = { ...upstream, email: usableEmail(upstream.email) };
  if (!up.email) up.emailVerified = false;
  const decision = decideLink(await facts(env, app, up));
  const linkedEvent = (userId: string, identityId: string) =>
    eventStatement(env, app.id, "user.identity_linked", userId, { identity_id: identityId, connection_id: up.connectionId, method: up.method }, now);
  try {
    switch (decision.kind) {
      case "refuse":
        return { ok: false, reason: decision.reason };
      case "existing": {
        const user = await activeUser(env, app.id, decision.userId);
        if (!user) return { ok: false, reason: "user_inactive" };
        await recordIdentityLoginStatement(env, app.id, decision.identityId, up.email, now).run();
        return { ok: true, user, created: false, linked: false };
      }
      case "claim": {
        const user = await activeUser(env, app.id, decision.userId);
        if (!user) return { ok: false, reason: "user_inactive" };
        const [claimed] = await env.DB.batch([claimPendingStatement(env, app.id, decision.identityId, up.subject, now), linkedEvent(user.id, decision.identityId)]);
        if (!claimed?.meta.changes && !retried) return resolveUpstreamUser(env, app, up, now, true);
        return { ok: true, user, created: false, linked: true };
      }
      case "link": {
        const user = await activeUser(env, app.id, decision.userId);
        if (!user) return { ok: false, reason: "user_inactive" };
        const identityId = newIdentityId();
        await env.DB.batch([
          insertIdentityStatement(env, identityRow(app.id, user.id, identityId, up, now)),
          linkedEvent(user.id, identityId),
        ]);
        return { ok: true, user, created: false, linked: true };
      }
      case "create": {
        const id = newUserId();
        const identityId = newIdentityId();
        const user = await createUser(
          env,
          app,
          { id, email: up.email, emailVerified: up.emailVerified, profile: up.profile, via: "upstream" },
          [insertIdentityStatement(env, identityRow(app.id, id, identityId, up, now)), linkedEvent(id, identityId)],
          now,
        );
        return { ok: true, user, created: true, linked: true };
      }
    }
  } catch (err) {
    // A racing first sign-in of the same identity won: sign in as what it made.
    if (isIdentityTaken(err) && !retried) return resolveUpstreamUser(env, app, up, now, true);
    // The email is someone's username (one namespace): refuse, never guess.
    if (err instanceof IdentifierTakenError) return { ok: false, reason: "email_taken" };
    throw err;
  }
}

/** An email the user store accepts, or none: a provider's odd address is not worth failing the sign-in for. */
function usableEmail(email: string | null): string | null {
  try {
    return cleanEmail(email);
  } catch (err) {
    if (err instanceof UserInputError) return null;
    throw err;
  }
}

function identityRow(appId: string, userId: string, id: string, up: UpstreamIdentity, now: number): IdentityRow {
  return { id, app_id: appId, user_id: userId, connection_id: up.connectionId, subject: up.subject, email: up.email, total_logins: 1, created_at: now, last_login_at: now };
}
