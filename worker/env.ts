/**
 * The Worker's bindings. Per-app settings and their defaults are in tenancy/settings.ts.
 */
import type { RefreshChains } from "./chains/object";
import type { AttemptCounters } from "./identity/attempt-counters";
import type { WebhookOutbox } from "./events/object";

export interface Env {
  DB: D1Database;
  CHAINS: DurableObjectNamespace<RefreshChains>;
  /** One object per app: drains the app's webhook outbox on an alarm. */
  WEBHOOK_OUTBOX: DurableObjectNamespace<WebhookOutbox>;
  /** Credential-guessing counters, one object per shard of keys (worker/identity/attempt-counters.ts). */
  ATTEMPTS: DurableObjectNamespace<AttemptCounters>;
  /**
   * The request header that carries the client's address for the per-address limits
   * (worker/http/client-address.ts). Default `cf-connecting-ip`, which assumes Cloudflare's
   * edge in front; a self-hosted deployment names the header its own proxy sets.
   */
  CLIENT_ADDRESS_HEADER?: string;
  /** Self-hosted behind a proxy that ends TLS: the header carrying the client's scheme (e.g. `x-forwarded-proto`). */
  FORWARDED_PROTO_HEADER?: string;
  /** Outbox retry delays in seconds, comma separated (default in worker/events/retry.ts); webhooks and mail. */
  WEBHOOK_RETRY_SCHEDULE?: string;
  /**
   * How this deployment sends mail (worker/mail/config.ts, README "Mail"): `webhook` (the
   * default: the event carries the message to the app's webhooks), `resend` or `postmark`
   * (their HTTP APIs), `dev` (kept for GET /dev/mailbox; development only).
   */
  MAIL_TRANSPORT?: string;
  /** Sender for `resend`/`postmark`, e.g. `no-reply@auth.example.com`; the app's name is its display name. */
  MAIL_FROM?: string;
  /** The provider's API key (Resend) or server token (Postmark). A secret. */
  MAIL_API_KEY?: string;
  /** The provider's API origin, when not its public one (a proxy; loopback stubs in development). */
  MAIL_API_URL?: string;
  /** Bearer token of the operator API (/admin). A secret. */
  ADMIN_TOKEN: string;
  /** Encrypts signing keys at rest. A secret. */
  KEY_ENCRYPTION_SECRET: string;
  /** Every app is served at `{slug}.{BASE_HOST}` unless it has a custom domain. */
  BASE_HOST: string;
  /** Slug of the app that answers hosts matching no app; set only in the `dev` environment. */
  DEFAULT_APP?: string;
  /**
   * "true" only in the `dev` environment of wrangler.toml (what `npm start` and the tests
   * use): the demo seed route, the dev mailbox and loopback http targets exist only then.
   */
  DEV_MODE?: string;
  /**
   * Test-only: the parameters new password hashes are made with (`scrypt$N=1024,r=8,p=1`).
   * Unset everywhere else, which means the production default (worker/identity/password.ts).
   */
  PASSWORD_HASH_PARAMS?: string;
}

/** Local development (wrangler.toml's `dev` environment); never true in a deployment. */
export function isDevelopment(env: Pick<Env, "DEV_MODE">): boolean {
  return env.DEV_MODE === "true";
}

type LatchEnv = Env;
declare global {
  namespace Cloudflare {
    interface Env extends LatchEnv {}
  }
}

/** Request bodies larger than this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
