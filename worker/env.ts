/**
 * Bindings, per-app settings and their documented defaults, in one place.
 */
import type { RefreshChains } from "./chains/object";
import type { WebhookOutbox } from "./events/object";

export interface Env {
  DB: D1Database;
  CHAINS: DurableObjectNamespace<RefreshChains>;
  /** One object per app: drains the app's webhook outbox on an alarm. */
  WEBHOOK_OUTBOX: DurableObjectNamespace<WebhookOutbox>;
  /** Webhook retry delays in seconds, comma separated (default in worker/events/retry.ts). */
  WEBHOOK_RETRY_SCHEDULE?: string;
  /** Bearer token of the operator API (/admin). A secret. */
  ADMIN_TOKEN: string;
  /** Encrypts signing keys at rest. A secret. */
  KEY_ENCRYPTION_SECRET: string;
  /** Every app is served at `{slug}.{BASE_HOST}` unless it has a custom domain. */
  BASE_HOST: string;
  /** Slug of the app that answers hosts matching no app; unset in production. */
  DEFAULT_APP?: string;
}

type LatchEnv = Env;
declare global {
  namespace Cloudflare {
    interface Env extends LatchEnv {}
  }
}

export const AUTH_POLICIES = ["none", "passkey_preferred", "passkey_required"] as const;
export type AuthPolicy = (typeof AUTH_POLICIES)[number];
export const SIGNING_ALGS = ["RS256", "ES256", "EdDSA"] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** Per-app settings (SPEC §4, §9). Durations are seconds. */
export interface AppSettings {
  access_token_ttl: number;
  refresh_token_ttl: number;
  refresh_absolute_ttl: number;
  /** Seconds during which the previous refresh token yields the same successor; 0 disables. */
  refresh_overlap: number;
  max_chains_per_user: number;
  auth_policy: AuthPolicy;
  signing_alg: SigningAlg;
  /** Browser origins allowed to call the app's CORS routes with credentials. */
  allowed_origins: string[];
  password_min_length: number;
}

export const DEFAULT_SETTINGS: Readonly<AppSettings> = Object.freeze({
  access_token_ttl: 15 * 60,
  refresh_token_ttl: 30 * 24 * 3600,
  refresh_absolute_ttl: 90 * 24 * 3600,
  refresh_overlap: 30,
  max_chains_per_user: 50,
  auth_policy: "none",
  signing_alg: "RS256",
  allowed_origins: [],
  password_min_length: 8,
});

/** Request bodies larger than this are refused with 413 before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
