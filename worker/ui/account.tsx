/**
 * The hosted account pages (worker/account/routes.ts): forgot password, choose a new
 * password (from a mailed link, or because the account must change it), confirm an email,
 * "verify your email first" with a resend button, and sign-in by an emailed code. Every
 * form is `method="post"` with the CSRF token, and carries the authorization request it
 * came from as hidden inputs, so the browser can go back to it afterwards.
 */
import type { Child } from "hono/jsx";
import { Layout } from "./layout";

interface Base {
  appName: string;
  error?: string;
  notice?: string;
}

interface FormBase extends Base {
  action: string;
  csrf: string;
  hidden?: [string, string][];
}

function Hidden(props: { fields?: [string, string][]; csrf: string; extra?: Record<string, string> }) {
  return (
    <>
      {(props.fields ?? []).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      {Object.entries(props.extra ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <input type="hidden" name="csrf" value={props.csrf} />
    </>
  );
}

function Messages(props: { error?: string; notice?: string }) {
  return (
    <>
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
    </>
  );
}

function Back(props: { href?: string; label?: string }) {
  return props.href ? (
    <p class="alt">
      <a href={props.href}>{props.label ?? "Back to sign in"}</a>
    </p>
  ) : null;
}

function Page(props: { title: string; appName: string; heading: string; sub?: Child; children?: Child }) {
  return (
    <Layout title={`${props.title} · ${props.appName}`}>
      <h1>{props.heading}</h1>
      {props.sub ? <p class="sub">{props.sub}</p> : null}
      {props.children}
    </Layout>
  );
}

export function ForgotPasswordPage(props: FormBase & { identifier?: string; backHref?: string }) {
  return (
    <Page title="Forgot password" appName={props.appName} heading="Forgot your password?" sub={`Enter your username or email. If it belongs to a ${props.appName} account with an email, we will send a link to choose a new password.`}>
      <Messages error={props.error} />
      <form method="post" action={props.action}>
        <Hidden fields={props.hidden} csrf={props.csrf} />
        <label for="username">Username or email</label>
        <input type="text" id="username" name="username" value={props.identifier ?? ""} autocomplete="username" required autofocus />
        <button type="submit">Send me a link</button>
      </form>
      <Back href={props.backHref} />
    </Page>
  );
}

/** What every forgot-password request answers, account or not. */
export function CheckEmailPage(props: Base & { heading: string; message: string; backHref?: string }) {
  return (
    <Page title="Check your email" appName={props.appName} heading={props.heading}>
      <Messages error={props.error} notice={props.notice} />
      <p data-check-email>{props.message}</p>
      <Back href={props.backHref} />
    </Page>
  );
}

export function NewPasswordPage(props: FormBase & { token: string; username: string; minPassword: number; required?: boolean }) {
  return (
    <Page
      title="Choose a new password"
      appName={props.appName}
      heading="Choose a new password"
      sub={props.required ? `${props.appName} asks you to choose a new password for ${props.username} before you continue.` : `for ${props.username} at ${props.appName}`}
    >
      <Messages error={props.error} />
      <form method="post" action={props.action}>
        <Hidden fields={props.hidden} csrf={props.csrf} extra={{ token: props.token }} />
        <label for="password">New password</label>
        <input type="password" id="password" name="password" autocomplete="new-password" minlength={props.minPassword} required autofocus />
        <label for="password_confirm">New password again</label>
        <input type="password" id="password_confirm" name="password_confirm" autocomplete="new-password" minlength={props.minPassword} required />
        <button type="submit">Set password</button>
      </form>
    </Page>
  );
}

export function DonePage(props: Base & { heading: string; message: string; continueHref?: string; continueLabel?: string }) {
  return (
    <Page title={props.heading} appName={props.appName} heading={props.heading}>
      <p class="ok" data-done>
        {props.message}
      </p>
      {props.continueHref ? (
        <p class="alt">
          <a href={props.continueHref} data-continue>
            {props.continueLabel ?? "Continue"}
          </a>
        </p>
      ) : null}
    </Page>
  );
}

/** An expired, used, foreign or mangled link: one page for all, so a link says nothing about others. */
export function LinkProblemPage(props: Base & { message: string }) {
  return (
    <Page title="Link not valid" appName={props.appName} heading="This link cannot be used">
      <p class="error" role="alert" data-link-error>
        {props.message}
      </p>
    </Page>
  );
}

export function ConfirmEmailPage(props: FormBase & { token: string; email: string }) {
  return (
    <Page title="Confirm your email" appName={props.appName} heading="Confirm your email" sub={`Confirm ${props.email} as the email of your ${props.appName} account.`}>
      <Messages error={props.error} />
      <form method="post" action={props.action}>
        <Hidden fields={props.hidden} csrf={props.csrf} extra={{ token: props.token }} />
        <button type="submit">Confirm my email</button>
      </form>
    </Page>
  );
}

/** email_verification=required stopped a sign-in: no session; a button mails another link. */
export function VerifyFirstPage(props: FormBase & { email: string; ticket: string; sent: boolean }) {
  return (
    <Page title="Verify your email" appName={props.appName} heading="Verify your email first">
      <Messages error={props.error} notice={props.notice} />
      <p data-verify-first>
        {props.sent
          ? `We sent a link to ${props.email}. Open it to confirm your email, then sign in.`
          : `${props.appName} needs your email (${props.email}) confirmed before you sign in. Open the link we sent you, or ask for a new one.`}
      </p>
      <form method="post" action={props.action}>
        <Hidden fields={props.hidden} csrf={props.csrf} extra={{ ticket: props.ticket }} />
        <button type="submit" class="secondary">
          Send me a new link
        </button>
      </form>
    </Page>
  );
}

export function EmailCodeRequestPage(props: FormBase & { identifier?: string; backHref?: string }) {
  return (
    <Page title="Sign in with a code" appName={props.appName} heading="Sign in with a code" sub="We will email a 6-digit code to the address of your account.">
      <Messages error={props.error} />
      <form method="post" action={props.action}>
        <Hidden fields={props.hidden} csrf={props.csrf} extra={{ op: "send" }} />
        <label for="username">Username or email</label>
        <input type="text" id="username" name="username" value={props.identifier ?? ""} autocomplete="username" required autofocus />
        <button type="submit">Email me a code</button>
      </form>
      <Back href={props.backHref} />
    </Page>
  );
}

export function EmailCodeEnterPage(props: FormBase & { challenge: string; againHref: string }) {
  return (
    <Page title="Enter your code" appName={props.appName} heading="Enter your code" sub="If the account has an email, a 6-digit code is on its way. It expires in 10 minutes.">
      <Messages error={props.error} notice={props.notice} />
      <form method="post" action={props.action}>
        <Hidden fields={props.hidden} csrf={props.csrf} extra={{ op: "verify", challenge: props.challenge }} />
        <label for="code">Code</label>
        <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength={7} required autofocus />
        <button type="submit">Sign in</button>
      </form>
      <p class="alt">
        <a href={props.againHref}>Send a new code</a>
      </p>
    </Page>
  );
}
