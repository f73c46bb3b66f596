/** The sign-out confirmation (OIDC RP-Initiated Logout §2): one POST form back to /logout, with its CSRF token. */
import { Layout } from "./layout";

export function LogoutConfirmPage(props: { appName: string; csrf: string; hidden: [string, string][]; signedIn: boolean; error?: string }) {
  return (
    <Layout title={`Sign out · ${props.appName}`}>
      <h1>Sign out?</h1>
      <p class="sub">{props.signedIn ? `You are signed in to ${props.appName}.` : `You are not signed in to ${props.appName}.`}</p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/logout">
        {props.hidden.map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit">Sign out</button>
      </form>
    </Layout>
  );
}
