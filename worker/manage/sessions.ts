/**
 * A user's sessions: Kinvey auth tokens and hosted-login browser sessions (D1), and the
 * OAuth refresh chains (their Durable Object, listed through the chains API). Ending a
 * browser session also ends the chains it began.
 */
import { Hono } from "hono";
import { eventStatement } from "../events/log";
import { ApiError } from "../http/errors";
import { kinveyLifetime } from "../identity/credentials";
import { deleteAllUserSessionsStatement, deleteSessionStatement, liveSessionsOfUser, sessionOfUser } from "../identity/sessions";
import { userById } from "../identity/users";
import { iso, need, notFound, ok, type ManageContext, type ManageEnv } from "./context";
import { endChain, endSessionChains, endUserChains, listUserChains } from "../chains/api";

export const sessionRoutes = new Hono<ManageEnv>();

async function userOf(c: ManageContext): Promise<string> {
  const id = c.req.param("userId")!;
  if (!(await userById(c.env, c.var.app.id, id))) notFound("user", id);
  return id;
}

sessionRoutes.get("/users/:userId/sessions", need("read:user_sessions", "read:sessions"), async (c) => {
  const userId = await userOf(c);
  const [rows, chains] = await Promise.all([liveSessionsOfUser(c.env, c.var.app.id, userId, Date.now(), kinveyLifetime(c.var.app)), listUserChains(c.env, c.var.app.id, userId)]);
  const sessions = [
    ...rows.map((s) => ({
      session_id: s.id,
      type: s.kind,
      user_id: userId,
      client_id: null,
      org_code: null,
      started_on: iso(s.created_at),
      updated_on: iso(s.last_seen_at),
      expires_on: iso(s.expires_at),
    })),
    ...chains.map((ch) => ({
      session_id: ch.id,
      type: "refresh_chain",
      user_id: userId,
      client_id: ch.clientId,
      org_code: null,
      browser_session_id: ch.sessionId,
      started_on: iso(ch.createdAt),
      updated_on: iso(ch.createdAt),
      expires_on: iso(ch.expiresAt),
    })),
  ];
  return ok(c, { has_more: false, sessions });
});

sessionRoutes.delete("/users/:userId/sessions", need("delete:user_sessions", "delete:sessions"), async (c) => {
  const userId = await userOf(c);
  const app = c.var.app;
  const now = Date.now();
  await c.env.DB.batch([
    deleteAllUserSessionsStatement(c.env, app.id, userId),
    eventStatement(c.env, app.id, "session.ended", userId, { user: { id: userId }, scope: "all", reason: "management_api" }, now, "api"),
  ]);
  const chains = await endUserChains(c.env, app.id, userId, "management_api", now);
  return ok(c, { chains_ended: chains }, 200, "OK", "User sessions deleted");
});

/** Latch addition: end one session (a browser/Kinvey session id or a refresh chain id). */
sessionRoutes.delete("/users/:userId/sessions/:sessionId", need("delete:user_sessions", "delete:sessions"), async (c) => {
  const userId = await userOf(c);
  const sessionId = c.req.param("sessionId");
  const app = c.var.app;
  const now = Date.now();
  const row = await sessionOfUser(c.env, app.id, userId, sessionId);
  if (row) {
    await c.env.DB.batch([
      deleteSessionStatement(c.env, app.id, row.id),
      eventStatement(c.env, app.id, "session.ended", userId, { user: { id: userId }, session_id: row.id, kind: row.kind, reason: "management_api" }, now, "api"),
    ]);
    await endSessionChains(c.env, app.id, userId, row.id, "management_api");
    return ok(c, {}, 200, "OK", "Session deleted");
  }
  const chain = (await listUserChains(c.env, app.id, userId)).find((ch) => ch.id === sessionId);
  if (!chain) throw new ApiError("SESSION_NOT_FOUND", `The user has no session ${sessionId}.`);
  await endChain(c.env, app.id, userId, chain.id, "management_api");
  await eventStatement(c.env, app.id, "session.ended", userId, { user: { id: userId }, session_id: chain.id, kind: "refresh_chain", reason: "management_api" }, now, "api").run();
  return ok(c, {}, 200, "OK", "Session deleted");
});
