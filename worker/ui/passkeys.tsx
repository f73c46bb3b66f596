/**
 * The hosted passkey pages (SPEC §8): enrolment before the first session (passkey_required),
 * the enrolment offer after a password sign-in (passkey_preferred), and the settings page
 * (list, rename, delete). The ceremonies run in /passkeys/client.js.
 */
import { Layout } from "./layout";

function ErrorSlot() {
  return <p class="error" role="alert" data-passkey-error hidden></p>;
}

/** passkey_required: no session yet; the registration options are in the page. */
export function EnrolPage(props: { appName: string; username: string; challengeId: string; options: string; continueHref: string }) {
  return (
    <Layout title={`Set up a passkey · ${props.appName}`} script>
      <h1>Set up a passkey</h1>
      <p class="sub">
        {props.appName} requires a passkey. Create one for <strong>{props.username}</strong> on this device, then sign in with it.
      </p>
      <ErrorSlot />
      <button type="button" data-passkey-enrol data-challenge-id={props.challengeId} data-options={props.options} data-continue={props.continueHref}>
        Create a passkey
      </button>
      <p class="alt">
        <a href={props.continueHref}>Start over</a>
      </p>
    </Layout>
  );
}

/** passkey_preferred: signed in already; enrol now or continue. */
export function OfferPage(props: { appName: string; continueHref: string }) {
  return (
    <Layout title={`Set up a passkey · ${props.appName}`} script>
      <h1>Sign in faster next time</h1>
      <p class="sub">Create a passkey for {props.appName}: no password to type or to leak.</p>
      <ErrorSlot />
      <button type="button" data-passkey-enrol data-continue={props.continueHref}>
        Create a passkey
      </button>
      <p class="alt">
        <a href={props.continueHref} data-passkey-skip>
          Not now
        </a>
      </p>
    </Layout>
  );
}

export interface PasskeyItem {
  id: string;
  name: string | null;
  device_type: string | null;
  backed_up: boolean;
  created_at: string;
  last_used_at: string | null;
}

export function SettingsPage(props: { appName: string; username: string; passkeys: PasskeyItem[]; csrf: string; notice?: string; error?: string; required: boolean }) {
  return (
    <Layout title={`Passkeys · ${props.appName}`} script>
      <h1>Your passkeys</h1>
      <p class="sub">
        Signed in to {props.appName} as {props.username}
      </p>
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <ErrorSlot />
      {props.passkeys.length === 0 ? <p>You have no passkeys yet.</p> : null}
      <ul class="keys">
        {props.passkeys.map((p) => (
          <li data-passkey-id={p.id}>
            <strong>{p.name ?? "Passkey"}</strong>
            <br />
            <small>
              Created {p.created_at.slice(0, 10)}
              {p.last_used_at ? `, last used ${p.last_used_at.slice(0, 10)}` : ""}
              {p.backed_up ? ", synced" : ""}
            </small>
            <form method="post" action="/passkeys/manage">
              <input type="hidden" name="csrf" value={props.csrf} />
              <input type="hidden" name="id" value={p.id} />
              <input type="hidden" name="op" value="rename" />
              <input type="text" name="name" value={p.name ?? ""} maxlength={64} aria-label="Name" required />
              <button type="submit">Rename</button>
            </form>
            <form method="post" action="/passkeys/manage">
              <input type="hidden" name="csrf" value={props.csrf} />
              <input type="hidden" name="id" value={p.id} />
              <input type="hidden" name="op" value="delete" />
              <button type="submit" class="secondary">
                Delete
              </button>
            </form>
          </li>
        ))}
      </ul>
      {props.required ? <p class="sub">This app requires a passkey: your last one cannot be deleted.</p> : null}
      <button type="button" data-passkey-enrol data-continue="/passkeys">
        Add a passkey
      </button>
    </Layout>
  );
}

/** No session: the settings page needs a sign-in first. */
export function SignInFirstPage(props: { appName: string }) {
  return (
    <Layout title={`Passkeys · ${props.appName}`}>
      <h1>Sign in first</h1>
      <p class="sub">Sign in to {props.appName} through the app, then come back to manage your passkeys.</p>
    </Layout>
  );
}
