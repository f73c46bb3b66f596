/**
 * Every per-app setting (SPEC §4, §9), one record each: its default, the values it takes,
 * what it means and what it affects. The `AppSettings` type, `DEFAULT_SETTINGS`, the
 * validation of the operator API and the README's settings table all come from SETTINGS,
 * so a new setting is one record here (test/unit/settings.test.ts keeps the README in step).
 * Durations are seconds.
 */

export class SettingsError extends Error {}

interface Setting<T> {
  default: T;
  /** Durations are shown as such in the README table. */
  unit?: "seconds";
  /** The values it takes, as the README table shows them. */
  values: string;
  description: string;
  /** What changes when it does. */
  affects: string;
  /** The value, or a SettingsError naming the setting. */
  parse(value: unknown, key: string): T;
}

const DAY = 24 * 3600;
const MAX_DURATION = 10 * 365 * DAY;

function wholeNumber(min: number, max: number) {
  return (value: unknown, key: string): number => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new SettingsError(`${key} must be a whole number from ${min} to ${max}`);
    }
    return value;
  };
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: unknown, key: string): T => {
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      throw new SettingsError(`${key} must be one of ${allowed.join(", ")}`);
    }
    return value as T;
  };
}

/** 900 → "900 s", 2592000 → "30 days". */
function duration(n: number): string {
  return n >= DAY && n % DAY === 0 ? `${n / DAY} day${n === DAY ? "" : "s"}` : `${n} s`;
}

function seconds(def: number, min: number, max: number, description: string, affects: string): Setting<number> {
  return { default: def, unit: "seconds", values: `${duration(min)} – ${duration(max)}`, description, affects, parse: wholeNumber(min, max) };
}

function count(def: number, min: number, max: number, description: string, affects: string): Setting<number> {
  return { default: def, values: `${min} – ${max}`, description, affects, parse: wholeNumber(min, max) };
}

function choice<T extends string>(allowed: readonly T[], def: T, description: string, affects: string): Setting<T> {
  return { default: def, values: allowed.map((a) => `\`${a}\``).join(", "), description, affects, parse: oneOf(allowed) };
}

function flag(def: boolean, description: string, affects: string): Setting<boolean> {
  return {
    default: def,
    values: "`true`, `false`",
    description,
    affects,
    parse: (value, key) => {
      if (typeof value !== "boolean") throw new SettingsError(`${key} must be true or false`);
      return value;
    },
  };
}

/**
 * A redirect URI as clients register them (identity/clients.ts validRedirectUri has the same
 * rule): absolute, no fragment; https, http on loopback only, or a reverse-domain scheme.
 */
function redirectUris(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.length > 20) throw new SettingsError(`${key} must be an array of at most 20 redirect URIs`);
  return value.map((v) => {
    let url: URL | null = null;
    try {
      url = typeof v === "string" && v.length <= 2048 && !v.includes("#") ? new URL(v) : null;
    } catch {
      url = null;
    }
    const local = url !== null && (["localhost", "127.0.0.1", "[::1]"].includes(url.hostname) || url.hostname.endsWith(".localhost"));
    const ok = url !== null && (url.protocol === "https:" || (url.protocol === "http:" && local) || /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(url.protocol));
    if (!ok) throw new SettingsError(`${key}: not an allowed redirect URI: ${String(v)}`);
    return v as string;
  });
}

/** An origin is scheme://host[:port] with nothing after it. */
export function normalizeOrigin(value: unknown): string | null {
  if (typeof value !== "string" || value.length > 255) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.origin !== value.replace(/\/$/, "")) return null;
  return url.origin;
}

function origins(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.length > 100) throw new SettingsError(`${key} must be an array of at most 100 origins`);
  return value.map((v) => {
    const origin = normalizeOrigin(v);
    if (!origin) throw new SettingsError(`not an origin: ${String(v)}`);
    return origin;
  });
}

/**
 * An allow-listed audience: a resource indicator (RFC 8707, an absolute URI) or one of
 * Kinde's `audience` names. No whitespace or control characters, so the space-separated
 * `audience` parameter can never smuggle two in one.
 */
export function validTarget(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 2048 && !/[\u0000-\u0020\u007f]/.test(value);
}

/** An allow-list of audiences (the app's `resources`, a client's `audiences`); duplicates collapse. */
export function targetList(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.length > 100) throw new SettingsError(`${key} must be an array of at most 100 audiences`);
  for (const v of value) if (!validTarget(v)) throw new SettingsError(`${key}: not an audience (a URI or name without spaces): ${String(v)}`);
  return [...new Set(value as string[])];
}

export const REGISTRATION_MODES = ["off", "token", "open"] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

export const AUTH_POLICIES = ["none", "passkey_preferred", "passkey_required"] as const;
export type AuthPolicy = (typeof AUTH_POLICIES)[number];
export const SIGNING_ALGS = ["RS256", "ES256", "EdDSA"] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const EMAIL_VERIFICATION = ["off", "optional", "required"] as const;
export type EmailVerification = (typeof EMAIL_VERIFICATION)[number];
export const SIGN_IN_METHODS = ["password", "email_code"] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

function methods(value: unknown, key: string): SignInMethod[] {
  if (!Array.isArray(value) || value.length === 0) throw new SettingsError(`${key} must be a non-empty array of ${SIGN_IN_METHODS.join(", ")}`);
  for (const v of value) if (!(SIGN_IN_METHODS as readonly unknown[]).includes(v)) throw new SettingsError(`${key}: unknown method ${String(v)}`);
  return SIGN_IN_METHODS.filter((m) => value.includes(m));
}

export const SETTINGS = {
  access_token_ttl: seconds(15 * 60, 5, MAX_DURATION, "Lifetime of access tokens (and ID tokens).", "every token response, `/session/token`, `/refresh`; how long a retired key stays in the JWKS"),
  refresh_token_ttl: seconds(30 * DAY, 5, MAX_DURATION, "Idle lifetime of a refresh chain and of a hosted-login browser session.", "refresh chains, browser session cookies and their sliding expiry"),
  refresh_absolute_ttl: seconds(90 * DAY, 5, MAX_DURATION, "Absolute lifetime of a refresh chain and of a browser session, however often it is used.", "refresh chains, browser sessions"),
  refresh_overlap: seconds(30, 0, MAX_DURATION, "After a rotation, the previous refresh token returns the same successor for this long (a retry, a second tab); 0 disables it.", "refresh rotation and reuse detection"),
  kinvey_session_idle_seconds: seconds(
    14 * DAY,
    60,
    MAX_DURATION,
    "A Kinvey auth token unused for this long is dead (401 `InvalidCredentials`). Use is recorded at most every 15 minutes, so a token may die up to that much early.",
    "Kinvey auth tokens (`Authorization: Kinvey …`)",
  ),
  kinvey_session_absolute_seconds: seconds(90 * DAY, 60, MAX_DURATION, "A Kinvey auth token is dead this long after its login or signup, however often it is used (401 `InvalidCredentials`).", "Kinvey auth tokens"),
  max_chains_per_user: count(50, 1, 1000, "Live refresh chains a user may hold; a new sign-in ends the oldest past it.", "refresh chains"),
  auth_policy: choice(AUTH_POLICIES, "none", "How strongly users must authenticate: passkeys offered (`passkey_preferred`) or required before any session or token (`passkey_required`).", "hosted sign-in, Kinvey login and signup, every token grant (docs/passkeys.md)"),
  signing_alg: choice(SIGNING_ALGS, "RS256", "Algorithm of the app's signing keys (Kinde's SDKs accept only RS256).", "access and ID tokens, webhooks, the JWKS"),
  signing_key_rotation_days: count(
    90,
    0,
    3650,
    "Days a signing key signs before the scheduled rotation promotes the published next key and publishes a new one; the retired key stays in the JWKS until its last token expires. 0: rotated only by the operator.",
    "the JWKS, the `kid` of new tokens (worker/ops, README \"Scheduled work\")",
  ),
  allowed_origins: {
    default: [] as string[],
    values: "array of origins",
    description: "Browser origins allowed to call the app's credentialed endpoints, besides every client's own `allowed_origins`.",
    affects: "CORS of `/session`, `/session/token`, `/refresh`, `/oauth2/token`; exchange-mode cookie delivery",
    parse: origins,
  } satisfies Setting<string[]>,
  password_min_length: count(8, 1, 256, "Shortest password accepted on sign-up and password change.", "Kinvey signup and user update, hosted sign-up, password reset, management API passwords"),
  resources: {
    default: [] as string[],
    values: "array of URIs or names",
    description: "Resource indicators (RFC 8707 `resource`) and `audience` values every client of the app may ask for, e.g. an MCP server's URL; a client's own `audiences` add to it. Empty: tokens are for the client id only, and any other target is refused with `invalid_target`.",
    affects: "`aud` of access tokens; `/oauth2/auth` and `/oauth2/token`",
    parse: targetList,
  } satisfies Setting<string[]>,
  registration: choice(REGISTRATION_MODES, "off", "RFC 7591 dynamic client registration at `/oauth2/register`: `open` to anyone, `token` with an initial access token from the operator API, `off` not at all.", "`/oauth2/register`, the `registration_endpoint` in discovery"),
  registration_client_ttl: seconds(90 * DAY, DAY, MAX_DURATION, "A dynamically registered client that has made no authorization or token request for this long is deleted.", "dynamically registered clients"),
  client_id_metadata_documents: choice(["off", "on"] as const, "off", "Whether an https URL used as `client_id` is fetched as an OAuth Client ID Metadata Document (a third-party client, shown the consent screen).", "`/oauth2/auth`, `/oauth2/token`, `client_id_metadata_document_supported` in discovery"),
  upstream_link_by_email: flag(
    false,
    "A first sign-in through an upstream connection joins the existing user with the same email, when both the provider and Latch have that email verified.",
    "upstream sign-in (docs/upstream.md)",
  ),
  upstream_signup: flag(true, "A first sign-in through an upstream connection that matches no user creates one; `false`: only existing or linked users sign in that way.", "upstream sign-in (docs/upstream.md)"),
  mic_redirect_uris: {
    default: [] as string[],
    values: "array of redirect URIs",
    description: "Redirect URIs of Kinvey Mobile Identity Connect, where the app key is the OAuth client id (`loginWithMIC`); exact match.",
    affects: "`/v3/oauth/auth`, `/oauth2/auth` and `/oauth/token` with the app key as `client_id`",
    parse: redirectUris,
  } satisfies Setting<string[]>,
  email_verification: choice(
    EMAIL_VERIFICATION,
    "off",
    "Whether sign-up mails a link that verifies the email: not at all (`off`), without blocking anything (`optional`), or before any sign-in (`required`).",
    "hosted sign-up and sign-in, Kinvey signup, login, Basic credentials and `user-email-verification-initiate`; the `email_verified` claims",
  ),
  event_retention_days: count(90, 7, 3650, "Days events are kept; the scheduled purge deletes older ones.", "the event log, `GET /api/v1/events`, webhook deliveries of older events (docs/storage.md \"Retention\")"),
  sign_in_methods: {
    default: ["password"] as SignInMethod[],
    values: "non-empty array of `password`, `email_code`",
    description: "How users sign in on the hosted page: their password, and/or a 6-digit code mailed to them (`email_code`).",
    affects: "the hosted sign-in page and `/account/email-code`; the Kinvey API always signs in with passwords",
    parse: methods,
  } satisfies Setting<SignInMethod[]>,
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type AppSettings = { [K in SettingKey]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never };

export const DEFAULT_SETTINGS: Readonly<AppSettings> = Object.freeze(
  Object.fromEntries(Object.entries(SETTINGS).map(([key, spec]) => [key, spec.default])) as unknown as AppSettings,
);

/** Rules between settings, checked after every change. */
function checkTogether(s: AppSettings): void {
  if (s.refresh_token_ttl <= s.access_token_ttl) throw new SettingsError("refresh_token_ttl must exceed access_token_ttl");
  if (s.refresh_absolute_ttl < s.refresh_token_ttl) throw new SettingsError("refresh_absolute_ttl must be at least refresh_token_ttl");
  if (s.kinvey_session_absolute_seconds < s.kinvey_session_idle_seconds) throw new SettingsError("kinvey_session_absolute_seconds must be at least kinvey_session_idle_seconds");
}

/** Merges `patch` over `current`, refusing unknown keys and out-of-range values. */
export function mergeSettings(current: AppSettings, patch: unknown): AppSettings {
  if (patch === undefined || patch === null) return current;
  if (typeof patch !== "object" || Array.isArray(patch)) throw new SettingsError("settings must be an object");
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (!Object.hasOwn(SETTINGS, key)) throw new SettingsError(`unknown setting: ${key}`);
    next[key] = (SETTINGS[key as SettingKey] as Setting<unknown>).parse(value, key);
  }
  checkTogether(next as AppSettings);
  return next as AppSettings;
}

/** Settings as stored (possibly partial, possibly from an older version) → complete settings. */
export function parseStoredSettings(json: string): AppSettings {
  const stored = JSON.parse(json) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(SETTINGS)) if (stored[key] !== undefined && stored[key] !== null) out[key] = stored[key];
  return out as AppSettings;
}

/** The README's settings table (markdown), rendered from SETTINGS. */
export function settingsTable(): string {
  const shown = (s: Setting<unknown>) =>
    s.unit === "seconds" ? duration(s.default as number) : Array.isArray(s.default) ? `\`${JSON.stringify(s.default)}\`` : typeof s.default === "string" || typeof s.default === "boolean" ? `\`${s.default}\`` : String(s.default);
  const rows = Object.entries(SETTINGS).map(([key, s]) => `| \`${key}\` | ${shown(s as Setting<unknown>)} | ${s.values} | ${s.description} | ${s.affects} |`);
  return ["| setting | default | values | what it means | what it affects |", "|---|---|---|---|---|", ...rows].join("\n");
}
