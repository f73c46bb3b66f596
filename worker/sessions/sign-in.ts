/**
 * What a correct first factor leads to on the hosted pages, for every way in (the password
 * form, sign-up, and any later one such as email codes or an upstream provider). The auth
 * policy (identity/auth-policy.ts, SPEC §8) decides: a session, a session with a passkey
 * offer, passkey enrolment before any session, or a refusal. Between the refusal and the
 * rest come the account's own steps (account-steps.ts): a required new password, a
 * verification mail on sign-up, a required email verification. Faces render the refusal in their own page; the other
 * outcomes come with what to send.
 */
import type { Context } from "hono";
import type { Env } from "../env";
import { passwordOutcome } from "../identity/auth-policy";
import { passkeyCount } from "../identity/passkeys";
import type { UserRow } from "../identity/users";
import type { App } from "../tenancy/apps";
import { htmlPage, SCRIPT_PAGE_HEADERS } from "../ui/layout";
import { EnrolPage, OfferPage } from "../ui/passkeys";
import { bindingHash, storeChallenge } from "../webauthn/challenges";
import { registrationOptions, relyingParty } from "../webauthn/ceremony";
import { accountStep } from "./account-steps";
import { startBrowserSession, type SignedIn } from "./browser";
import { continueHref } from "./continue";
import { preLoginValue } from "./csrf";

export type FirstFactorOutcome =
  /** This account signs in with a passkey only. */
  | { kind: "refused"; message: string }
  /** passkey_required and no passkey yet: the enrolment page; no session. */
  | { kind: "enrol"; response: Response }
  /** The account must first choose a new password or verify its email: that page; no session. */
  | { kind: "step"; response: Response }
  /** Signed in; `offer` is the passkey offer page to show before continuing, when the policy asks for one. */
  | { kind: "signed_in"; signedIn: SignedIn; offer: Response | null };

export const PASSKEY_ONLY_MESSAGE = "This account signs in with a passkey only. Use “Sign in with a passkey”.";

export interface FirstFactor {
  /** The `auth_method` the session records: "password", "email_code", "oidc:google", … */
  method: string;
  /** The user was created by this sign-in (sign-up). */
  created?: boolean;
  /** The authorization request being served, to continue with afterwards. */
  fields: [string, string][];
}

export async function completeFirstFactor<E extends { Bindings: Env }>(
  c: Context<E>,
  site: { app: App; host: string; issuer: string },
  user: UserRow,
  factor: FirstFactor,
): Promise<FirstFactorOutcome> {
  const { app, host } = site;
  const policy = app.settings.auth_policy;
  const outcome = passwordOutcome(policy, policy === "none" ? 0 : await passkeyCount(c.env, app.id, user.id));
  if (outcome === "refuse") return { kind: "refused", message: PASSKEY_ONLY_MESSAGE };
  // After the refusal: a factor that may not sign in at all leads to no account step either.
  const step = await accountStep(c, site, user, factor);
  if (step) return step;
  if (outcome === "enrol_first") return { kind: "enrol", response: await enrolmentPage(c, site, user, factor.fields) };
  const signedIn = await startBrowserSession(c, app, host, user, { authMethod: factor.method, created: factor.created });
  const offer =
    outcome === "offer_enrolment"
      ? await htmlPage(OfferPage({ appName: app.name, continueHref: continueHref(factor.fields) }), 200, { "Set-Cookie": signedIn.cookie, ...SCRIPT_PAGE_HEADERS })
      : null;
  return { kind: "signed_in", signedIn, offer };
}

/**
 * The first factor earned enrolment only. No session cookie, no code: the page registers a
 * passkey against a challenge bound to this browser's pre-login cookie, then signs in with it.
 */
async function enrolmentPage<E extends { Bindings: Env }>(c: Context<E>, site: { app: App; host: string; issuer: string }, user: UserRow, fields: [string, string][]): Promise<Response> {
  const { app, host, issuer } = site;
  const pre = preLoginValue(c, host);
  const options = await registrationOptions(relyingParty(app, host, issuer), user, []);
  const challengeId = await storeChallenge(c.env, app.id, { kind: "register", challenge: options.challenge, binding: await bindingHash(pre.value), userId: user.id });
  const headers: Record<string, string | string[]> = { ...SCRIPT_PAGE_HEADERS };
  if (pre.setCookie) headers["Set-Cookie"] = pre.setCookie;
  return htmlPage(EnrolPage({ appName: app.name, username: user.username, challengeId, options: JSON.stringify(options), continueHref: continueHref(fields) }), 200, headers);
}
