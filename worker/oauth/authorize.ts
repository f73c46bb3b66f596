/**
 * /oauth2/auth (SPEC §4): GET validates the request and either answers from the browser
 * session (no UI) or shows the hosted page; POST is that page's form (sign-in or sign-up),
 * protected by the pre-login CSRF token and the Origin check, and ends in a code.
 */
import { endSessionChains } from "../chains/api";
import { eventStatement } from "../events/log";
import { readForm } from "../http/body";
import { RequestError } from "../http/errors";
import { clientById } from "../identity/clients";
import { checkPassword } from "../identity/login";
import { hashPassword } from "../identity/password";
import { clientAddress } from "../identity/rate-limit";
import { deleteSessionStatement, prepareSession, type SessionRow } from "../identity/sessions";
import { newUserId, userById, type UserRow } from "../identity/users";
import { LoginPage, SignupPage } from "../ui/login";
import { htmlPage } from "../ui/layout";
import { ErrorPage } from "../ui/message";
import { randomToken, sha256Hex } from "../util/crypto";
import { AUTHORIZE_PARAMS, checkAuthorizeRequest, redirectWith, type AuthorizeRequest } from "./authorize-request";
import {
  CSRF_COOKIE_MAX_AGE,
  csrfCookie,
  csrfToken,
  csrfValid,
  currentSession,
  preLoginValue,
  sessionCookie,
  setCookieHeader,
} from "./browser-session";
import { issueCode } from "./codes";
import { requestHost, type OAuthContext } from "./context";

const MAX_PASSWORD = 1024;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

interface SignedIn {
  sessionId: string;
  userId: string;
  /** ms */
  authTime: number;
  authMethod: string;
}

type Checked = { ok: true; request: AuthorizeRequest } | { ok: false; response: Response };

/** Validates the authorization parameters; problems become an error page or an error redirect. */
async function check(c: OAuthContext, params: URLSearchParams, status: 302 | 303): Promise<Checked> {
  const { app, issuer } = c.var;
  const clientId = params.get("client_id");
  const client = clientId && clientId.length <= 128 ? await clientById(c.env, app.id, clientId) : null;
  const result = checkAuthorizeRequest(params, client, issuer);
  if (result.kind === "ok") return { ok: true, request: result.request };
  if (result.kind === "page") return { ok: false, response: await htmlPage(ErrorPage({ error: result.error, description: result.description }), 400) };
  const target = redirectWith(result.redirectUri, { error: result.error, error_description: result.description, state: result.state, iss: issuer });
  return { ok: false, response: c.redirect(target, status) };
}

/** The authorization parameters to carry through the form (Kinde's extras are dropped). */
function carried(params: URLSearchParams): [string, string][] {
  const out: [string, string][] = [];
  for (const name of AUTHORIZE_PARAMS) for (const value of params.getAll(name)) out.push([name, value]);
  return out;
}

function switchHref(fields: [string, string][], prompt: "login" | "create"): string {
  const next = new URLSearchParams(fields.filter(([k]) => k !== "prompt" && k !== "start_page"));
  next.set("prompt", prompt);
  return `/oauth2/auth?${next.toString()}`;
}

async function showForm(
  c: OAuthContext,
  params: URLSearchParams,
  request: AuthorizeRequest,
  options: { mode: "login" | "signup"; error?: string; status?: number; username?: string; email?: string; headers?: Record<string, string> },
): Promise<Response> {
  const { app } = c.var;
  const host = requestHost(c);
  const pre = preLoginValue(c, host);
  const fields = carried(params);
  const props = {
    appName: app.name,
    action: "/oauth2/auth",
    hidden: fields,
    csrf: await csrfToken(c.env, app.id, pre.value),
    error: options.error,
    username: options.username ?? (options.mode === "login" ? (request.loginHint ?? undefined) : undefined),
    email: options.email,
    switchHref: switchHref(fields, options.mode === "login" ? "create" : "login"),
  };
  const headers: Record<string, string | string[]> = { ...(options.headers ?? {}) };
  if (pre.isNew) headers["Set-Cookie"] = setCookieHeader(csrfCookie(host), pre.value, CSRF_COOKIE_MAX_AGE);
  const node = options.mode === "login" ? LoginPage(props) : SignupPage({ ...props, minPassword: app.settings.password_min_length });
  return htmlPage(node, options.status ?? 200, headers);
}

async function redirectWithCode(c: OAuthContext, request: AuthorizeRequest, signedIn: SignedIn, status: 302 | 303, headers: Record<string, string> = {}): Promise<Response> {
  const { app, issuer } = c.var;
  const code = await issueCode(c.env, app.id, {
    clientId: request.clientId,
    userId: signedIn.userId,
    sessionId: signedIn.sessionId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scope: request.scope,
    nonce: request.nonce,
    audience: request.audience,
    authTime: Math.floor(signedIn.authTime / 1000),
    authMethod: signedIn.authMethod,
  });
  const res = c.redirect(redirectWith(request.redirectUri, { code, state: request.state, iss: issuer }), status);
  for (const [name, value] of Object.entries(headers)) res.headers.append(name, value);
  res.headers.set("Cache-Control", "no-store");
  return res;
}

export async function authorizeGet(c: OAuthContext): Promise<Response> {
  const params = new URL(c.req.url).searchParams;
  const checked = await check(c, params, 302);
  if (!checked.ok) return checked.response;
  const request = checked.request;
  const current = await currentSession(c, c.var.app, requestHost(c));
  const tooOld = current && request.maxAge !== null && Date.now() - current.session.created_at > request.maxAge * 1000;
  const mustLogin = request.prompt === "login" || request.prompt === "create" || tooOld;
  if (current && !mustLogin) {
    return redirectWithCode(c, request, {
      sessionId: current.session.id,
      userId: current.user.id,
      authTime: current.session.created_at,
      authMethod: current.session.auth_method,
    }, 302);
  }
  if (request.prompt === "none") {
    const target = redirectWith(request.redirectUri, {
      error: "login_required",
      error_description: "The user is not signed in.",
      state: request.state,
      iss: c.var.issuer,
    });
    return c.redirect(target, 302);
  }
  return showForm(c, params, request, { mode: request.prompt === "create" ? "signup" : "login" });
}

export async function authorizePost(c: OAuthContext): Promise<Response> {
  const { app, issuer } = c.var;
  const host = requestHost(c);
  const origin = c.req.header("origin");
  if (origin && origin !== "null" && origin !== issuer) {
    return htmlPage(ErrorPage({ error: "invalid_request", description: "This form was posted from another site." }), 403);
  }
  const form = await readForm(c);
  const params = new URLSearchParams(carried(form));
  const checked = await check(c, params, 303);
  if (!checked.ok) return checked.response;
  const request = checked.request;
  const mode = form.get("action") === "signup" ? "signup" : "login";
  const username = form.get("username") ?? "";
  const password = form.get("password") ?? "";
  const email = (form.get("email") ?? "").trim();

  if (!(await csrfValid(c, app.id, host, form.get("csrf")))) {
    return showForm(c, params, request, { mode, status: 403, username, error: "Your sign-in form expired. Please try again." });
  }

  let user: UserRow;
  let created = false;
  if (mode === "signup") {
    const problem = signupProblem(username, password, email, app.settings.password_min_length);
    if (problem) return showForm(c, params, request, { mode, status: 400, username, email, error: problem });
    const made = await createUser(c, username.trim(), password, email || null);
    if (!made) return showForm(c, params, request, { mode, status: 409, username, email, error: "That username is taken." });
    user = made;
    created = true;
  } else {
    if (!username || !password || username.length > 320 || password.length > MAX_PASSWORD) {
      return showForm(c, params, request, { mode, status: 400, username, error: "Enter your username or email and your password." });
    }
    try {
      user = await checkPassword(c.env, { appId: app.id, identifier: username, password, clientAddress: clientAddress(c.req.raw.headers) });
    } catch (err) {
      if (err instanceof RequestError && err.kind === "rate_limited") {
        return showForm(c, params, request, {
          mode,
          status: 429,
          username,
          error: "Too many failed attempts. Please wait and try again.",
          headers: { "Retry-After": String(err.retryAfter ?? 60) },
        });
      }
      if (err instanceof RequestError && err.kind === "invalid_credentials") {
        return showForm(c, params, request, { mode, status: 401, username, error: "Incorrect username or password." });
      }
      throw err;
    }
  }

  const current = await currentSession(c, app, host);
  const signedIn = await startBrowserSession(c, user, current?.session ?? null, created);
  return redirectWithCode(c, request, signedIn, 303, {
    "Set-Cookie": setCookieHeader(sessionCookie(app, host), signedIn.token, app.settings.refresh_token_ttl),
  });
}

function signupProblem(username: string, password: string, email: string, minPassword: number): string | null {
  if (!username.trim() || username.length > 256 || CONTROL.test(username)) return "Choose a username of at most 256 characters.";
  if (password.length < minPassword || password.length > MAX_PASSWORD) return `Choose a password of at least ${minPassword} characters.`;
  if (email && (email.length > 320 || CONTROL.test(email) || !/^[^@\s]+@[^@\s]+$/.test(email))) return "Enter a valid email address, or leave it empty.";
  return null;
}

async function createUser(c: OAuthContext, username: string, password: string, email: string | null): Promise<UserRow | null> {
  const { app } = c.var;
  const id = newUserId();
  const now = Date.now();
  try {
    await c.env.DB.batch([
      c.env.DB.prepare("INSERT INTO users (id, app_id, username, email, password_hash, profile, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '{}', ?, ?)").bind(
        id,
        app.id,
        username,
        email ? email.toLowerCase() : null,
        await hashPassword(password),
        now,
        now,
      ),
      eventStatement(c.env, app.id, "user.created", id, { username, via: "hosted" }, now),
    ]);
  } catch (err) {
    if (err instanceof Error && /UNIQUE constraint failed/i.test(err.message)) return null;
    throw err;
  }
  return userById(c.env, app.id, id);
}

/**
 * Signs the browser in. The same user signing in again keeps the session id (so logout
 * still finds the chains begun under it) with a fresh token and auth time; a different
 * user replaces the session, ending the previous user's chains from it.
 */
async function startBrowserSession(c: OAuthContext, user: UserRow, existing: SessionRow | null, created: boolean): Promise<SignedIn & { token: string }> {
  const { env } = c;
  const { app } = c.var;
  const now = Date.now();
  const expiresAt = now + app.settings.refresh_token_ttl * 1000;
  const authMethod = "password";
  const after = [
    env.DB.prepare("UPDATE users SET last_login_at = ? WHERE app_id = ? AND id = ?").bind(now, app.id, user.id),
    eventStatement(env, app.id, "user.authenticated", user.id, { method: authMethod, via: "hosted", ...(created ? { signup: true } : {}) }, now),
  ];
  if (existing && existing.user_id === user.id) {
    const token = randomToken();
    await env.DB.batch([
      env.DB.prepare("UPDATE sessions SET token_hash = ?, created_at = ?, last_seen_at = ?, auth_method = ?, expires_at = ? WHERE app_id = ? AND id = ?").bind(
        await sha256Hex(token),
        now,
        now,
        authMethod,
        expiresAt,
        app.id,
        existing.id,
      ),
      ...after,
    ]);
    return { token, sessionId: existing.id, userId: user.id, authTime: now, authMethod };
  }
  const session = await prepareSession(env, app.id, user.id, "browser", { authMethod, expiresAt, now });
  await env.DB.batch([session.statement, ...(existing ? [deleteSessionStatement(env, app.id, existing.id)] : []), ...after]);
  if (existing) c.executionCtx.waitUntil(endSessionChains(env, app.id, existing.user_id, existing.id, "session_replaced"));
  return { token: session.token, sessionId: session.id, userId: user.id, authTime: now, authMethod };
}

