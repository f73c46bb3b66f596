/** Pages that only say something: authorization errors that cannot be redirected, sign-out. */
import { Layout } from "./layout";

export function ErrorPage(props: { error: string; description: string }) {
  return (
    <Layout title="Sign-in error">
      <h1>Something is wrong with this sign-in link</h1>
      <p class="error" role="alert">
        {props.description}
      </p>
      <p class="sub">
        Error code: <code>{props.error}</code>. Go back to the application and try again.
      </p>
    </Layout>
  );
}

export function SignedOutPage(props: { note?: string }) {
  return (
    <Layout title="Signed out">
      <h1>You are signed out</h1>
      {props.note ? <p class="sub">{props.note}</p> : null}
    </Layout>
  );
}
