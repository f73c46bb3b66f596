/**
 * The console's pages (routes.tsx renders them): one component per page, plain HTML forms
 * that POST back to the console with the session's CSRF token.
 */
import type { ChainSummary } from "../chains/api";
import type { DeliveryRow, WebhookRow } from "../events/webhooks";
import type { EventRow } from "../events/read";
import type { AccessOverview } from "../identity/access-admin";
import type { Client } from "../identity/clients";
import type { SessionRow } from "../identity/sessions";
import type { UserRow } from "../identity/users";
import type { AppView } from "../tenancy/app-admin";
import { ConsoleLayout, Form, Table } from "./layout";

export interface Messages {
  error?: string;
  notice?: string;
}

const when = (ms: number | null | undefined) => (ms == null ? "—" : new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z");
const lines = (values: string[]) => values.join("\n");

export function SignInPage(props: Messages & { csrf: string }) {
  return (
    <ConsoleLayout title="Sign in" error={props.error} notice={props.notice}>
      <section>
        <h1>Operator console</h1>
        <p class="muted">Sign in with the deployment's operator token (ADMIN_TOKEN).</p>
        <form method="post" action="/console/sign-in">
          <input type="hidden" name="csrf" value={props.csrf} />
          <label for="token">Operator token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required />
          <button type="submit">Sign in</button>
        </form>
      </section>
    </ConsoleLayout>
  );
}

/** A plain message page (refusals, not found). */
export function MessagePage(props: { title: string; message: string; csrf?: string }) {
  return (
    <ConsoleLayout title={props.title} csrf={props.csrf} error={props.message}>
      <p>
        <a href="/console">Back to the console</a>
      </p>
    </ConsoleLayout>
  );
}

export function AppsPage(props: Messages & { csrf: string; apps: AppView[] }) {
  return (
    <ConsoleLayout title="Apps" csrf={props.csrf} error={props.error} notice={props.notice}>
      <section>
        <h1>Apps</h1>
        <Table head={["Name", "Slug", "Issuer", "Mode"]}>
          {props.apps.map((a) => (
            <tr>
              <td>
                <a href={`/console/apps/${a.id}`}>{a.name}</a>
              </td>
              <td class="mono">{a.slug}</td>
              <td class="mono">{a.issuer}</td>
              <td>
                <span class="badge">{a.mode}</span>
              </td>
            </tr>
          ))}
        </Table>
      </section>
      <section>
        <h2>Create an app</h2>
        <Form action="/console/apps" csrf={props.csrf}>
          <div class="row">
            <div>
              <label for="name">Name</label>
              <input id="name" name="name" type="text" required />
            </div>
            <div>
              <label for="slug">Slug (its host is slug.BASE_HOST)</label>
              <input id="slug" name="slug" type="text" required pattern="[a-z0-9-]+" />
            </div>
          </div>
          <label for="custom_domain">Custom domain (optional: cookie mode at auth.domain)</label>
          <input id="custom_domain" name="custom_domain" type="text" />
          <button type="submit">Create app</button>
        </Form>
      </section>
    </ConsoleLayout>
  );
}

function Secret(props: { label: string; value: string }) {
  return (
    <p>
      {props.label}: <code data-secret>{props.value}</code>
    </p>
  );
}

export function AppCreatedPage(props: { csrf: string; app: AppView; appSecret: string; masterSecret: string }) {
  return (
    <ConsoleLayout title="App created" csrf={props.csrf} app={props.app} notice={`Created ${props.app.name}.`}>
      <section class="secret">
        <h2>Secrets, shown once</h2>
        <p>Store them now: Latch keeps only their hashes.</p>
        <Secret label="App id" value={props.app.id} />
        <Secret label="App secret" value={props.appSecret} />
        <Secret label="Master secret" value={props.masterSecret} />
        <p>
          <a href={`/console/apps/${props.app.id}`}>Continue to the app</a>
        </p>
      </section>
    </ConsoleLayout>
  );
}

function modeNote(app: AppView): string {
  return app.custom_domain
    ? `Cookie mode: the hosted pages and the session cookie live on auth.${app.custom_domain}.`
    : "Exchange mode: no custom domain; browsers get tokens through the code exchange.";
}

export function AppPage(props: Messages & { csrf: string; app: AppView; clients: Client[] }) {
  const { app } = props;
  const base = `/console/apps/${app.id}`;
  return (
    <ConsoleLayout title={app.name} csrf={props.csrf} app={app} error={props.error} notice={props.notice}>
      <section>
        <h1>
          {app.name} <span class="badge" id="mode">{app.mode}</span>
        </h1>
        <p class="muted">
          <span class="mono">{app.id}</span> · issuer <span class="mono">{app.issuer}</span>
        </p>
        <p>{modeNote(app)}</p>
        <Form action={base} csrf={props.csrf}>
          <div class="row">
            <div>
              <label for="name">Name</label>
              <input id="name" name="name" type="text" value={app.name} required />
            </div>
            <div>
              <label for="custom_domain">Custom domain (empty: none, exchange mode)</label>
              <input id="custom_domain" name="custom_domain" type="text" value={app.custom_domain ?? ""} />
            </div>
          </div>
          <label for="settings">Settings (JSON; README "App settings")</label>
          <textarea id="settings" name="settings" rows={14}>
            {JSON.stringify(app.settings, null, 2)}
          </textarea>
          <button type="submit">Save app</button>
        </Form>
      </section>
      <section>
        <h2>Signing keys</h2>
        <p class="muted">Rotation promotes the published next key and publishes a new next one; the old key stays in the JWKS until its tokens expire.</p>
        <Form action={`${base}/keys/rotate`} csrf={props.csrf} confirm="Rotate this app's signing key now?">
          <button type="submit">Rotate keys</button>
        </Form>
      </section>
      <section>
        <h2>Clients</h2>
        <Table head={["Name", "Client id", "Type", "Registration"]}>
          {props.clients.map((cl) => (
            <tr>
              <td>{cl.registration === "operator" ? <a href={`${base}/clients/${cl.id}`}>{cl.name}</a> : cl.name}</td>
              <td class="mono">{cl.id}</td>
              <td>{cl.type}</td>
              <td>{cl.registration}</td>
            </tr>
          ))}
        </Table>
        <h2 style="margin-top:20px">Create a client</h2>
        <Form action={`${base}/clients`} csrf={props.csrf}>
          <div class="row">
            <div>
              <label for="client_name">Name</label>
              <input id="client_name" name="name" type="text" required />
            </div>
            <div>
              <label for="client_type">Type</label>
              <select id="client_type" name="type">
                <option value="public">public</option>
                <option value="confidential">confidential</option>
                <option value="m2m">m2m</option>
              </select>
            </div>
          </div>
          <ClientLists />
          <button type="submit">Create client</button>
        </Form>
      </section>
    </ConsoleLayout>
  );
}

function ClientLists(props: { client?: Client }) {
  const cl = props.client;
  return (
    <>
      <label for="redirect_uris">Redirect URIs (one a line)</label>
      <textarea id="redirect_uris" name="redirect_uris" rows={3}>
        {cl ? lines(cl.redirectUris) : ""}
      </textarea>
      <label for="post_logout_redirect_uris">Post-logout redirect URIs (one a line)</label>
      <textarea id="post_logout_redirect_uris" name="post_logout_redirect_uris" rows={2}>
        {cl ? lines(cl.postLogoutRedirectUris) : ""}
      </textarea>
      <label for="allowed_origins">Allowed origins (one a line)</label>
      <textarea id="allowed_origins" name="allowed_origins" rows={2}>
        {cl ? lines(cl.allowedOrigins) : ""}
      </textarea>
      <label for="scopes">Management scopes (m2m only; space or line separated)</label>
      <input id="scopes" name="scopes" type="text" value={cl ? cl.scopes.join(" ") : ""} />
    </>
  );
}

export function ClientPage(props: Messages & { csrf: string; app: AppView; client: Client; secret?: string }) {
  const { app, client } = props;
  const base = `/console/apps/${app.id}/clients/${client.id}`;
  return (
    <ConsoleLayout title={client.name} csrf={props.csrf} app={app} error={props.error} notice={props.notice}>
      {props.secret ? (
        <section class="secret">
          <h2>Client secret, shown once</h2>
          <Secret label="Client id" value={client.id} />
          <Secret label="Client secret" value={props.secret} />
        </section>
      ) : null}
      <section>
        <h1>
          {client.name} <span class="badge">{client.type}</span>
        </h1>
        <p class="mono" id="client-id">
          {client.id}
        </p>
        <Form action={base} csrf={props.csrf}>
          <label for="name">Name</label>
          <input id="name" name="name" type="text" value={client.name} required />
          <ClientLists client={client} />
          <button type="submit">Save client</button>
        </Form>
      </section>
      <section>
        <h2>Secret and removal</h2>
        {client.type !== "public" ? (
          <Form action={`${base}/secret`} csrf={props.csrf} inline confirm="Reset the secret? The current one stops working at once.">
            <button type="submit">Reset secret</button>
          </Form>
        ) : null}
        <Form action={`${base}/delete`} csrf={props.csrf} inline confirm="Delete this client? Its tokens stop refreshing.">
          <button type="submit" class="danger">
            Delete client
          </button>
        </Form>
      </section>
    </ConsoleLayout>
  );
}

export function UsersPage(props: Messages & { csrf: string; app: AppView; q: string; users: UserRow[] }) {
  const base = `/console/apps/${props.app.id}/users`;
  return (
    <ConsoleLayout title="Users" csrf={props.csrf} app={props.app} error={props.error} notice={props.notice}>
      <section>
        <h1>Users</h1>
        <form method="get" action={base}>
          <label for="q">Exact id, username or email (empty: the newest)</label>
          <input id="q" name="q" type="search" value={props.q} />
          <button type="submit">Search</button>
        </form>
      </section>
      <section>
        <Table head={["Username", "Email", "Status", "Created", "Last sign-in"]}>
          {props.users.map((u) => (
            <tr>
              <td>
                <a href={`${base}/${u.id}`}>{u.username}</a>
              </td>
              <td>{u.email ?? "—"}</td>
              <td>{u.status}</td>
              <td>{when(u.created_at)}</td>
              <td>{when(u.last_login_at)}</td>
            </tr>
          ))}
        </Table>
        {props.users.length === 0 ? <p class="muted">No users found.</p> : null}
      </section>
    </ConsoleLayout>
  );
}

/** A session or refresh chain of the user page: what it is (children), its times, and End. */
function EndableRow(props: { id: string; started: number; expires: number | null; base: string; csrf: string; children?: unknown }) {
  return (
    <tr>
      <td class="mono">{props.id}</td>
      <td>{props.children}</td>
      <td>{when(props.started)}</td>
      <td>{when(props.expires)}</td>
      <td>
        <Form action={`${props.base}/sessions/${props.id}/end`} csrf={props.csrf} inline>
          <button type="submit">End</button>
        </Form>
      </td>
    </tr>
  );
}

export function UserPage(props: Messages & { csrf: string; app: AppView; user: UserRow; sessions: SessionRow[]; chains: ChainSummary[] }) {
  const { user } = props;
  const base = `/console/apps/${props.app.id}/users/${user.id}`;
  const count = props.sessions.length + props.chains.length;
  return (
    <ConsoleLayout title={user.username} csrf={props.csrf} app={props.app} error={props.error} notice={props.notice}>
      <section>
        <h1>{user.username}</h1>
        <table>
          <tbody>
            <tr><th>Id</th><td class="mono">{user.id}</td></tr>
            <tr><th>Email</th><td>{user.email ?? "—"} {user.email ? (user.email_verified ? "(verified)" : "(unverified)") : null}</td></tr>
            <tr><th>Status</th><td id="status">{user.status}</td></tr>
            <tr><th>Created</th><td>{when(user.created_at)}</td></tr>
            <tr><th>Last sign-in</th><td>{when(user.last_login_at)}</td></tr>
            <tr><th>Profile</th><td class="mono">{user.profile}</td></tr>
          </tbody>
        </table>
        {user.status !== "disabled" ? (
          <Form action={`${base}/suspend`} csrf={props.csrf} confirm={user.status === "active" ? "Suspend this user? Every session ends." : undefined}>
            <input type="hidden" name="suspended" value={user.status === "active" ? "true" : "false"} />
            <button type="submit" class={user.status === "active" ? "danger" : undefined}>
              {user.status === "active" ? "Suspend user" : "Unsuspend user"}
            </button>
          </Form>
        ) : (
          <p class="muted">Disabled through the Kinvey API; suspension does not apply.</p>
        )}
      </section>
      <section>
        <h2>Reset password</h2>
        <p class="muted">Sets a new password; every session and refresh chain of the user ends.</p>
        <Form action={`${base}/password`} csrf={props.csrf}>
          <label for="password">New password</label>
          <input id="password" name="password" type="password" autocomplete="new-password" required />
          <button type="submit">Set password</button>
        </Form>
      </section>
      <section>
        <h2>
          Sessions and refresh chains (<span id="session-count">{count}</span>)
        </h2>
        <Table head={["Id", "Kind", "Started", "Expires", ""]}>
          {props.sessions.map((s) => (
            <EndableRow id={s.id} started={s.created_at} expires={s.expires_at} base={base} csrf={props.csrf}>
              {s.kind} session
            </EndableRow>
          ))}
          {props.chains.map((ch) => (
            <EndableRow id={ch.id} started={ch.createdAt} expires={ch.expiresAt} base={base} csrf={props.csrf}>
              refresh chain · client <span class="mono">{ch.clientId}</span>
            </EndableRow>
          ))}
        </Table>
        <Form action={`${base}/sessions/end`} csrf={props.csrf} confirm="End every session and refresh chain of this user?">
          <button type="submit" class="danger">
            End all sessions
          </button>
        </Form>
      </section>
    </ConsoleLayout>
  );
}

function KeyedForm(props: { action: string; csrf: string; what: string }) {
  return (
    <Form action={props.action} csrf={props.csrf}>
      <div class="row">
        <div>
          <label>Key</label>
          <input name="key" type="text" required />
        </div>
        <div>
          <label>Name</label>
          <input name="name" type="text" required />
        </div>
      </div>
      <label>Description</label>
      <input name="description" type="text" />
      <button type="submit">Create {props.what}</button>
    </Form>
  );
}

export function RolesPage(props: Messages & { csrf: string; app: AppView; access: AccessOverview }) {
  const base = `/console/apps/${props.app.id}`;
  return (
    <ConsoleLayout title="Roles and permissions" csrf={props.csrf} app={props.app} error={props.error} notice={props.notice}>
      <section>
        <h1>Roles</h1>
        <Table head={["Key", "Name", "Permissions"]}>
          {props.access.roles.map((r) => (
            <tr>
              <td class="mono">{r.key}</td>
              <td>{r.name}</td>
              <td>
                {r.permissions.map((p) => (
                  <Form action={`${base}/roles/${r.id}/permissions`} csrf={props.csrf} inline>
                    <input type="hidden" name="permission_id" value={p.id} />
                    <input type="hidden" name="operation" value="delete" />
                    <span class="mono">{p.key}</span> <button type="submit" title={`Revoke ${p.key}`}>×</button>
                  </Form>
                ))}
                {props.access.permissions.length ? (
                  <Form action={`${base}/roles/${r.id}/permissions`} csrf={props.csrf} inline>
                    <input type="hidden" name="operation" value="add" />
                    <select name="permission_id" aria-label={`Permission to grant to ${r.key}`} style="width:auto">
                      {props.access.permissions.map((p) => (
                        <option value={p.id}>{p.key}</option>
                      ))}
                    </select>{" "}
                    <button type="submit">Grant</button>
                  </Form>
                ) : null}
              </td>
            </tr>
          ))}
        </Table>
        <h2 style="margin-top:16px">Create a role</h2>
        <KeyedForm action={`${base}/roles`} csrf={props.csrf} what="role" />
      </section>
      <section>
        <h1>Permissions</h1>
        <Table head={["Key", "Name", "Description"]}>
          {props.access.permissions.map((p) => (
            <tr>
              <td class="mono">{p.key}</td>
              <td>{p.name}</td>
              <td>{p.description ?? ""}</td>
            </tr>
          ))}
        </Table>
        <h2 style="margin-top:16px">Create a permission</h2>
        <KeyedForm action={`${base}/permissions`} csrf={props.csrf} what="permission" />
      </section>
    </ConsoleLayout>
  );
}

export function WebhooksPage(props: Messages & { csrf: string; app: AppView; eventTypes: string[]; webhooks: { webhook: WebhookRow; deliveries: DeliveryRow[] }[] }) {
  const base = `/console/apps/${props.app.id}/webhooks`;
  return (
    <ConsoleLayout title="Webhooks" csrf={props.csrf} app={props.app} error={props.error} notice={props.notice}>
      <section>
        <h1>Webhooks</h1>
        {props.webhooks.length === 0 ? <p class="muted">No webhooks yet.</p> : null}
        <h2>Add a webhook</h2>
        <Form action={base} csrf={props.csrf}>
          <div class="row">
            <div>
              <label for="hook_name">Name</label>
              <input id="hook_name" name="name" type="text" required />
            </div>
            <div>
              <label for="endpoint">Endpoint (https)</label>
              <input id="endpoint" name="endpoint" type="text" required />
            </div>
          </div>
          <label for="event_types">Event types (space or line separated: {props.eventTypes.join(", ")})</label>
          <textarea id="event_types" name="event_types" rows={2}></textarea>
          <button type="submit">Add webhook</button>
        </Form>
      </section>
      {props.webhooks.map(({ webhook, deliveries }) => (
        <section>
          <h2>{webhook.name}</h2>
          <p class="mono">{webhook.endpoint}</p>
          <p class="muted">{(JSON.parse(webhook.event_types) as string[]).join(", ")}</p>
          <Form action={`${base}/${webhook.id}/delete`} csrf={props.csrf} confirm="Delete this webhook? Its pending deliveries are dropped.">
            <button type="submit" class="danger">
              Delete webhook
            </button>
          </Form>
          <h2 style="margin-top:16px">Latest deliveries</h2>
          <Table head={["Event", "Status", "Attempts", "Next attempt", "Last error", "Created"]}>
            {deliveries.map((d) => (
              <tr>
                <td>
                  {d.event_type} <span class="mono muted">{d.event_id}</span>
                </td>
                <td>{d.status}</td>
                <td>{d.attempts}</td>
                <td>{d.status === "pending" ? when(d.next_attempt_at) : "—"}</td>
                <td>{d.last_error ?? ""}</td>
                <td>{when(d.created_at)}</td>
              </tr>
            ))}
          </Table>
        </section>
      ))}
    </ConsoleLayout>
  );
}

export function EventsPage(props: Messages & { csrf: string; app: AppView; type: string; events: EventRow[] }) {
  return (
    <ConsoleLayout title="Events" csrf={props.csrf} app={props.app} error={props.error}>
      <section>
        <h1>Recent events</h1>
        <form method="get" action={`/console/apps/${props.app.id}/events`}>
          <label for="type">Type (e.g. user.created; empty: every type)</label>
          <input id="type" name="type" type="text" value={props.type} />
          <button type="submit">Filter</button>
        </form>
      </section>
      <section>
        <Table head={["When", "Type", "Source", "User", "Data"]}>
          {props.events.map((e) => (
            <tr>
              <td>{when(e.created_at)}</td>
              <td>{e.type}</td>
              <td>{e.source}</td>
              <td class="mono">{e.user_id ?? "—"}</td>
              <td class="mono">{e.data}</td>
            </tr>
          ))}
        </Table>
      </section>
    </ConsoleLayout>
  );
}
