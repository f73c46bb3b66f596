/**
 * The `dev` face: local development only (isDevelopment(env), wrangler.toml's `dev`
 * environment, which `npm start` and the tests use). Anywhere else every route is 404.
 *   GET /dev/mailbox        what the `dev` mail transport delivered, newest first (HTML)
 *   GET /dev/mailbox.json   the same as JSON, `?to=` filters by recipient
 * A message shows up once the outbox delivered it, as it would arrive in a real mailbox.
 */
import { Hono } from "hono";
import { isDevelopment, type Env } from "../env";
import { recentMail } from "../events/outbox";
import { openEnvelope } from "../mail/seal";
import { htmlPage } from "../ui/layout";
import { MailboxPage } from "../ui/mailbox";

export const devRoutes = new Hono<{ Bindings: Env }>();

devRoutes.use("*", async (c, next) => {
  if (!isDevelopment(c.env)) return c.notFound();
  await next();
});

async function messages(env: Env, to: string | undefined) {
  const rows = await recentMail(env, { status: "delivered", limit: 200 });
  const opened = await Promise.all(
    rows.map(async (row) => {
      const envelope = row.sealed ? await openEnvelope(env, row.app_id, row.event_id, row.sealed) : null;
      if (!envelope) return null;
      const m = envelope.message;
      return { id: row.id, app_id: row.app_id, type: row.type, user_id: row.user_id, kind: m.kind, to: m.to, subject: m.subject, text: m.text, html: m.html, link: m.link, code: m.code, delivered_at: new Date(row.updated_at).toISOString() };
    }),
  );
  return opened.filter((m): m is NonNullable<typeof m> => m !== null && (to === undefined || m.to === to.toLowerCase()));
}

devRoutes.get("/mailbox.json", async (c) => c.json({ messages: await messages(c.env, c.req.query("to")) }, 200, { "Cache-Control": "no-store" }));

devRoutes.get("/mailbox", async (c) => {
  const items = (await messages(c.env, c.req.query("to"))).map((m) => ({ id: m.id, app: m.app_id, to: m.to, subject: m.subject, text: m.text, link: m.link, code: m.code, at: m.delivered_at }));
  return htmlPage(MailboxPage({ items }), 200);
});
