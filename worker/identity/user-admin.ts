/**
 * Operator actions on one user, shared by the management API (manage/users.ts,
 * manage/sessions.ts) and the operator console: apply a change (suspension ends every
 * way in), set a password (a lock-out), list and end sessions and refresh chains. Each
 * write is one D1 batch with its event; chains end after the commit.
 */
import { endChain, endSessionChains, endUserChains, invalidateUserClaims, listUserChains, type ChainSummary } from "../chains/api";
import type { Env } from "../env";
import { eventStatement, type EventSource } from "../events/log";
import type { App } from "../tenancy/apps";
import { kinveyLifetime } from "./credentials";
import { deleteAllUserSessionsStatement, deleteSessionStatement, deleteUserSessionsStatement, liveSessionsOfUser, sessionOfUser, type SessionRow } from "./sessions";
import { findUsers, updateUser, userEventData, type UserChange, type UserRow } from "./users";

/** Who acted: the event's source and the reason chains and sessions record. */
export interface Actor {
  source: EventSource;
  reason: string;
}

export const MANAGEMENT_API: Actor = { source: "api", reason: "management_api" };
export const OPERATOR_CONSOLE: Actor = { source: "admin", reason: "operator_console" };

/** The status a suspension toggle leads to: a user disabled through Kinvey stays disabled. */
export function suspensionStatus(row: Pick<UserRow, "status">, suspended: boolean): UserRow["status"] | undefined {
  return row.status === "disabled" ? undefined : suspended ? "suspended" : "active";
}

/**
 * Applies `change` with its `user.updated` event. A user being suspended keeps no way in:
 * sessions go in the same batch, refresh chains just after; otherwise the chains rebuild
 * their claims on the next refresh.
 */
export async function changeUser(env: Env, app: App, row: UserRow, change: UserChange, actor: Actor, now = Date.now()): Promise<UserRow> {
  const suspending = change.status === "suspended" && row.status === "active";
  const also = (next: UserRow) => [
    eventStatement(env, app.id, "user.updated", row.id, userEventData(next), now, actor.source),
    ...(suspending ? [deleteUserSessionsStatement(env, app.id, row.id)] : []),
  ];
  const next = await updateUser(env, app, row, change, also, now);
  if (suspending) await endUserChains(env, app.id, row.id, "user_suspended", now);
  else await invalidateUserClaims(env, app.id, row.id);
  return next;
}

/** An operator-set password: every session and refresh chain of the user ends. */
export async function setUserPassword(env: Env, app: App, row: UserRow, password: string, actor: Actor, now = Date.now()): Promise<void> {
  await updateUser(env, app, row, { password }, [
    deleteUserSessionsStatement(env, app.id, row.id),
    eventStatement(env, app.id, "user.password_changed", row.id, { user: { id: row.id } }, now, actor.source),
  ], now);
  await endUserChains(env, app.id, row.id, "password_set", now);
}

export interface UserSessions {
  sessions: SessionRow[];
  chains: ChainSummary[];
}

/** The user's live D1 sessions (Kinvey ones within the app's lifetimes, browser) and refresh chains. */
export async function sessionsOfUser(env: Env, app: App, userId: string, now = Date.now()): Promise<UserSessions> {
  const [sessions, chains] = await Promise.all([liveSessionsOfUser(env, app.id, userId, now, kinveyLifetime(app)), listUserChains(env, app.id, userId)]);
  return { sessions, chains };
}

/** Ends every session and refresh chain of the user; answers how many chains ended. */
export async function endAllUserSessions(env: Env, app: App, userId: string, actor: Actor, now = Date.now()): Promise<number> {
  await env.DB.batch([
    deleteAllUserSessionsStatement(env, app.id, userId),
    eventStatement(env, app.id, "session.ended", userId, { user: { id: userId }, scope: "all", reason: actor.reason }, now, actor.source),
  ]);
  return endUserChains(env, app.id, userId, actor.reason, now);
}

/**
 * Ends one session (a browser or Kinvey session id, with the chains it began) or one
 * refresh chain; false when the user has neither with this id.
 */
export async function endUserSession(env: Env, app: App, userId: string, sessionId: string, actor: Actor, now = Date.now()): Promise<boolean> {
  const row = await sessionOfUser(env, app.id, userId, sessionId);
  if (row) {
    await env.DB.batch([
      deleteSessionStatement(env, app.id, row.id),
      eventStatement(env, app.id, "session.ended", userId, { user: { id: userId }, session_id: row.id, kind: row.kind, reason: actor.reason }, now, actor.source),
    ]);
    await endSessionChains(env, app.id, userId, row.id, actor.reason);
    return true;
  }
  const chain = (await listUserChains(env, app.id, userId)).find((ch) => ch.id === sessionId);
  if (!chain) return false;
  await endChain(env, app.id, userId, chain.id, actor.reason);
  await eventStatement(env, app.id, "session.ended", userId, { user: { id: userId }, session_id: chain.id, kind: "refresh_chain", reason: actor.reason }, now, actor.source).run();
  return true;
}

/** The console's search box: an exact id, username or email; empty: the newest users. */
export async function searchUsers(env: Env, appId: string, query: string, limit = 50): Promise<UserRow[]> {
  const q = query.trim();
  if (!q) {
    const { results } = await env.DB.prepare("SELECT * FROM users WHERE app_id = ? ORDER BY created_at DESC, id DESC LIMIT ?").bind(appId, limit).all<UserRow>();
    return results;
  }
  const found = await Promise.all([findUsers(env, appId, { id: q, limit }), findUsers(env, appId, { username: q, limit }), findUsers(env, appId, { email: q, limit })]);
  const seen = new Map<string, UserRow>();
  for (const row of found.flat()) seen.set(row.id, row);
  return [...seen.values()];
}
