/** The dev mailbox (GET /dev/mailbox, development only): what the `dev` mail transport delivered. */
import { Layout } from "./layout";

export interface MailboxItem {
  id: string;
  app: string;
  to: string;
  subject: string;
  text: string;
  link?: string;
  code?: string;
  at: string;
}

export function MailboxPage(props: { items: MailboxItem[] }) {
  return (
    <Layout title="Dev mailbox">
      <h1>Dev mailbox</h1>
      <p class="sub">Mail delivered by the dev transport, newest first. Local development only.</p>
      {props.items.length === 0 ? <p data-empty>No mail yet.</p> : null}
      <ul class="keys">
        {props.items.map((m) => (
          <li data-mail-id={m.id} data-to={m.to}>
            <strong>{m.subject}</strong>
            <br />
            <small>
              to {m.to} · {m.app} · {m.at}
            </small>
            {m.link ? (
              <p>
                <a href={m.link} data-mail-link>
                  {m.link}
                </a>
              </p>
            ) : null}
            {m.code ? <p data-mail-code>{m.code}</p> : null}
            <pre style="white-space:pre-wrap;font-size:13px">{m.text}</pre>
          </li>
        ))}
      </ul>
    </Layout>
  );
}
