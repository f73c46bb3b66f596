/**
 * The upstream face (issue 15): sign-in through an app's connections, on the app's auth host.
 *
 *   GET  /upstream/{connection}/start?{authorization request}   → 302 to the provider
 *   GET  /upstream/callback?code&state   (or ?error&state)         → the session, then /oauth2/auth
 *   POST /upstream/callback              (Apple's form_post)       → 303 to the GET above
 *
 * The state is bound to the browser's pre-login cookie and used once; PKCE and the nonce
 * derive from it (connections/flow-state.ts). After the provider's answer is verified
 * (connections/upstream.ts) and the user found, linked or made (identity/linking.ts), the
 * first factor goes through completeFirstFactor like a password, so the auth policy applies,
 * and the browser continues to /oauth2/auth, which issues the code. Every failure ends on
 * the hosted error page with a 4xx or 502, never a 500, having written nothing.
 */
import { Hono, type Context } from "hono";
import { isDevelopment, type Env } from "../env";
import { readForm } from "../http/body";
import { flowSecrets, bindingHash, newState, stateFields, takeState } from "../connections/flow-state";
import { authMethodOf, protocolOf } from "../connections/presets";
import { buttonLabel, connectionCredential, enabledConnection, type Connection } from "../connections/store";
import { authorizationUrl, completeUpstream, DEFAULT_TIMEOUT_MS, discovered, UpstreamError, type UpstreamFailure, type UpstreamIO } from "../connections/upstream";
import { resolveUpstreamUser, type LinkResult } from "../identity/linking";
import { carried, continueHref } from "../sessions/continue";
import { preLoginCookie, preLoginValue } from "../sessions/csrf";
import { completeFirstFactor } from "../sessions/sign-in";
import { hostApp, requestHost, type HostVars } from "../tenancy/host";
import { htmlPage } from "../ui/layout";
import { UpstreamErrorPage } from "../ui/upstream";
import { timingSafeEqual } from "../util/crypto";

type UpstreamEnv = { Bindings: Env; Variables: HostVars };
type UpstreamContext = Context<UpstreamEnv>;

export const upstreamRoutes = new Hono<UpstreamEnv>();
upstreamRoutes.use("/upstream/*", hostApp);

function io(env: Env): UpstreamIO {
  return { fetch: (input, init) => fetch(input, init), timeoutMs: DEFAULT_TIMEOUT_MS, allowLoopbackHttp: isDevelopment(env) };
}

const FAILURE_STATUS: Record<UpstreamFailure, number> = { denied: 403, unavailable: 502, invalid_response: 502, invalid_token: 400, misconfigured: 502 };

const REFUSALS: Record<Exclude<LinkResult, { ok: true }>["reason"], { status: number; message: string }> = {
  email_taken: {
    status: 409,
    message: "An account with this email address already exists. Sign in with it as you usually do; this connection can be linked to it afterwards.",
  },
  signup_closed: { status: 403, message: "This application does not create new accounts through this connection." },
  user_inactive: { status: 403, message: "This account is not active." },
};

function page(props: { provider?: string; message: string; code: string; backHref?: string }, status: number): Promise<Response> {
  return htmlPage(UpstreamErrorPage(props), status);
}

/** Back to the login page, with its chooser (and without the connection that failed). */
function chooserHref(fields: [string, string][]): string {
  const query = new URLSearchParams(fields.filter(([k]) => k !== "connection_id" && k !== "prompt"));
  query.set("prompt", "login");
  return `/oauth2/auth?${query.toString()}`;
}

function callbackUrl(c: UpstreamContext): string {
  return `${c.var.issuer}/upstream/callback`;
}

upstreamRoutes.get("/upstream/:connection/start", async (c) => {
  const { app } = c.var;
  const connection = await enabledConnection(c.env, app.id, c.req.param("connection"));
  const fields = carried(new URL(c.req.url).searchParams);
  if (!connection) return page({ message: "This sign-in option is not available for this application.", code: "connection_not_found", backHref: chooserHref(fields) }, 404);
  const host = requestHost(c);
  const pre = preLoginValue(c, host);
  let target: string;
  try {
    const protocol = await discovered(io(c.env), protocolOf(connection.strategy, connection.options));
    const { state, statements } = await newState(c.env, app.id, connection.id, pre.value, fields);
    const secrets = await flowSecrets(c.env, app.id, state, pre.value);
    target = authorizationUrl(protocol, {
      clientId: connection.clientId,
      redirectUri: callbackUrl(c),
      state,
      nonce: secrets.nonce,
      codeChallenge: secrets.codeChallenge,
    });
    await c.env.DB.batch(statements);
  } catch (err) {
    if (err instanceof UpstreamError) return failurePage(connection, err, fields);
    throw err;
  }
  const res = c.redirect(target, 302);
  if (pre.setCookie) res.headers.append("Set-Cookie", pre.setCookie);
  res.headers.set("Cache-Control", "no-store");
  return res;
});

/**
 * Apple posts its answer (`response_mode=form_post`) from its own site, so the browser
 * withholds the SameSite=Lax pre-login cookie; a 303 to the GET callback is a top-level
 * navigation, which carries it. Only the OAuth response parameters go along.
 */
upstreamRoutes.post("/upstream/callback", async (c) => {
  const form = await readForm(c);
  const query = new URLSearchParams();
  for (const name of ["code", "state", "error", "error_description"]) {
    const value = form.get(name);
    if (value !== null && value.length <= 4096) query.set(name, value);
  }
  return c.redirect(`/upstream/callback?${query.toString()}`, 303);
});

upstreamRoutes.get("/upstream/callback", async (c) => {
  const { app, issuer } = c.var;
  const params = new URL(c.req.url).searchParams;
  const host = requestHost(c);
  const row = await takeState(c.env, app.id, params.get("state"));
  if (!row) return page({ message: "This sign-in expired or was already used. Start again from the application.", code: "invalid_state" }, 400);
  const fields = stateFields(row);
  const back = chooserHref(fields);
  const cookie = preLoginCookie(c, host);
  if (!cookie || !timingSafeEqual(await bindingHash(cookie), row.binding_hash)) {
    return page({ message: "This sign-in was started in another browser or its cookie is gone. Start again.", code: "invalid_state", backHref: back }, 400);
  }
  const connection = await enabledConnection(c.env, app.id, row.connection_id);
  if (!connection) return page({ message: "This sign-in option is no longer available.", code: "connection_not_found", backHref: back }, 404);
  const provider = buttonLabel(connection);
  const error = params.get("error");
  if (error) {
    const denied = error === "access_denied";
    return page({ provider, message: denied ? "The sign-in was cancelled or not allowed." : "The identity provider reported an error.", code: error.slice(0, 64).replace(/[^\w.-]/g, "_"), backHref: back }, denied ? 403 : 502);
  }
  const code = params.get("code");
  if (!code || code.length > 4096) return page({ provider, message: "The identity provider sent no authorization code.", code: "invalid_request", backHref: back }, 400);

  let result: LinkResult;
  try {
    const upstream = io(c.env);
    const protocol = await discovered(upstream, protocolOf(connection.strategy, connection.options));
    const credential = await connectionCredential(c.env, connection);
    if (!credential) throw new UpstreamError("misconfigured", "The connection has no client secret.");
    const secrets = await flowSecrets(c.env, app.id, params.get("state")!, cookie);
    const profile = await completeUpstream(upstream, protocol, { clientId: connection.clientId, credential }, {
      code,
      redirectUri: callbackUrl(c),
      codeVerifier: secrets.codeVerifier,
      nonce: secrets.nonce,
    });
    const { subject, email, emailVerified, ...rest } = profile;
    result = await resolveUpstreamUser(c.env, app, {
      connectionId: connection.id,
      method: authMethodOf(connection.strategy, connection.name),
      subject,
      email,
      emailVerified,
      profile: rest as Record<string, string>,
    });
  } catch (err) {
    if (err instanceof UpstreamError) return failurePage(connection, err, fields);
    throw err;
  }
  if (!result.ok) return page({ provider, ...REFUSALS[result.reason], code: result.reason, backHref: back }, REFUSALS[result.reason].status);

  const outcome = await completeFirstFactor(c, { app, host, issuer }, result.user, {
    method: authMethodOf(connection.strategy, connection.name),
    created: result.created,
    fields,
  });
  if (outcome.kind === "refused") return page({ provider, message: outcome.message, code: "access_denied", backHref: back }, 403);
  if (outcome.kind === "enrol" || outcome.kind === "step") return outcome.response;
  if (outcome.offer) return outcome.offer;
  const res = c.redirect(continueHref(fields), 302);
  res.headers.append("Set-Cookie", outcome.signedIn.cookie);
  res.headers.set("Cache-Control", "no-store");
  return res;
});

function failurePage(connection: Connection, err: UpstreamError, fields: [string, string][]): Promise<Response> {
  return page({ provider: buttonLabel(connection), message: err.message, code: `upstream_${err.failure}`, backHref: chooserHref(fields) }, FAILURE_STATUS[err.failure]);
}
