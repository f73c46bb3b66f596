/**
 * Where a browser goes next on the hosted pages. The authorization request is carried
 * through every step (sign-in form, passkey ceremonies, enrolment) as its parameters;
 * anything else a client sent (Kinde's extras) is dropped.
 */
/** Parameters echoed through the hosted form; anything else (Kinde's extras) is dropped. */
export const AUTHORIZE_PARAMS = [
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "prompt",
  "login_hint",
  "max_age",
  "audience",
  "resource",
  "response_mode",
  "start_page",
  // Kinde's: sign in through this upstream connection, skipping the login page.
  "connection_id",
] as const;

/** The authorization parameters of `params`, in order, for hidden form fields. */
export function carried(params: URLSearchParams): [string, string][] {
  const out: [string, string][] = [];
  for (const name of AUTHORIZE_PARAMS) for (const value of params.getAll(name)) out.push([name, value]);
  return out;
}

/**
 * Where a browser continues after a sign-in step: the authorization request again, minus
 * `prompt` (it has just signed in), which then answers from the new session with a code.
 */
export function continueHref(fields: [string, string][]): string {
  return `/oauth2/auth?${new URLSearchParams(fields.filter(([k]) => k !== "prompt")).toString()}`;
}

/** A continuation a page posted back: the authorization request again (without prompt), or the passkey settings page. */
export function safeContinue(value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/oauth2/auth?") || value.length > 4096) return "/passkeys";
  return continueHref(carried(new URLSearchParams(value.slice("/oauth2/auth?".length))));
}
