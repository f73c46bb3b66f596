/**
 * The four Kinvey credential kinds (SPEC §2) turned into one typed principal.
 * App and master secrets are high-entropy and compared as SHA-256 digests in constant time.
 */
import type { Env } from "../env";
import { KinveyError, RequestError } from "../http/errors";
import { UNVERIFIED_MESSAGE, verificationBlocks } from "../recovery/rules";
import type { App } from "../tenancy/apps";
import { secretMatchesHash, sha256Hex } from "../util/crypto";
import { methodSatisfies, passwordSurfaceAllowed, PASSKEY_REQUIRED_MESSAGE } from "./auth-policy";
import { checkPassword } from "./login";
import { clientAddress } from "./rate-limit";
import { sessionByToken, sessionByTokenStatement, sessionFromRow, sessionUserSql, type SessionLifetime, type SessionRow } from "./sessions";
import type { UserRow } from "./users";

export type Principal =
  | { kind: "app" }
  | { kind: "master" }
  | { kind: "user"; user: UserRow; via: "basic" }
  | { kind: "user"; user: UserRow; via: "session"; session: SessionRow; token: string };

export type PrincipalKind = Principal["kind"];

const invalid = (why: string) => new RequestError("invalid_credentials", why);

const KINVEY_TOKEN = /^[A-Za-z0-9_\-.=+/]{16,512}$/;

function splitAuthorization(header: string): { scheme: string; value: string } {
  const space = header.indexOf(" ");
  return { scheme: header.slice(0, space === -1 ? undefined : space).toLowerCase(), value: space === -1 ? "" : header.slice(space + 1).trim() };
}

/** The app's Kinvey session lifetimes (settings kinvey_session_idle_seconds, kinvey_session_absolute_seconds). */
export function kinveyLifetime(app: App): SessionLifetime {
  return { idleSeconds: app.settings.kinvey_session_idle_seconds, absoluteSeconds: app.settings.kinvey_session_absolute_seconds };
}

function sessionPrincipal(app: App, found: { session: SessionRow; user: UserRow } | null, token: string): Principal {
  if (!found) throw invalid("The auth token is unknown, expired or logged out.");
  // A token begun by a password before the app required passkeys is dead now.
  if (!methodSatisfies(app.settings.auth_policy, found.session.auth_method)) throw invalid(PASSKEY_REQUIRED_MESSAGE);
  return { kind: "user", user: found.user, via: "session", session: found.session, token };
}

/** Parses `Authorization` and authenticates it against `app`. Throws RequestError. */
export async function authenticate(env: Env, app: App, headers: Headers): Promise<Principal> {
  const header = headers.get("authorization");
  if (!header) throw invalid("The Authorization header is missing.");
  const { scheme, value } = splitAuthorization(header);

  if (scheme === "kinvey") {
    if (!KINVEY_TOKEN.test(value)) throw invalid("Malformed Kinvey auth token.");
    return sessionPrincipal(app, await sessionByToken(env, app.id, "kinvey", value, { lifetime: kinveyLifetime(app) }), value);
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

/**
 * A well-formed Kinvey session token whose lookup the caller runs in its own D1 batch (the
 * data reads: one round trip per request). `userSql` is the session's user id as a scalar
 * subquery for the caller's statement; `principal()` turns the batch's result of `statement`
 * into the principal exactly as authenticate() would, or throws its error. Nothing is
 * cached: every request reads the session, so a logout is immediate.
 */
export interface SessionCheck {
  statement: D1PreparedStatement;
  userSql: { text: string; params: unknown[] };
  principal(result: D1Result | undefined): Principal;
}

/** The deferred check for a Kinvey token header; null for any other credential (authenticate those). */
export async function sessionCheck(env: Env, app: App, headers: Headers): Promise<SessionCheck | null> {
  const header = headers.get("authorization");
  if (!header) return null;
  const { scheme, value } = splitAuthorization(header);
  if (scheme !== "kinvey" || !KINVEY_TOKEN.test(value)) return null;
  const tokenHash = await sha256Hex(value);
  const now = Date.now();
  return {
    statement: sessionByTokenStatement(env, app.id, "kinvey", tokenHash, now, kinveyLifetime(app)),
    userSql: sessionUserSql(app.id, "kinvey", tokenHash, now, kinveyLifetime(app)),
    principal: (result) => sessionPrincipal(app, sessionFromRow(app.id, result?.results[0] as Parameters<typeof sessionFromRow>[1]), value),
  };
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
