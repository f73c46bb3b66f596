/**
 * The operator console (README "Operator console") at /console on the deployment's own
 * host. Server-rendered pages; every action is a POST form with the session's CSRF token
 * and calls the same lower-layer function as the operator or management API does.
 */
import { Hono } from "hono";
import { EVENT_TYPES, isEventType } from "../events/log";
import { listEvents } from "../events/read";
import { createWebhook, deleteWebhook, deliveriesOf, webhookById, WebhookInputError, webhooksOfApp } from "../events/webhooks";
import { readForm } from "../http/body";
import { ApiError, faceError, RequestError } from "../http/errors";
import {
  AccessInputError,
  AccessKeyTakenError,
  accessOverview,
  changeRolePermissions,
  createPermission,
  createRole,
  roleById,
  UnknownPermissionError,
} from "../identity/access-admin";
import { ClientNotFoundError, deleteClient, resetClientSecret, updateClient } from "../identity/client-admin";
import { clientById, ClientInputError, clientsOfApp, createClient, type Client } from "../identity/clients";
import { clientAddress } from "../http/client-address";
import { countInWindow, forgiveInWindow } from "../identity/rate-limit";
import { changeUser, endAllUserSessions, endUserSession, OPERATOR_CONSOLE, searchUsers, sessionsOfUser, setUserPassword, suspensionStatus } from "../identity/user-admin";
import { IdentifierTakenError, userById, UserInputError, type UserRow } from "../identity/users";
import { rotateKeys } from "../keys/store";
import { readCookie } from "../sessions/cookies";
import { appView, createApp, listApps, loadApp, updateApp, type AppView } from "../tenancy/app-admin";
import type { App } from "../tenancy/apps";
import {
  clearConsoleCookie,
  CONSOLE_COOKIE,
  consoleCookieValue,
  consoleHost,
  formCsrfValid,
  requireOperator,
  setConsoleCookie,
  SIGN_IN_LIMIT,
  signInCsrf,
  signInCsrfValid,
  tokenMatches,
  verifyConsoleCookie,
  type ConsoleContext,
  type ConsoleEnv,
} from "./auth";
import { CONSOLE_SCRIPT, consolePage } from "./layout";
import { AppCreatedPage, AppPage, AppsPage, ClientPage, EventsPage, MessagePage, RolesPage, SignInPage, UserPage, UsersPage, WebhooksPage, type Messages } from "./pages";

export const consoleRoutes = new Hono<ConsoleEnv>();
consoleRoutes.use("*", consoleHost);

/** What a console action may be refused with: shown on the page, with the API's status. */
class Refusal extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The store's and the APIs' refusals as a message; anything else is a bug and propagates. */
function refusalOf(err: unknown): Refusal {
  if (err instanceof Refusal) return err;
  if (err instanceof ApiError) return new Refusal(err.message, err.status, err.headers);
  // The operator API's status (and Retry-After, Allow) for a refused request: 413, 415, 503…
  if (err instanceof RequestError) {
    const mapped = faceError("api", err);
    return new Refusal(err.message, mapped.status, mapped.headers);
  }
  if (err instanceof ClientNotFoundError) return new Refusal(err.message, 404);
  if (err instanceof IdentifierTakenError || err instanceof AccessKeyTakenError) return new Refusal(err.message, 409);
  if (err instanceof ClientInputError || err instanceof UserInputError || err instanceof AccessInputError || err instanceof UnknownPermissionError || err instanceof WebhookInputError) {
    return new Refusal(err.message, 400);
  }
  throw err;
}

/** Notices after a redirect: fixed texts by code, so nothing from the URL is echoed. */
const DONE: Record<string, string> = {
  saved: "Saved.",
  rotated: "Keys rotated: the next key signs now and a new next key is published.",
  "client-saved": "Client saved.",
  "client-deleted": "Client deleted.",
  suspended: "User suspended; their sessions and refresh chains ended.",
  unsuspended: "User unsuspended.",
  "password-set": "Password set; every session and refresh chain of the user ended.",
  "sessions-ended": "Every session and refresh chain of the user ended.",
  "session-ended": "Session ended.",
  "role-created": "Role created.",
  "permission-created": "Permission created.",
  "webhook-created": "Webhook added.",
  "webhook-deleted": "Webhook deleted.",
  "role-permissions": "The role's permissions changed; its holders get new claims on their next refresh.",
};

const notice = (c: ConsoleContext): Messages => ({ notice: DONE[c.req.query("done") ?? ""] });

/** The posted form's string fields, once its CSRF token has passed (403 otherwise). */
async function form(c: ConsoleContext): Promise<Record<string, string>> {
  const fields = await postedFields(c);
  if (!formCsrfValid(c, fields.csrf)) throw new Refusal("The form's CSRF token is missing or wrong; reload the page and try again.", 403);
  return fields;
}

/** A posted urlencoded form (size-capped, http/body.ts); the last value of a repeated field wins. */
async function postedFields(c: ConsoleContext): Promise<Record<string, string>> {
  return Object.fromEntries(await readForm(c));
}

/** `action`'s response; when the action is refused, `page` again with the refusal's status and message. */
async function orRefusal(action: () => Promise<Response>, page: (status: number, messages: Messages) => Promise<Response>): Promise<Response> {
  try {
    return await action();
  } catch (err) {
    const refusal = refusalOf(err);
    return page(refusal.status, { error: refusal.message });
  }
}

const listOf = (text: string | undefined) => (text ?? "").split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
const wordsOf = (text: string | undefined) => (text ?? "").split(/[\s,]+/).filter(Boolean);

consoleRoutes.onError(async (err, c) => {
  const csrf = (c as ConsoleContext).var.csrf;
  let refusal: Refusal;
  try {
    refusal = refusalOf(err);
  } catch {
    // Only the stack: form bodies may hold secrets (a new password, the operator token).
    console.error("console error", c.req.method, c.req.path, err instanceof Error ? err.stack : String(err));
    refusal = new Refusal("Something went wrong; the log has the details.", 500);
  }
  return consolePage(<MessagePage title={refusal.status === 500 ? "Error" : "Refused"} message={refusal.message} csrf={csrf} />, refusal.status, refusal.headers);
});

consoleRoutes.get("/console.js", (c) =>
  c.body(CONSOLE_SCRIPT, 200, { "Content-Type": "text/javascript; charset=UTF-8", "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" }),
);

// --- Sign-in ----------------------------------------------------------------------------

async function signInPage(c: ConsoleContext, status: number, messages: Messages = {}, headers: Record<string, string> = {}) {
  const { token, setCookie } = await signInCsrf(c);
  return consolePage(<SignInPage csrf={token} {...messages} />, status, { ...headers, ...(setCookie ? { "Set-Cookie": setCookie } : {}) });
}

consoleRoutes.get("/", async (c) => {
  if (await verifyConsoleCookie(c.env, readCookie(c.req.header("cookie"), CONSOLE_COOKIE))) return c.redirect("/console/apps", 303);
  return signInPage(c, 200);
});

consoleRoutes.post("/sign-in", async (c) => {
  const body = await postedFields(c);
  if (!(await signInCsrfValid(c, body.csrf))) return signInPage(c, 403, { error: "The form's CSRF token is missing or wrong; try again." });
  // Counted before the comparison (parallel guesses cannot slip under it); a success gives its attempt back.
  const key = `console:${clientAddress(c.env, c.req.raw.headers)}`;
  const wait = await countInWindow(c.env, key, SIGN_IN_LIMIT);
  if (wait > 0) return signInPage(c, 429, { error: `Too many sign-in attempts; try again in ${wait} seconds.` }, { "Retry-After": String(wait) });
  if (!tokenMatches(c.env, body.token)) return signInPage(c, 401, { error: "That is not the operator token." });
  await forgiveInWindow(c.env, key);
  return c.body(null, 303, { Location: "/console/apps", "Set-Cookie": setConsoleCookie(await consoleCookieValue(c.env)), "Cache-Control": "no-store" });
});

consoleRoutes.post("/sign-out", requireOperator, async (c) => {
  await form(c);
  return c.body(null, 303, { Location: "/console", "Set-Cookie": clearConsoleCookie(), "Cache-Control": "no-store" });
});

// --- Apps and clients -------------------------------------------------------------------

consoleRoutes.use("/apps", requireOperator);
consoleRoutes.use("/apps/*", requireOperator);

async function appsPage(c: ConsoleContext, status: number, messages: Messages) {
  const apps = (await listApps(c.env)).map((app) => appView(app, c.env));
  return consolePage(<AppsPage csrf={c.var.csrf} apps={apps} {...messages} />, status);
}

consoleRoutes.get("/apps", (c) => appsPage(c, 200, notice(c)));

consoleRoutes.post("/apps", async (c) => {
  const body = await form(c);
  return orRefusal(
    async () => {
      const created = await createApp(c.env, { name: body.name, slug: body.slug, custom_domain: body.custom_domain?.trim() || undefined });
      return consolePage(<AppCreatedPage csrf={c.var.csrf} app={created} appSecret={created.app_secret} masterSecret={created.master_secret} />, 201);
    },
    (status, messages) => appsPage(c, status, messages),
  );
});

async function appOf(c: ConsoleContext): Promise<App> {
  return loadApp(c.env, c.req.param("id")!);
}

async function appPage(c: ConsoleContext, app: App, status: number, messages: Messages) {
  const clients = await clientsOfApp(c.env, app.id);
  return consolePage(<AppPage csrf={c.var.csrf} app={appView(app, c.env)} clients={clients} {...messages} />, status);
}

consoleRoutes.get("/apps/:id", async (c) => appPage(c, await appOf(c), 200, notice(c)));

consoleRoutes.post("/apps/:id", async (c) => {
  const app = await appOf(c);
  const body = await form(c);
  return orRefusal(
    async () => {
      const settings = settingsOf(body.settings);
      await updateApp(c.env, app.id, { name: body.name, custom_domain: body.custom_domain?.trim() || null, ...(settings === undefined ? {} : { settings }) });
      return c.redirect(`/console/apps/${app.id}?done=saved`, 303);
    },
    (status, messages) => appPage(c, app, status, messages),
  );
});

/** The settings field: absent or blank is no change; anything else must parse (updateApp validates it). */
function settingsOf(text: string | undefined): unknown {
  if (!text?.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Refusal("settings must be a JSON object.", 400);
  }
}

consoleRoutes.post("/apps/:id/keys/rotate", async (c) => {
  const app = await appOf(c);
  await form(c);
  await rotateKeys(c.env, app);
  return c.redirect(`/console/apps/${app.id}?done=rotated`, 303);
});

function clientInput(body: Record<string, string>) {
  return {
    redirect_uris: listOf(body.redirect_uris),
    post_logout_redirect_uris: listOf(body.post_logout_redirect_uris),
    allowed_origins: listOf(body.allowed_origins),
    scopes: wordsOf(body.scopes),
  };
}

async function clientPage(c: ConsoleContext, app: App, client: Client, status: number, messages: Messages & { secret?: string }) {
  return consolePage(<ClientPage csrf={c.var.csrf} app={appView(app, c.env)} client={client} {...messages} />, status);
}

async function clientOf(c: ConsoleContext, app: App): Promise<Client> {
  const client = await clientById(c.env, app.id, c.req.param("clientId")!);
  if (!client || client.registration !== "operator") throw new Refusal(`No operator client with id ${c.req.param("clientId")}.`, 404);
  return client;
}

consoleRoutes.post("/apps/:id/clients", async (c) => {
  const app = await appOf(c);
  const body = await form(c);
  return orRefusal(
    async () => {
      const created = await createClient(c.env, app.id, { name: body.name, type: body.type, ...clientInput(body) });
      const client = (await clientById(c.env, app.id, created.client_id))!;
      return clientPage(c, app, client, 201, { notice: "Client created.", secret: created.client_secret });
    },
    (status, messages) => appPage(c, app, status, messages),
  );
});

consoleRoutes.get("/apps/:id/clients/:clientId", async (c) => {
  const app = await appOf(c);
  return clientPage(c, app, await clientOf(c, app), 200, notice(c));
});

consoleRoutes.post("/apps/:id/clients/:clientId", async (c) => {
  const app = await appOf(c);
  const client = await clientOf(c, app);
  const body = await form(c);
  return orRefusal(
    async () => {
      await updateClient(c.env, app.id, client.id, { name: body.name, ...clientInput(body) });
      return c.redirect(`/console/apps/${app.id}/clients/${client.id}?done=client-saved`, 303);
    },
    (status, messages) => clientPage(c, app, client, status, messages),
  );
});

consoleRoutes.post("/apps/:id/clients/:clientId/delete", async (c) => {
  const app = await appOf(c);
  const client = await clientOf(c, app);
  await form(c);
  await deleteClient(c.env, app.id, client.id);
  return c.redirect(`/console/apps/${app.id}?done=client-deleted`, 303);
});

consoleRoutes.post("/apps/:id/clients/:clientId/secret", async (c) => {
  const app = await appOf(c);
  const client = await clientOf(c, app);
  await form(c);
  const reset = await resetClientSecret(c.env, app.id, client.id);
  return clientPage(c, app, client, 200, { notice: "Secret reset; the old one no longer works.", secret: reset.client_secret });
});

// --- Users ------------------------------------------------------------------------------

consoleRoutes.get("/apps/:id/users", async (c) => {
  const app = await appOf(c);
  const q = c.req.query("q") ?? "";
  const users = await searchUsers(c.env, app.id, q);
  return consolePage(<UsersPage csrf={c.var.csrf} app={appView(app, c.env)} q={q} users={users} {...notice(c)} />);
});

async function userOf(c: ConsoleContext, app: App): Promise<UserRow> {
  const user = await userById(c.env, app.id, c.req.param("userId")!);
  if (!user) throw new Refusal(`No user with id ${c.req.param("userId")}.`, 404);
  return user;
}

async function userPage(c: ConsoleContext, app: App, user: UserRow, status: number, messages: Messages) {
  const { sessions, chains } = await sessionsOfUser(c.env, app, user.id);
  return consolePage(<UserPage csrf={c.var.csrf} app={appView(app, c.env)} user={user} sessions={sessions} chains={chains} {...messages} />, status);
}

const userUrl = (app: App, user: UserRow, done: string) => `/console/apps/${app.id}/users/${user.id}?done=${done}`;

consoleRoutes.get("/apps/:id/users/:userId", async (c) => {
  const app = await appOf(c);
  return userPage(c, app, await userOf(c, app), 200, notice(c));
});

consoleRoutes.post("/apps/:id/users/:userId/suspend", async (c) => {
  const app = await appOf(c);
  const user = await userOf(c, app);
  const body = await form(c);
  const suspended = body.suspended === "true";
  await changeUser(c.env, app, user, { status: suspensionStatus(user, suspended) }, OPERATOR_CONSOLE);
  return c.redirect(userUrl(app, user, suspended ? "suspended" : "unsuspended"), 303);
});

consoleRoutes.post("/apps/:id/users/:userId/password", async (c) => {
  const app = await appOf(c);
  const user = await userOf(c, app);
  const body = await form(c);
  return orRefusal(
    async () => {
      await setUserPassword(c.env, app, user, body.password ?? "", OPERATOR_CONSOLE);
      return c.redirect(userUrl(app, user, "password-set"), 303);
    },
    (status, messages) => userPage(c, app, user, status, messages),
  );
});

consoleRoutes.post("/apps/:id/users/:userId/sessions/end", async (c) => {
  const app = await appOf(c);
  const user = await userOf(c, app);
  await form(c);
  await endAllUserSessions(c.env, app, user.id, OPERATOR_CONSOLE);
  return c.redirect(userUrl(app, user, "sessions-ended"), 303);
});

consoleRoutes.post("/apps/:id/users/:userId/sessions/:sessionId/end", async (c) => {
  const app = await appOf(c);
  const user = await userOf(c, app);
  await form(c);
  const sessionId = c.req.param("sessionId");
  if (!(await endUserSession(c.env, app, user.id, sessionId, OPERATOR_CONSOLE))) throw new Refusal(`The user has no session ${sessionId}.`, 404);
  return c.redirect(userUrl(app, user, "session-ended"), 303);
});

// --- Roles and permissions, webhooks, events --------------------------------------------

async function rolesPage(c: ConsoleContext, app: App, status: number, messages: Messages) {
  return consolePage(<RolesPage csrf={c.var.csrf} app={appView(app, c.env)} access={await accessOverview(c.env, app.id)} {...messages} />, status);
}

consoleRoutes.get("/apps/:id/roles", async (c) => rolesPage(c, await appOf(c), 200, notice(c)));

for (const kind of ["role", "permission"] as const) {
  consoleRoutes.post(`/apps/:id/${kind}s`, async (c) => {
    const app = await appOf(c);
    const body = await form(c);
    const create = kind === "role" ? createRole : createPermission;
    return orRefusal(
      async () => {
        await create(c.env, app.id, { key: body.key ?? "", name: body.name ?? "", description: body.description ?? null }, OPERATOR_CONSOLE.source);
        return c.redirect(`/console/apps/${app.id}/roles?done=${kind}-created`, 303);
      },
      (status, messages) => rolesPage(c, app, status, messages),
    );
  });
}

consoleRoutes.post("/apps/:id/roles/:roleId/permissions", async (c) => {
  const app = await appOf(c);
  const role = await roleById(c.env, app.id, c.req.param("roleId"));
  if (!role) throw new Refusal(`No role with id ${c.req.param("roleId")}.`, 404);
  const body = await form(c);
  const id = body.permission_id ?? "";
  const revoke = body.operation === "delete";
  return orRefusal(
    async () => {
      await changeRolePermissions(c.env, app.id, role, revoke ? [] : [id], revoke ? [id] : [], OPERATOR_CONSOLE.source);
      return c.redirect(`/console/apps/${app.id}/roles?done=role-permissions`, 303);
    },
    (status, messages) => rolesPage(c, app, status, messages),
  );
});

async function webhooksPage(c: ConsoleContext, app: App, status: number, messages: Messages) {
  const hooks = await webhooksOfApp(c.env, app.id);
  const webhooks = await Promise.all(hooks.map(async (webhook) => ({ webhook, deliveries: await deliveriesOf(c.env, app.id, webhook.id, { limit: 25 }) })));
  return consolePage(<WebhooksPage csrf={c.var.csrf} app={appView(app, c.env)} eventTypes={Object.keys(EVENT_TYPES)} webhooks={webhooks} {...messages} />, status);
}

consoleRoutes.get("/apps/:id/webhooks", async (c) => webhooksPage(c, await appOf(c), 200, notice(c)));

consoleRoutes.post("/apps/:id/webhooks", async (c) => {
  const app = await appOf(c);
  const body = await form(c);
  return orRefusal(
    async () => {
      await createWebhook(c.env, app.id, { name: body.name ?? "", endpoint: (body.endpoint ?? "").trim(), eventTypes: wordsOf(body.event_types), description: null });
      return c.redirect(`/console/apps/${app.id}/webhooks?done=webhook-created`, 303);
    },
    (status, messages) => webhooksPage(c, app, status, messages),
  );
});

consoleRoutes.post("/apps/:id/webhooks/:webhookId/delete", async (c) => {
  const app = await appOf(c);
  const hook = await webhookById(c.env, app.id, c.req.param("webhookId"));
  if (!hook) throw new Refusal(`No webhook with id ${c.req.param("webhookId")}.`, 404);
  await form(c);
  await deleteWebhook(c.env, app.id, hook.id);
  return c.redirect(`/console/apps/${app.id}/webhooks?done=webhook-deleted`, 303);
});

consoleRoutes.get("/apps/:id/events", async (c) => {
  const app = await appOf(c);
  const type = (c.req.query("type") ?? "").trim();
  const view: AppView = appView(app, c.env);
  if (type && !isEventType(type)) return consolePage(<EventsPage csrf={c.var.csrf} app={view} type={type} events={[]} error={`Unknown event type: ${type}.`} />, 400);
  const events = await listEvents(c.env, app.id, { type: type || undefined, limit: 100 });
  return consolePage(<EventsPage csrf={c.var.csrf} app={view} type={type} events={events} />);
});
