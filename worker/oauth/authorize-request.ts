/**
 * Validation of an authorization request (SPEC §4), pure. Problems with the client or
 * the redirect URI are shown on an error page (never redirected: the URI is not trusted);
 * every other problem goes back to the client's redirect URI with `error`.
 */
import { oauthErrorText } from "../http/errors";
import { clientScopeLimit, type Client } from "../identity/clients";
import { AUTHORIZE_PARAMS } from "../sessions/continue";
import { validChallenge } from "./pkce";
import { refusedTarget, requestedTargets, TARGET_REFUSED } from "./resources";
import { parseScope, unknownUserScopes } from "./scopes";

export type Prompt = "none" | "login" | "create";

export interface AuthorizeRequest {
  clientId: string;
  client: Client;
  redirectUri: string;
  scope: string[];
  state: string | null;
  nonce: string | null;
  codeChallenge: string | null;
  prompt: Prompt | null;
  loginHint: string | null;
  /** Seconds; a session older than this must log in again (OIDC max_age). */
  maxAge: number | null;
  /** The token's targets: `resource` and `audience` values, allow-listed (resources.ts); empty: the client id. */
  audience: string[];
}

export type AuthorizeCheck =
  | { kind: "ok"; request: AuthorizeRequest }
  | { kind: "page"; error: string; description: string }
  | { kind: "redirect"; redirectUri: string; state: string | null; error: string; description: string };


const MAX_PARAM = 2048;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const PROMPTS = new Set(["none", "login", "create", "consent", "select_account"]);

function single(params: URLSearchParams, name: string): { value: string | null; repeated: boolean } {
  const all = params.getAll(name);
  return { value: all[0] ?? null, repeated: all.length > 1 };
}

/**
 * Exact string match only: no normalisation, no prefix, no case folding (RFC 9700 §4.1.3),
 * except the port of a loopback IP redirect URI, which a native app picks at run time
 * (RFC 8252 §7.3).
 */
export function redirectUriAllowed(client: Pick<Client, "redirectUris">, uri: string): boolean {
  if (client.redirectUris.includes(uri)) return true;
  const portless = withoutLoopbackPort(uri);
  return portless !== null && client.redirectUris.some((r) => withoutLoopbackPort(r) === portless);
}

function withoutLoopbackPort(uri: string): string | null {
  const m = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::\d{1,5})?([/?].*)?$/.exec(uri);
  return m ? `http://${m[1]}${m[2] ?? ""}` : null;
}

/** `resources`: the app's allow-listed resource indicators and audiences (setting `resources`). */
export function checkAuthorizeRequest(params: URLSearchParams, client: Client | null, issuer: string, resources: readonly string[] = []): AuthorizeCheck {
  const clientId = single(params, "client_id");
  if (!clientId.value) return { kind: "page", error: "invalid_request", description: "The request has no client_id." };
  if (clientId.repeated) return { kind: "page", error: "invalid_request", description: "client_id appears more than once." };
  if (!client) return { kind: "page", error: "invalid_client", description: "This application is not known here." };
  const redirect = single(params, "redirect_uri");
  if (!redirect.value) return { kind: "page", error: "invalid_request", description: "The request has no redirect_uri." };
  if (redirect.repeated) return { kind: "page", error: "invalid_request", description: "redirect_uri appears more than once." };
  if (!redirectUriAllowed(client, redirect.value)) {
    return { kind: "page", error: "invalid_request", description: "The redirect_uri is not registered for this application." };
  }
  const redirectUri = redirect.value;
  const stateParam = single(params, "state");
  const state = stateParam.value;
  const fail = (error: string, description: string): AuthorizeCheck => ({ kind: "redirect", redirectUri, state, error, description });

  for (const name of AUTHORIZE_PARAMS) {
    const values = params.getAll(name);
    if (name !== "audience" && name !== "resource" && values.length > 1) return fail("invalid_request", `${name} appears more than once.`);
    if (values.some((v) => v.length > MAX_PARAM)) return fail("invalid_request", `${name} is too long.`);
  }
  if (client.type === "m2m") return fail("unauthorized_client", "Machine-to-machine clients cannot use the authorization endpoint.");

  const responseType = params.get("response_type");
  if (!responseType) return fail("invalid_request", "response_type is required.");
  if (responseType !== "code") return fail("unsupported_response_type", "Only response_type=code is supported.");
  const responseMode = params.get("response_mode");
  if (responseMode && responseMode !== "query") return fail("invalid_request", "Only response_mode=query is supported.");

  const challenge = params.get("code_challenge");
  const method = params.get("code_challenge_method");
  if (method === "plain") return fail("invalid_request", "PKCE method plain is not allowed; use S256.");
  if (method !== null && method !== "S256") return fail("invalid_request", "code_challenge_method must be S256.");
  if (challenge === null && method !== null) return fail("invalid_request", "code_challenge_method given without code_challenge.");
  if (challenge !== null && method === null) return fail("invalid_request", "code_challenge_method=S256 is required (plain is not allowed).");
  if (challenge !== null && !validChallenge(challenge)) return fail("invalid_request", "code_challenge is not a base64url SHA-256 digest.");
  if (challenge === null && client.type === "public") return fail("invalid_request", "Public clients must use PKCE (code_challenge with S256).");

  const scope = parseScope(params.get("scope"));
  const unknown = unknownUserScopes(scope);
  if (unknown.length) return fail("invalid_scope", `Unknown scope: ${unknown.join(" ")}.`);
  const limit = clientScopeLimit(client);
  if (limit && scope.some((s) => !limit.includes(s))) return fail("invalid_scope", "A requested scope is not among the scopes this client registered.");

  let prompt: Prompt | null = null;
  const prompts = (params.get("prompt") ?? "").split(" ").filter(Boolean);
  for (const p of prompts) if (!PROMPTS.has(p)) return fail("invalid_request", `Unsupported prompt value: ${p}.`);
  if (prompts.includes("none") && prompts.length > 1) return fail("invalid_request", "prompt=none cannot be combined with other values.");
  if (prompts.includes("none")) prompt = "none";
  else if (prompts.includes("create") || params.get("start_page") === "registration") prompt = "create";
  else if (prompts.includes("login") || prompts.includes("select_account")) prompt = "login";

  let maxAge: number | null = null;
  const maxAgeParam = params.get("max_age");
  if (maxAgeParam !== null) {
    if (!/^\d{1,10}$/.test(maxAgeParam)) return fail("invalid_request", "max_age must be a whole number of seconds.");
    maxAge = Number(maxAgeParam);
  }

  const targets = requestedTargets(params);
  if (!targets.ok) return fail(targets.error, targets.description);
  const audience = targets.targets;
  // The management API audience is for client_credentials tokens only.
  if (audience.includes(`${issuer}/api`)) return fail("invalid_request", "This audience is not available to user tokens.");
  if (refusedTarget(audience, client, resources) !== null) return fail("invalid_target", TARGET_REFUSED);
  for (const value of [state, params.get("nonce"), params.get("login_hint")]) {
    if (value !== null && CONTROL.test(value)) return fail("invalid_request", "Parameters may not contain control characters.");
  }

  return {
    kind: "ok",
    request: {
      clientId: client.id,
      client,
      redirectUri,
      scope,
      state,
      nonce: params.get("nonce"),
      codeChallenge: challenge,
      prompt,
      loginHint: params.get("login_hint"),
      maxAge,
      audience,
    },
  };
}

/** Fields only the hosted sign-in and sign-up forms post. */
const FORM_FIELDS = ["csrf", "action", "username", "password", "email"];

/**
 * A POST to /oauth2/auth carrying none of the hosted form's own fields is an authorization
 * request sent by POST (OIDC Core §3.1.2.1), sent on to the GET. Anything with one of them
 * is the form, and keeps its CSRF and Origin checks.
 */
export function isAuthorizationRequestPost(form: URLSearchParams): boolean {
  return !FORM_FIELDS.some((name) => form.has(name));
}

/** The redirect URI with `params` added to its query (existing query kept). */
export function redirectWith(redirectUri: string, params: Record<string, string | null | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) url.searchParams.append(key, key === "error_description" ? oauthErrorText(value) : value);
  }
  return url.toString();
}
