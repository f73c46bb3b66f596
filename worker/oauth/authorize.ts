/**
 * /oauth2/auth (SPEC §4): GET validates the request and either answers from the browser
 * session (no UI) or shows the hosted page; POST is that page's form (sign-in or sign-up),
 * protected by the pre-login CSRF token and the Origin check, and ends in a code.
 */
import { eventStatement } from "../events/log";
import { readForm } from "../http/body";
import { RequestError } from "../http/errors";
import { clientById } from "../identity/clients";
import { checkPassword } from "../identity/login";
import { hashPassword } from "../identity/password";
import { clientAddress } from "../identity/rate-limit";
import { newUserId, userById, type UserRow } from "../identity/users";
import { bindingHash, storeChallenge } from "../passkeys/challenges";
import { registrationOptions, relyingParty } from "../passkeys/ceremony";
import { methodSatisfies, passwordOutcome } from "../passkeys/policy";
import { passkeyCount } from "../passkeys/store";
import { LoginPage, SignupPage } from "../ui/login";
import { htmlPage, SCRIPT_PAGE_HEADERS } from "../ui/layout";
import { ErrorPage } from "../ui/message";
import { EnrolPage, OfferPage } from "../ui/passkeys";
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
  startBrowserSession,
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

/**
 * Where a browser continues after a passkey step: the authorization request again, minus
 * `prompt` (it has just signed in), which then answers from the new session with a code.
 */
export function continueHref(fields: [string, string][]): string {
  return `/oauth2/auth?${new URLSearchParams(fields.filter(([k]) => k !== "prompt")).toString()}`;
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
    passkeyContinue: options.mode === "login" ? continueHref(fields) : undefined,
  };
  const headers: Record<string, string | string[]> = { ...(options.headers ?? {}) };
  if (pre.isNew) headers["Set-Cookie"] = setCookieHeader(csrfCookie(host), pre.value, CSRF_COOKIE_MAX_AGE);
  const node = options.mode === "login" ? LoginPage(props) : SignupPage({ ...props, minPassword: app.settings.password_min_length });
  return htmlPage(node, options.status ?? 200, { ...headers, ...SCRIPT_PAGE_HEADERS });
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
  const found = await currentSession(c, c.var.app, requestHost(c));
  // A session begun by a password no longer signs anyone in once passkeys are required.
  const current = found && methodSatisfies(c.var.app.settings.auth_policy, found.session.auth_method) ? found : null;
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

  // The auth policy (SPEC §8, worker/passkeys/policy.ts) decides what a correct password leads to.
  const policy = app.settings.auth_policy;
  const outcome = passwordOutcome(policy, policy === "none" ? 0 : await passkeyCount(c.env, app.id, user.id));
  if (outcome === "refuse") {
    return showForm(c, params, request, { mode: "login", status: 403, username, error: "This account signs in with a passkey only. Use “Sign in with a passkey”." });
  }
  if (outcome === "enrol_first") return enrolFirst(c, user, carried(form));

  const current = await currentSession(c, app, host);
  const signedIn = await startBrowserSession(c, app, user, current?.session ?? null, { authMethod: "password", created });
  const cookie = setCookieHeader(sessionCookie(app, host), signedIn.token, app.settings.refresh_token_ttl);
  if (outcome === "offer_enrolment") {
    return htmlPage(OfferPage({ appName: app.name, continueHref: continueHref(carried(form)) }), 200, { "Set-Cookie": cookie, ...SCRIPT_PAGE_HEADERS });
  }
  return redirectWithCode(c, request, signedIn, 303, { "Set-Cookie": cookie });
}

/**
 * passkey_required and no passkey yet: the password earned enrolment only. No session
 * cookie, no code: the page registers a passkey against a challenge bound to this
 * browser's pre-login cookie, then signs in with it.
 */
async function enrolFirst(c: OAuthContext, user: UserRow, fields: [string, string][]): Promise<Response> {
  const { app, issuer } = c.var;
  const host = requestHost(c);
  const pre = preLoginValue(c, host);
  const rp = relyingParty(app, host, issuer);
  const options = await registrationOptions(rp, user, []);
  const challengeId = await storeChallenge(c.env, app.id, { kind: "register", challenge: options.challenge, binding: await bindingHash(pre.value), userId: user.id });
  return htmlPage(
    EnrolPage({ appName: app.name, username: user.username, challengeId, options: JSON.stringify(options), continueHref: continueHref(fields) }),
    200,
    SCRIPT_PAGE_HEADERS,
  );
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
