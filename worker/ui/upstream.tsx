/** The hosted pieces of upstream sign-in: the login page's buttons and the page an upstream failure ends on. */
import { Layout } from "./layout";

export function ConnectionButtons(props: { items: { href: string; label: string }[] }) {
  if (!props.items.length) return null;
  return (
    <div class="upstream">
      {props.items.map((item) => (
        <a class="button secondary" href={item.href} data-connection>
          Continue with {item.label}
        </a>
      ))}
    </div>
  );
}

export function UpstreamErrorPage(props: { provider?: string; message: string; code: string; backHref?: string }) {
  return (
    <Layout title="Sign-in did not complete">
      <h1>{props.provider ? `Sign-in with ${props.provider} did not complete` : "Sign-in did not complete"}</h1>
      <p class="error" role="alert">
        {props.message}
      </p>
      <p class="sub">
        Error code: <code>{props.code}</code>.
      </p>
      {props.backHref ? (
        <p class="alt">
          <a href={props.backHref}>Back to sign-in</a>
        </p>
      ) : (
        <p class="sub">Go back to the application and try again.</p>
      )}
    </Layout>
  );
}
