/**
 * The auth policy (SPEC §8) as pure decisions. One rule for every surface:
 *   - none:              passwords and passkeys both sign in.
 *   - passkey_preferred: both sign in; a password sign-in by a user without a passkey is
 *                        offered enrolment (after the session exists).
 *   - passkey_required:  only a passkey signs in. A user without one may use the password
 *                        once to reach enrolment, and gets no session or token until a
 *                        passkey is enrolled and used. Every password-only surface (Kinvey
 *                        login/signup, Kinvey Basic user credentials) is refused, and
 *                        sessions or chains begun by a password (before the policy changed)
 *                        no longer yield tokens.
 */
import type { AuthPolicy } from "../tenancy/settings";

export type AuthMethod = "password" | "passkey";

/** What a correct password leads to on the hosted login page. */
export type PasswordOutcome =
  /** Sign in as usual. */
  | "session"
  /** Sign in, then offer enrolment before continuing. */
  | "offer_enrolment"
  /** No session: enrol a passkey first, then sign in with it. */
  | "enrol_first"
  /** No session: this user signs in with a passkey only. */
  | "refuse";

export function passwordOutcome(policy: AuthPolicy, passkeyCount: number): PasswordOutcome {
  switch (policy) {
    case "none":
      return "session";
    case "passkey_preferred":
      return passkeyCount === 0 ? "offer_enrolment" : "session";
    case "passkey_required":
      return passkeyCount === 0 ? "enrol_first" : "refuse";
  }
}

/** Whether a session (or chain) begun by `authMethod` may still yield sessions and tokens. */
export function methodSatisfies(policy: AuthPolicy, authMethod: string): boolean {
  return policy !== "passkey_required" || authMethod === "passkey";
}

/** Whether a surface that only knows passwords (the Kinvey API) may sign users in. */
export function passwordSurfaceAllowed(policy: AuthPolicy): boolean {
  return policy !== "passkey_required";
}

export const PASSKEY_REQUIRED_MESSAGE =
  "This app requires passkey sign-in (auth policy passkey_required); password sign-in is not available here. Sign in on the app's hosted login page.";
