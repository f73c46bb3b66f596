/**
 * The hosted sign-in and sign-up pages (SPEC §4). Sign-in is one `<form method="post">`
 * whose visible inputs are `username` (username or email) and `password`; everything
 * else is hidden and posted back as it came.
 */
import { Layout } from "./layout";
import { ConnectionButtons } from "./upstream";

export interface FormProps {
  appName: string;
  action: string;
  hidden: [string, string][];
  csrf: string;
  error?: string;
  username?: string;
  email?: string;
  /** Link to the other page (sign-up from sign-in and back). */
  switchHref: string;
  /** Offer "Sign in with a passkey", continuing to this URL once signed in. */
  passkeyContinue?: string;
  /** One "Continue with …" button per enabled upstream connection (worker/connections/links.ts). */
  connections?: { href: string; label: string }[];
  /** The account pages (recovery/links.ts): "Forgot password?" and "Email me a code". */
  forgotHref?: string;
  emailCodeHref?: string;
  /** False when the app's sign_in_methods leave passwords out: no password form. */
  passwordForm?: boolean;
}

function Hidden(props: { fields: [string, string][]; csrf: string; action: string }) {
  return (
    <>
      {props.fields.map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="action" value={props.action} />
    </>
  );
}

export function LoginPage(props: FormProps) {
  return (
    <Layout title={`Sign in · ${props.appName}`} script={Boolean(props.passkeyContinue)}>
      <h1>Sign in</h1>
      <p class="sub">to continue to {props.appName}</p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.passwordForm === false ? null : (
        <form method="post" action={props.action}>
          <Hidden fields={props.hidden} csrf={props.csrf} action="login" />
          <label for="username">Username or email</label>
          <input type="text" id="username" name="username" value={props.username ?? ""} autocomplete="username" required autofocus />
          <label for="password">Password</label>
          <input type="password" id="password" name="password" autocomplete="current-password" required />
          <button type="submit">Sign in</button>
        </form>
      )}
      {props.forgotHref ? (
        <p class="alt">
          <a href={props.forgotHref}>Forgot password?</a>
        </p>
      ) : null}
      {props.emailCodeHref ? (
        <p class="alt">
          <a href={props.emailCodeHref}>Email me a sign-in code</a>
        </p>
      ) : null}
      {props.passkeyContinue ? (
        <>
          <p class="error" role="alert" data-passkey-error hidden></p>
          <button type="button" class="secondary" data-passkey-signin data-continue={props.passkeyContinue}>
            Sign in with a passkey
          </button>
        </>
      ) : null}
      <ConnectionButtons items={props.connections ?? []} />
      <p class="alt">
        No account? <a href={props.switchHref}>Create one</a>
      </p>
    </Layout>
  );
}

export function SignupPage(props: FormProps & { minPassword: number; emailRequired?: boolean }) {
  return (
    <Layout title={`Create account · ${props.appName}`}>
      <h1>Create your account</h1>
      <p class="sub">for {props.appName}</p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={props.action}>
        <Hidden fields={props.hidden} csrf={props.csrf} action="signup" />
        <label for="username">Username</label>
        <input type="text" id="username" name="username" value={props.username ?? ""} autocomplete="username" required autofocus />
        <label for="email">{props.emailRequired ? "Email" : "Email (optional)"}</label>
        <input type="email" id="email" name="email" value={props.email ?? ""} autocomplete="email" required={props.emailRequired} />
        <label for="password">Password</label>
        <input type="password" id="password" name="password" autocomplete="new-password" minlength={props.minPassword} required />
        <button type="submit">Create account</button>
      </form>
      <p class="alt">
        Have an account? <a href={props.switchHref}>Sign in</a>
      </p>
    </Layout>
  );
}
