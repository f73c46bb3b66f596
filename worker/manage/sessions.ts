/**
 * A user's sessions: Kinvey auth tokens and hosted-login browser sessions (D1), and the
 * OAuth refresh chains (their Durable Object, listed through the chains API). Ending a
 * browser session also ends the chains it began.
 */
import { Hono } from "hono";
import { ApiError } from "../http/errors";
import { endAllUserSessions, endUserSession, MANAGEMENT_API, sessionsOfUser } from "../identity/user-admin";
import { userById } from "../identity/users";
import { iso, need, notFound, ok, type ManageContext, type ManageEnv } from "./context";

export const sessionRoutes = new Hono<ManageEnv>();

async function userOf(c: ManageContext): Promise<string> {
  const id = c.req.param("userId")!;
  if (!(await userById(c.env, c.var.app.id, id))) notFound("user", id);
  return id;
}

sessionRoutes.get("/users/:userId/sessions", need("read:user_sessions", "read:sessions"), async (c) => {
  const userId = await userOf(c);
  const { sessions: rows, chains } = await sessionsOfUser(c.env, c.var.app, userId);
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
  const chains = await endAllUserSessions(c.env, c.var.app, userId, MANAGEMENT_API);
  return ok(c, { chains_ended: chains }, 200, "OK", "User sessions deleted");
});

/** Latch addition: end one session (a browser/Kinvey session id or a refresh chain id). */
sessionRoutes.delete("/users/:userId/sessions/:sessionId", need("delete:user_sessions", "delete:sessions"), async (c) => {
  const userId = await userOf(c);
  const sessionId = c.req.param("sessionId");
  if (!(await endUserSession(c.env, c.var.app, userId, sessionId, MANAGEMENT_API))) throw new ApiError("SESSION_NOT_FOUND", `The user has no session ${sessionId}.`);
  return ok(c, {}, 200, "OK", "Session deleted");
});
