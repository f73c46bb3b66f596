/**
 * The hosted passkey endpoints (SPEC §8), on the app's auth host:
 *   GET  /passkeys/client.js               the ceremony script of the hosted pages
 *   POST /passkeys/authenticate/options    a sign-in challenge for this browser
 *   POST /passkeys/authenticate/verify     verifies it; starts the browser session (auth_method "passkey")
 *   POST /passkeys/register/options        an enrolment challenge for the signed-in user
 *   POST /passkeys/register/verify         verifies it and stores the credential
 *   GET  /passkeys                         settings page: list, rename, delete
 *   POST /passkeys/manage                  that page's form
 * The JSON endpoints need `Origin` = the issuer and the pre-login cookie, to which every
 * challenge is bound; the form needs the CSRF token as well.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { eventStatement } from "../events/log";
import { readForm, readJsonObject } from "../http/body";
import { OAuthError } from "../http/errors";
import { userById } from "../identity/users";
import { currentSession, startBrowserSession } from "../sessions/browser";
import { csrfToken, csrfValid, preLoginCookie, preLoginValue } from "../sessions/csrf";
import { safeContinue } from "../sessions/continue";
import { hostApp, requestHost, type HostVars } from "../tenancy/host";
import type { Env } from "../env";
import { htmlPage, SCRIPT_PAGE_HEADERS } from "../ui/layout";
import { PASSKEY_CLIENT_JS } from "../ui/passkey-client";
import { SettingsPage, SignInFirstPage } from "../ui/passkeys";
import { base64url } from "../util/crypto";
import {
  asAuthenticationResponse,
  asRegistrationResponse,
  authenticationOptions,
  registrationOptions,
  relyingParty,
  userHandle,
  verifyAuthentication,
  verifyRegistration,
} from "../webauthn/ceremony";
import { bindingHash, consumeChallenge, storeChallenge } from "../webauthn/challenges";
import { methodSatisfies } from "../identity/auth-policy";
import {
  cleanName,
  deletePasskeyStatement,
  insertPasskeyStatement,
  MAX_PASSKEYS_PER_USER,
  passkeyById,
  passkeysOfUser,
  passkeyView,
  recordUse,
  renamePasskeyStatement,
  type PasskeyRow,
} from "../identity/passkeys";

type PasskeyEnv = { Bindings: Env; Variables: HostVars & { binding: string } };
type PasskeyContext = Context<PasskeyEnv>;

export const passkeyRoutes = new Hono<PasskeyEnv>();

passkeyRoutes.get("/passkeys/client.js", (c) =>
  c.body(PASSKEY_CLIENT_JS, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff" }),
);

// hostApp sets only app and issuer, which PasskeyEnv has too.
const resolveApp = hostApp as unknown as MiddlewareHandler<PasskeyEnv>;
passkeyRoutes.use("/passkeys", resolveApp);
passkeyRoutes.use("/passkeys/*", resolveApp);

/** JSON ceremony endpoints: POST from the auth host's own pages, in a browser with the pre-login cookie. */
const ceremony: MiddlewareHandler<PasskeyEnv> = async (c, next) => {
  if (c.req.method !== "POST") throw new OAuthError("method_not_allowed", `${c.req.method} is not allowed here.`, 405, { Allow: "POST" });
  if (c.req.header("origin") !== c.var.issuer) throw new OAuthError("access_denied", "Passkey ceremonies run only on the auth host's own pages (Origin).", 403);
  const pre = preLoginCookie(c, requestHost(c));
  if (!pre) throw new OAuthError("invalid_request", "The sign-in cookie is missing; reload the page.", 400);
  c.set("binding", await bindingHash(pre));
  c.header("Cache-Control", "no-store");
  await next();
};
for (const path of ["/passkeys/authenticate/options", "/passkeys/authenticate/verify", "/passkeys/register/options", "/passkeys/register/verify"]) {
  passkeyRoutes.use(path, ceremony);
}

const rpOf = (c: PasskeyContext) => relyingParty(c.var.app, requestHost(c), c.var.issuer);

/** The signed-in user whose session satisfies the policy, or null. */
async function signedIn(c: PasskeyContext) {
  const found = await currentSession(c, c.var.app, requestHost(c));
  return found && methodSatisfies(c.var.app.settings.auth_policy, found.session.auth_method) ? found : null;
}

const badChallenge = () => new OAuthError("invalid_request", "The challenge is unknown, already used, expired or belongs to another browser; start again.", 400);
const refused = (why: string) => new OAuthError("access_denied", why, 401);

passkeyRoutes.post("/passkeys/authenticate/options", async (c) => {
  const options = await authenticationOptions(rpOf(c));
  const id = await storeChallenge(c.env, c.var.app.id, { kind: "authenticate", challenge: options.challenge, binding: c.var.binding, userId: null });
  return c.json({ challenge_id: id, options });
});

passkeyRoutes.post("/passkeys/authenticate/verify", async (c) => {
  const { app } = c.var;
  const body = await readJsonObject(c);
  const response = asAuthenticationResponse(body.response);
  if (typeof body.challenge_id !== "string" || !response) throw new OAuthError("invalid_request", "challenge_id and a WebAuthn assertion (response) are required.");
  // The challenge goes first: whatever happens next, it has had its one use.
  const consumed = await consumeChallenge(c.env, app.id, { id: body.challenge_id, kind: "authenticate", binding: c.var.binding });
  if (!consumed) throw badChallenge();
  const passkey = await passkeyById(c.env, app.id, response.id);
  if (!passkey) throw refused("This passkey is not registered with this app.");
  const handle = response.response.userHandle;
  if (handle && handle !== base64url(userHandle(passkey.user_id))) throw refused("The passkey's user handle does not match its owner.");
  const verified = await verifyAuthentication(rpOf(c), consumed.challenge, response, passkey);
  const now = Date.now();
  if (!verified.ok) {
    await eventStatement(c.env, app.id, "user.authentication_failed", passkey.user_id, { method: "passkey", reason: verified.reason.slice(0, 200) }, now).run();
    throw refused(`The passkey could not be verified: ${verified.reason}`);
  }
  const used = await recordUse(c.env, app.id, passkey.id, { previousCounter: passkey.counter, newCounter: verified.value.newCounter, backedUp: verified.value.backedUp, now });
  if (!used) throw refused("This passkey was used by another sign-in at the same moment.");
  const user = await userById(c.env, app.id, passkey.user_id);
  if (!user || user.status !== "active") throw refused("This account is not active.");
  const session = await startBrowserSession(c, app, requestHost(c), user, { authMethod: "passkey" });
  c.header("Set-Cookie", session.cookie, { append: true });
  return c.json({ redirect: safeContinue(body.continue) });
});

passkeyRoutes.post("/passkeys/register/options", async (c) => {
  const { app } = c.var;
  const found = await signedIn(c);
  if (!found) throw new OAuthError("login_required", "Sign in before adding a passkey.", 401);
  const existing = await passkeysOfUser(c.env, app.id, found.user.id);
  if (existing.length >= MAX_PASSKEYS_PER_USER) throw new OAuthError("invalid_request", `At most ${MAX_PASSKEYS_PER_USER} passkeys per account.`);
  const options = await registrationOptions(rpOf(c), found.user, existing);
  const id = await storeChallenge(c.env, app.id, { kind: "register", challenge: options.challenge, binding: c.var.binding, userId: found.user.id });
  return c.json({ challenge_id: id, options });
});

/**
 * The challenge names the user: it was issued either to that user's session or, under
 * passkey_required, right after that user's password was checked (worker/oauth/authorize.ts),
 * in both cases bound to this browser. Enrolment is never a sign-in: without a session the
 * answer is `next: "authenticate"`.
 */
passkeyRoutes.post("/passkeys/register/verify", async (c) => {
  const { app } = c.var;
  const body = await readJsonObject(c);
  const response = asRegistrationResponse(body.response);
  if (typeof body.challenge_id !== "string" || !response) throw new OAuthError("invalid_request", "challenge_id and a WebAuthn attestation (response) are required.");
  if (body.name !== undefined && cleanName(body.name) === null) throw new OAuthError("invalid_request", "name must be 1 to 64 characters without control characters.");
  const consumed = await consumeChallenge(c.env, app.id, { id: body.challenge_id, kind: "register", binding: c.var.binding });
  if (!consumed?.userId) throw badChallenge();
  const user = await userById(c.env, app.id, consumed.userId);
  if (!user || user.status !== "active") throw refused("This account is not active.");
  const verified = await verifyRegistration(rpOf(c), consumed.challenge, response);
  if (!verified.ok) throw new OAuthError("invalid_request", `The passkey could not be registered: ${verified.reason}`);
  const cred = verified.value;
  const existing = await passkeysOfUser(c.env, app.id, user.id);
  if (existing.length >= MAX_PASSKEYS_PER_USER) throw new OAuthError("invalid_request", `At most ${MAX_PASSKEYS_PER_USER} passkeys per account.`);
  const now = Date.now();
  const row: PasskeyRow = {
    id: cred.id,
    app_id: app.id,
    user_id: user.id,
    public_key: cred.publicKey,
    counter: cred.counter,
    transports: JSON.stringify(cred.transports),
    device_type: cred.deviceType,
    backed_up: cred.backedUp ? 1 : 0,
    name: cleanName(body.name) ?? `Passkey ${existing.length + 1}`,
    created_at: now,
    last_used_at: null,
  };
  try {
    await c.env.DB.batch([
      insertPasskeyStatement(c.env, row),
      eventStatement(c.env, app.id, "passkey.created", user.id, { passkey_id: cred.id, device_type: cred.deviceType, backed_up: cred.backedUp }, now),
    ]);
  } catch (err) {
    if (err instanceof Error && /UNIQUE constraint failed|PRIMARY KEY/i.test(err.message)) throw new OAuthError("invalid_request", "This passkey is already registered.", 409);
    throw err;
  }
  const session = await signedIn(c);
  const next = session && session.user.id === user.id ? "done" : "authenticate";
  return c.json({ passkey: passkeyView(row), next });
});

async function settingsPage(c: PasskeyContext, status: number, message: { notice?: string; error?: string } = {}): Promise<Response> {
  const { app } = c.var;
  const host = requestHost(c);
  const pre = preLoginValue(c, host);
  const headers: Record<string, string> = { ...SCRIPT_PAGE_HEADERS };
  if (pre.setCookie) headers["Set-Cookie"] = pre.setCookie;
  const found = await signedIn(c);
  if (!found) return htmlPage(SignInFirstPage({ appName: app.name }), 401, headers);
  const keys = (await passkeysOfUser(c.env, app.id, found.user.id)).map(passkeyView);
  return htmlPage(
    SettingsPage({
      appName: app.name,
      username: found.user.username,
      passkeys: keys,
      csrf: await csrfToken(c.env, app.id, pre.value),
      required: app.settings.auth_policy === "passkey_required" && keys.length <= 1,
      ...message,
    }),
    status,
    headers,
  );
}

passkeyRoutes.get("/passkeys", (c) => settingsPage(c, 200));

passkeyRoutes.post("/passkeys/manage", async (c) => {
  const { app, issuer } = c.var;
  const origin = c.req.header("origin");
  if (origin && origin !== "null" && origin !== issuer) throw new OAuthError("access_denied", "This form was posted from another site.", 403);
  const form = await readForm(c);
  if (!(await csrfValid(c, app.id, requestHost(c), form.get("csrf")))) return settingsPage(c, 403, { error: "The form expired. Please try again." });
  const found = await signedIn(c);
  if (!found) return settingsPage(c, 401);
  const id = form.get("id") ?? "";
  const op = form.get("op");
  const keys = await passkeysOfUser(c.env, app.id, found.user.id);
  if (!keys.some((k) => k.id === id)) return settingsPage(c, 404, { error: "That passkey does not exist." });
  const now = Date.now();
  if (op === "rename") {
    const name = cleanName(form.get("name"));
    if (!name) return settingsPage(c, 400, { error: "A name is 1 to 64 characters." });
    await c.env.DB.batch([
      renamePasskeyStatement(c.env, app.id, found.user.id, id, name),
      eventStatement(c.env, app.id, "passkey.renamed", found.user.id, { passkey_id: id, via: "hosted" }, now),
    ]);
    return settingsPage(c, 200, { notice: "Passkey renamed." });
  }
  if (op === "delete") {
    if (app.settings.auth_policy === "passkey_required" && keys.length <= 1) {
      return settingsPage(c, 409, { error: "This app requires a passkey: add another one before deleting your last." });
    }
    await c.env.DB.batch([
      deletePasskeyStatement(c.env, app.id, found.user.id, id),
      eventStatement(c.env, app.id, "passkey.deleted", found.user.id, { passkey_id: id, via: "hosted" }, now),
    ]);
    return settingsPage(c, 200, { notice: "Passkey deleted." });
  }
  return settingsPage(c, 400, { error: "Unknown action." });
});
