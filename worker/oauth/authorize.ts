/**
 * /oauth2/auth (SPEC §4): GET validates the request and either answers from the browser
 * session (no UI) or shows the hosted page; POST is that page's form (sign-in or sign-up),
 * protected by the pre-login CSRF token and the Origin check, and ends in a code.
 *
 * Codes are issued here only. Every other way in (passkeys, and any later first factor)
 * starts the browser session itself and continues to this endpoint (sessions/continue.ts),
 * which then answers from the session.
 */
import { readForm } from "../http/body";
import { RequestError } from "../http/errors";
import { methodSatisfies } from "../identity/auth-policy";
import { connectionButtons, upstreamStartHref } from "../connections/links";
import { checkPassword, MAX_IDENTIFIER_LENGTH, MAX_PASSWORD_LENGTH } from "../identity/login";
import { clientAddress } from "../http/client-address";
import { createUser, IdentifierTakenError, UserInputError, type UserRow } from "../identity/users";
import { currentSession } from "../sessions/browser";
import { carried, continueHref } from "../sessions/continue";
import { csrfToken, csrfValid, preLoginValue } from "../sessions/csrf";
import { micTicketValid } from "../sessions/mic-ticket";
import { completeFirstFactor } from "../sessions/sign-in";
import { signInLinks } from "../recovery/links";
import { methodAllowed } from "../recovery/rules";
import { requestHost } from "../tenancy/host";
import { htmlPage, SCRIPT_PAGE_HEADERS } from "../ui/layout";
import { LoginPage, SignupPage } from "../ui/login";
import { ErrorPage } from "../ui/message";
import { checkAuthorizeRequest, isAuthorizationRequestPost, redirectWith, type AuthorizeRequest } from "./authorize-request";
import { noteClientUse, resolveClient } from "./client-lookup";
import { issueCode } from "./codes";
import { askConsent } from "./consent";
import type { OAuthContext } from "./context";

/** Whom a code is for: the browser session it was issued under. */
interface Grantor {
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
  const client = clientId ? await resolveClient(c.env, app, clientId) : null;
  const result = checkAuthorizeRequest(params, client, issuer, app.settings.resources);
  if (result.kind === "ok") return { ok: true, request: result.request };
  if (result.kind === "page") return { ok: false, response: await htmlPage(ErrorPage({ error: result.error, description: result.description }), 400) };
  const target = redirectWith(result.redirectUri, { error: result.error, error_description: result.description, state: result.state, iss: issuer });
  return { ok: false, response: c.redirect(target, status) };
}

function switchHref(fields: [string, string][], prompt: "login" | "create"): string {
  const next = new URLSearchParams(fields.filter(([k]) => k !== "prompt" && k !== "start_page"));
  next.set("prompt", prompt);
  return `/oauth2/auth?${next.toString()}`;
}

interface FormState {
  mode: "login" | "signup";
  error?: string;
  status?: number;
  username?: string;
  email?: string;
  headers?: Record<string, string>;
}

async function showForm(c: OAuthContext, params: URLSearchParams, request: AuthorizeRequest, state: FormState): Promise<Response> {
  const { app } = c.var;
  const pre = preLoginValue(c, requestHost(c));
  const fields = carried(params);
  const props = {
    appName: app.name,
    action: "/oauth2/auth",
    hidden: fields,
    csrf: await csrfToken(c.env, app.id, pre.value),
    error: state.error,
    username: state.username ?? (state.mode === "login" ? (request.loginHint ?? undefined) : undefined),
    email: state.email,
    switchHref: switchHref(fields, state.mode === "login" ? "create" : "login"),
    passkeyContinue: state.mode === "login" ? continueHref(fields) : undefined,
    connections: state.mode === "login" ? await connectionButtons(c.env, app.id, fields) : undefined,
    ...(state.mode === "login" ? { ...signInLinks(app.settings, fields), passwordForm: methodAllowed(app.settings, "password") } : {}),
  };
  const headers: Record<string, string | string[]> = { ...(state.headers ?? {}), ...SCRIPT_PAGE_HEADERS };
  if (pre.setCookie) headers["Set-Cookie"] = pre.setCookie;
  const node = state.mode === "login" ? LoginPage(props) : SignupPage({ ...props, minPassword: app.settings.password_min_length, emailRequired: app.settings.email_verification === "required" });
  return htmlPage(node, state.status ?? 200, headers);
}

async function redirectWithCode(c: OAuthContext, request: AuthorizeRequest, grantor: Grantor, status: 302 | 303, fields: [string, string][], setCookie?: string): Promise<Response> {
  const { app, issuer } = c.var;
  // Third-party clients get a code only with the user's consent (oauth/consent.ts).
  const consent = await askConsent(c, request, grantor.userId, fields, setCookie);
  if (consent) return consent;
  await noteClientUse(c.env, request.client);
  const code = await issueCode(c.env, app.id, {
    clientId: request.clientId,
    userId: grantor.userId,
    sessionId: grantor.sessionId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    scope: request.scope,
    nonce: request.nonce,
    audience: request.audience,
    authTime: Math.floor(grantor.authTime / 1000),
    authMethod: grantor.authMethod,
  });
  const res = c.redirect(redirectWith(request.redirectUri, { code, state: request.state, iss: issuer }), status);
  if (setCookie) res.headers.append("Set-Cookie", setCookie);
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
    const { session, user } = current;
    return redirectWithCode(c, request, { sessionId: session.id, userId: user.id, authTime: session.created_at, authMethod: session.auth_method }, 302, carried(params));
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
  const connectionId = params.get("connection_id");
  if (connectionId) return c.redirect(upstreamStartHref(connectionId, carried(params)), 302);
  return showForm(c, params, request, { mode: request.prompt === "create" ? "signup" : "login" });
}

export async function authorizePost(c: OAuthContext): Promise<Response> {
  const { app, issuer } = c.var;
  const host = requestHost(c);
  const form = await readForm(c);
  // OIDC Core §3.1.2.1: the authorization request may arrive by POST. It is sent on as the
  // GET: a cross-site POST carries no SameSite=Lax session cookie, the GET navigation does.
  if (isAuthorizationRequestPost(form)) return c.redirect(`/oauth2/auth?${new URLSearchParams(carried(form))}`, 303);
  const origin = c.req.header("origin");
  if (origin && origin !== "null" && origin !== issuer) {
    return htmlPage(ErrorPage({ error: "invalid_request", description: "This form was posted from another site." }), 403);
  }
  const fields = carried(form);
  const params = new URLSearchParams(fields);
  const checked = await check(c, params, 303);
  if (!checked.ok) return checked.response;
  const request = checked.request;
  const mode = form.get("action") === "signup" ? "signup" : "login";
  const username = form.get("username") ?? "";
  const email = (form.get("email") ?? "").trim();
  const again = (state: Omit<FormState, "mode" | "username">) => showForm(c, params, request, { mode, username, ...state });

  // Kinvey MIC's API grant posts this form itself; its ticket stands in for the page's token (sessions/mic-ticket.ts).
  const ticket = new URL(c.req.url).searchParams.get("mic_ticket");
  const formValid = ticket ? await micTicketValid(c.env, app.id, ticket, request) : await csrfValid(c, app.id, host, form.get("csrf"));
  if (!formValid) return again({ status: 403, error: "Your sign-in form expired. Please try again." });
  if (mode === "login" && !methodAllowed(app.settings, "password")) return again({ status: 403, error: "This app does not sign in with passwords." });

  const first = mode === "signup" ? await signUp(c, form) : await signIn(c, form);
  if ("error" in first) return again(first.error);

  const outcome = await completeFirstFactor(c, { app, host, issuer }, first.user, { method: "password", created: mode === "signup", fields });
  if (outcome.kind === "refused") return showForm(c, params, request, { mode: "login", status: 403, username, error: outcome.message });
  if (outcome.kind === "enrol" || outcome.kind === "step") return outcome.response;
  // No browser shows a MIC API grant the passkey offer, and the Kinvey SDK takes 302 only.
  if (outcome.offer && !ticket) return outcome.offer;
  return redirectWithCode(c, request, outcome.signedIn, ticket ? 302 : 303, fields, outcome.signedIn.cookie);
}

type FirstFactorResult = { user: UserRow } | { error: Omit<FormState, "mode" | "username"> };

/** The sign-up form: a new user through the user store, whose rules every surface shares. */
async function signUp(c: OAuthContext, form: URLSearchParams): Promise<FirstFactorResult> {
  const email = (form.get("email") ?? "").trim();
  const input = { username: form.get("username") ?? "", email: email || null, password: form.get("password") ?? "", via: "hosted" as const };
  if (!email && c.var.app.settings.email_verification === "required") return { error: { status: 400, email, error: "Enter your email: this app needs it verified." } };
  try {
    return { user: await createUser(c.env, c.var.app, input) };
  } catch (err) {
    if (err instanceof IdentifierTakenError) return { error: { status: 409, email, error: "That username or email is taken." } };
    if (err instanceof UserInputError) return { error: { status: 400, email, error: signUpProblem(err.field, c.var.app.settings.password_min_length) } };
    throw err;
  }
}

function signUpProblem(field: string, minPassword: number): string {
  if (field === "password") return `Choose a password of at least ${minPassword} characters.`;
  if (field === "email") return "Enter a valid email address, or leave it empty.";
  return "Choose a username of at most 256 characters.";
}

async function signIn(c: OAuthContext, form: URLSearchParams): Promise<FirstFactorResult> {
  const identifier = form.get("username") ?? "";
  const password = form.get("password") ?? "";
  if (!identifier || !password || identifier.length > MAX_IDENTIFIER_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    return { error: { status: 400, error: "Enter your username or email and your password." } };
  }
  try {
    return { user: await checkPassword(c.env, { appId: c.var.app.id, identifier, password, clientAddress: clientAddress(c.env, c.req.raw.headers) }) };
  } catch (err) {
    if (err instanceof RequestError && err.kind === "rate_limited") {
      return { error: { status: 429, error: "Too many failed attempts. Please wait and try again.", headers: { "Retry-After": String(err.retryAfter ?? 60) } } };
    }
    if (err instanceof RequestError && err.kind === "invalid_credentials") return { error: { status: 401, error: "Incorrect username or password." } };
    throw err;
  }
}
