/**
 * What `/logout` does (OIDC RP-Initiated Logout §2, §4; SPEC §4), pure. Ending the session
 * at once is what a valid `id_token_hint` for the signed-in user allows; anything else
 * (no hint, a hint that does not validate, a `client_id` that is not the hint's audience,
 * a hint for someone else) shows a confirmation page whose form posts back with a CSRF
 * token, so a link or an image on another site can never sign a user out. A hint that
 * does not validate also forfeits the redirect: its page signs out and stays.
 */
import type { IdTokenHint } from "../tokens/verify";

export interface LogoutFacts {
  /** The validated hint; "absent" when none was sent, "invalid" when one was sent and failed. */
  hint: IdTokenHint | "absent" | "invalid";
  /** The request's `client_id`, if any. */
  clientId: string | null;
  /** The user of the browser session the request carries, if any. */
  sessionUserId: string | null;
}

export type LogoutDecision =
  /** End the session now and redirect (to a URI registered for `clientId`, when it names one). */
  | { kind: "now"; clientId: string | null }
  /** Ask first; `redirect`: whether the confirmed logout may still redirect. */
  | { kind: "confirm"; redirect: boolean; clientId: string | null };

export function decideLogout(f: LogoutFacts): LogoutDecision {
  if (f.hint === "absent") return { kind: "confirm", redirect: true, clientId: f.clientId };
  if (f.hint === "invalid") return { kind: "confirm", redirect: false, clientId: null };
  // §2: when both are sent, the client must be the one the ID token was issued to.
  if (f.clientId !== null && !f.hint.aud.includes(f.clientId)) return { kind: "confirm", redirect: false, clientId: null };
  const clientId = f.clientId ?? f.hint.azp ?? (f.hint.aud.length === 1 ? f.hint.aud[0]! : null);
  // §2: the OP must ask when the hint is not for the user signed in here.
  if (f.sessionUserId !== null && f.sessionUserId !== f.hint.sub) return { kind: "confirm", redirect: true, clientId };
  return { kind: "now", clientId };
}

/** The parameters of a logout request, from the query (GET) or the form (POST). */
export interface LogoutParams {
  /** `post_logout_redirect_uri` (OIDC) or Kinde's `redirect`. */
  target: string | null;
  state: string | null;
  clientId: string | null;
  hint: string | null;
}

const MAX = 16_384;

export function logoutParams(params: URLSearchParams): LogoutParams {
  const one = (name: string) => {
    const value = params.get(name);
    return value && value.length <= MAX ? value : null;
  };
  return { target: one("post_logout_redirect_uri") ?? one("redirect"), state: one("state"), clientId: one("client_id"), hint: one("id_token_hint") };
}
