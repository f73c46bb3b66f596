/**
 * The four Kinvey credential kinds (SPEC §2) turned into one typed principal.
 * App and master secrets are high-entropy and compared as SHA-256 digests in constant time.
 */
import type { Env } from "../env";
import { KinveyError, RequestError } from "../http/errors";
import { UNVERIFIED_MESSAGE, verificationBlocks } from "../recovery/rules";
import type { App } from "../tenancy/apps";
import { secretMatchesHash } from "../util/crypto";
import { methodSatisfies, passwordSurfaceAllowed, PASSKEY_REQUIRED_MESSAGE } from "./auth-policy";
import { checkPassword } from "./login";
import { clientAddress } from "./rate-limit";
import { sessionByToken, type SessionRow } from "./sessions";
import type { UserRow } from "./users";

export type Principal =
  | { kind: "app" }
  | { kind: "master" }
  | { kind: "user"; user: UserRow; via: "basic" }
  | { kind: "user"; user: UserRow; via: "session"; session: SessionRow; token: string };

export type PrincipalKind = Principal["kind"];

const invalid = (why: string) => new RequestError("invalid_credentials", why);

/** Parses `Authorization` and authenticates it against `app`. Throws RequestError. */
export async function authenticate(env: Env, app: App, headers: Headers): Promise<Principal> {
  const header = headers.get("authorization");
  if (!header) throw invalid("The Authorization header is missing.");
  const space = header.indexOf(" ");
  const scheme = header.slice(0, space === -1 ? undefined : space).toLowerCase();
  const value = space === -1 ? "" : header.slice(space + 1).trim();

  if (scheme === "kinvey") {
    if (!/^[A-Za-z0-9_\-.=+/]{16,512}$/.test(value)) throw invalid("Malformed Kinvey auth token.");
    const found = await sessionByToken(env, app.id, "kinvey", value);
    if (!found) throw invalid("The auth token is unknown, expired or logged out.");
    // A token begun by a password before the app required passkeys is dead now.
    if (!methodSatisfies(app.settings.auth_policy, found.session.auth_method)) throw invalid(PASSKEY_REQUIRED_MESSAGE);
    return { kind: "user", user: found.user, via: "session", session: found.session, token: value };
  }
  if (scheme === "basic") {
    const [name, secret] = decodeBasic(value);
    if (name === app.id) {
      if (await secretMatchesHash(secret, app.masterSecretHash)) return { kind: "master" };
      if (await secretMatchesHash(secret, app.appSecretHash)) return { kind: "app" };
      throw invalid("Wrong app or master secret.");
    }
    if (!passwordSurfaceAllowed(app.settings.auth_policy)) throw invalid(PASSKEY_REQUIRED_MESSAGE);
    const user = await checkPassword(env, { appId: app.id, identifier: name, password: secret, clientAddress: clientAddress(headers) });
    // A good password that may not sign in yet: email_verification=required, email unverified.
    if (verificationBlocks(app.settings, user)) throw new KinveyError("InsufficientCredentials", "email_verification=required", UNVERIFIED_MESSAGE);
    return { kind: "user", user, via: "basic" };
  }
  throw invalid("Unsupported authorization scheme; use Basic or Kinvey.");
}

/** `Basic base64(name:secret)` → [name, secret]; refuses bad base64, missing colon, control characters. */
export function decodeBasic(value: string): [string, string] {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) throw invalid("Malformed Basic credentials (bad base64).");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0)));
  } catch {
    throw invalid("Malformed Basic credentials (bad base64).");
  }
  const colon = text.indexOf(":");
  // eslint-disable-next-line no-control-regex
  if (colon <= 0 || /[\u0000-\u001f\u007f]/.test(text)) throw invalid("Malformed Basic credentials.");
  return [text.slice(0, colon), text.slice(colon + 1)];
}
