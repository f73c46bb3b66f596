/**
 * The consent screen for third-party clients (dynamically registered or metadata-document
 * clients): who is asking, where the answer goes, and what for. One form, two buttons
 * (`decision` = allow | deny); the authorization request rides along as hidden fields.
 */
import { Layout } from "./layout";

export interface ConsentProps {
  appName: string;
  clientName: string;
  /** The host the browser is sent back to (or the app scheme of a native client). */
  redirectHost: string;
  /** For metadata-document clients: the URL that vouches for the name. */
  clientIdUrl?: string;
  scopes: string[];
  resources: string[];
  action: string;
  hidden: [string, string][];
  csrf: string;
  username: string;
}

const SCOPE_TEXT: Record<string, string> = {
  openid: "Confirm that you are signed in",
  profile: "See your name and profile",
  email: "See your email address",
  offline: "Keep access while you are away",
  offline_access: "Keep access while you are away",
};

export function ConsentPage(props: ConsentProps) {
  const wanted = [...new Set(props.scopes.map((s) => SCOPE_TEXT[s] ?? s))];
  return (
    <Layout title={`Allow access · ${props.appName}`}>
      <h1>Allow {props.clientName}?</h1>
      <p class="sub">
        {props.clientName} wants to use your {props.appName} account ({props.username}). It is not made by {props.appName}.
      </p>
      <p>
        After you choose, you go back to <strong>{props.redirectHost}</strong>.
        {props.clientIdUrl ? (
          <>
            {" "}
            This application is described at <code>{props.clientIdUrl}</code>.
          </>
        ) : null}
      </p>
      {wanted.length ? (
        <>
          <p>It will be able to:</p>
          <ul data-scopes>
            {wanted.map((text) => (
              <li>{text}</li>
            ))}
          </ul>
        </>
      ) : null}
      {props.resources.length ? (
        <>
          <p>with access to:</p>
          <ul data-resources>
            {props.resources.map((r) => (
              <li>
                <code>{r}</code>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <form method="post" action={props.action}>
        {props.hidden.map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit" name="decision" value="allow">
          Allow
        </button>
        <button type="submit" name="decision" value="deny" class="secondary">
          Deny
        </button>
      </form>
    </Layout>
  );
}
