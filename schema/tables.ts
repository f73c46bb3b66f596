/**
 * Latch's D1 schema. One file so that a reader sees every table and index at once;
 * `npm run db:generate` turns changes here into a migration under schema/migrations.
 *
 * Conventions: ids are text; times are integer milliseconds since the epoch (`*_at`);
 * JSON documents are text columns read with SQLite's json functions; every secret or
 * token column holds a hash (or, for signing keys, ciphertext), never the value.
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** A tenant. `id` is also its Kinvey app key (`kid_…`). */
export const apps = sqliteTable(
  "apps",
  {
    id: text("id").primaryKey(),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    /** Set ⇒ cookie mode, issuer `https://auth.{custom_domain}`. */
    customDomain: text("custom_domain"),
    appSecretHash: text("app_secret_hash").notNull(),
    masterSecretHash: text("master_secret_hash").notNull(),
    /** JSON AppSettings; absent keys take the documented defaults (worker/env.ts). */
    settings: text("settings").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("apps_slug").on(t.slug), uniqueIndex("apps_custom_domain").on(t.customDomain)],
);

/** OAuth clients of an app. */
export const clients = sqliteTable(
  "clients",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    name: text("name").notNull(),
    type: text("type", { enum: ["public", "confidential", "m2m"] }).notNull(),
    /** SHA-256 (hex) of the secret; null for public clients. */
    secretHash: text("secret_hash"),
    redirectUris: text("redirect_uris").notNull().default("[]"),
    postLogoutRedirectUris: text("post_logout_redirect_uris").notNull().default("[]"),
    allowedOrigins: text("allowed_origins").notNull().default("[]"),
    scopes: text("scopes").notNull().default("[]"),
    /** `body` or `cookie`: where browser callers get refresh tokens (worker/identity/clients.ts). */
    refreshTokenDelivery: text("refresh_token_delivery", { enum: ["body", "cookie"] }).notNull().default("body"),
    /**
     * 1 for clients created before Kinde's management scope catalogue (migration 0004): their
     * older scope names that are also Kinde names keep the wider meaning they had
     * (worker/identity/management-scopes.ts). New clients get Kinde's meaning.
     */
    legacyScopes: integer("legacy_scopes").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    /**
     * How the client came to be: `operator` (the operator API: first-party, no consent
     * screen) or `dynamic` (RFC 7591 registration: third-party, consent, expires unused).
     */
    registration: text("registration", { enum: ["operator", "dynamic"] }).notNull().default("operator"),
    /** JSON array: audiences / resource indicators this client may ask for besides the app's `resources` (issue 18). */
    audiences: text("audiences").notNull().default("[]"),
    /** JSON: the RFC 7591 metadata a dynamic client registered (grant_types, scope, client_uri, …), echoed by RFC 7592. */
    metadata: text("metadata").notNull().default("{}"),
    /** SHA-256 (hex) of a dynamic client's RFC 7592 registration access token. */
    registrationTokenHash: text("registration_token_hash"),
    /** Last authorization or token request (dynamic clients; at most one write a day): they expire unused. */
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [index("clients_app").on(t.appId)],
);

/**
 * A user's consent to a third-party client (worker/identity/consents.ts): the scopes and
 * resources it was granted on the consent screen. Revoked through the management API.
 */
export const consents = sqliteTable(
  "consents",
  {
    appId: text("app_id").notNull(),
    userId: text("user_id").notNull(),
    clientId: text("client_id").notNull(),
    /** JSON arrays of what was granted; a request within them needs no new consent. */
    scopes: text("scopes").notNull().default("[]"),
    resources: text("resources").notNull().default("[]"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.userId, t.clientId] }), index("consents_client").on(t.appId, t.clientId)],
);

/**
 * RFC 7591 initial access tokens, issued by the operator API for apps whose `registration`
 * is `token` (worker/identity/registration-tokens.ts). Only the SHA-256 is kept; each use
 * (one registration) is counted down by one conditional UPDATE.
 */
export const registrationTokens = sqliteTable(
  "registration_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    appId: text("app_id").notNull(),
    usesLeft: integer("uses_left").notNull(),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("registration_tokens_app").on(t.appId)],
);

/**
 * One pool of users per app, shared by every surface (Kinvey, hosted login, management).
 * Written only by worker/identity/users.ts. `username_key` and `email_key` are the
 * identifiers' keys (worker/identity/identifiers.ts): unique per app, and across each other
 * by the `users_identifiers_cross_*` triggers (migration 0002), so a username never equals
 * another user's email. They are null only on rows written before 0002 that the SQL
 * back-fill could not key (non-ASCII or colliding); `POST /admin/identifiers/backfill` keys
 * those and reports collisions.
 */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    /** Display form, as the user chose it. */
    username: text("username").notNull(),
    usernameKey: text("username_key"),
    /** Local part as given, domain lower-cased. */
    email: text("email"),
    emailKey: text("email_key"),
    emailVerified: integer("email_verified", { mode: "boolean" }).notNull().default(false),
    /** `scheme$params$salt$hash`; see worker/identity/password.ts. `!none`: no password. */
    passwordHash: text("password_hash").notNull(),
    /** The self-writable rest of the user document (name, given_name, custom fields); never an operator-owned attribute. */
    profile: text("profile").notNull().default("{}"),
    status: text("status", { enum: ["active", "suspended", "disabled"] }).notNull().default("active"),
    /** Bumped when claims-relevant data changes; chains compare it to their snapshot. */
    claimsVersion: integer("claims_version").notNull().default(1),
    /** Operator-owned (management API only): Kinde's `provided_id`. */
    providedId: text("provided_id"),
    /** Operator-owned: the `org_code` claim. */
    orgCode: text("org_code"),
    /** Operator-owned: Kinde's `is_password_reset_requested`. */
    passwordResetRequired: integer("password_reset_required", { mode: "boolean" }).notNull().default(false),
    passwordChangedAt: integer("password_changed_at"),
    lastLoginAt: integer("last_login_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_app_username").on(t.appId, t.username),
    uniqueIndex("users_app_username_key").on(t.appId, t.usernameKey),
    uniqueIndex("users_app_email_key").on(t.appId, t.emailKey),
    index("users_app_email").on(t.appId, t.email),
    index("users_app_created").on(t.appId, t.createdAt),
  ],
);

/**
 * Kinvey auth tokens and hosted-login browser sessions. Only the SHA-256 of the
 * token is kept; `kind` says which surface issued it.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    userId: text("user_id").notNull(),
    kind: text("kind", { enum: ["kinvey", "browser"] }).notNull(),
    tokenHash: text("token_hash").notNull(),
    authMethod: text("auth_method").notNull().default("password"),
    createdAt: integer("created_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
    /** Null: lives until revoked (Kinvey tokens are long-lived). */
    expiresAt: integer("expires_at"),
  },
  (t) => [uniqueIndex("sessions_token").on(t.tokenHash), index("sessions_user").on(t.appId, t.userId), index("sessions_expiry").on(t.expiresAt), index("sessions_kind_seen").on(t.appId, t.kind, t.lastSeenAt)],
);

/** Kinvey user groups. Members and nested groups live in the two tables below. */
export const groups = sqliteTable(
  "groups",
  {
    appId: text("app_id").notNull(),
    id: text("id").notNull(),
    /** `users.all`: every user of the app is a member. */
    allUsers: integer("all_users", { mode: "boolean" }).notNull().default(false),
    /** The rest of the group document as the client sent it. */
    doc: text("doc").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.id] }), index("groups_all_users").on(t.appId, t.allUsers)],
);

/** Direct user members of a group (`users.list`). */
export const groupUsers = sqliteTable(
  "group_users",
  {
    appId: text("app_id").notNull(),
    groupId: text("group_id").notNull(),
    userId: text("user_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.groupId, t.userId] }), index("group_users_user").on(t.appId, t.userId)],
);

/** Nesting: every member of `child_id` is a member of `parent_id`. */
export const groupChildren = sqliteTable(
  "group_children",
  {
    appId: text("app_id").notNull(),
    parentId: text("parent_id").notNull(),
    childId: text("child_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.parentId, t.childId] }), index("group_children_child").on(t.appId, t.childId)],
);

/** Per-collection permission level (absent row: shared). */
export const collections = sqliteTable(
  "collections",
  {
    appId: text("app_id").notNull(),
    name: text("name").notNull(),
    level: text("level", { enum: ["shared", "private", "readonly", "full"] }).notNull().default("shared"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.name] })],
);

/**
 * Kinvey entities. The ACL columns are lifted out of the document so that list,
 * count and delete-by-query filter on indexes: `creator` and the tri-state `gr`/`gw`
 * (null = collection default) here, named readers/writers in `entity_grants`.
 */
export const entities = sqliteTable(
  "entities",
  {
    appId: text("app_id").notNull(),
    collection: text("collection").notNull(),
    id: text("id").notNull(),
    creator: text("creator").notNull(),
    gr: integer("gr", { mode: "boolean" }),
    gw: integer("gw", { mode: "boolean" }),
    /** `_acl` as stored and echoed (r, w, groups, and gr/gw only when a client set them). */
    acl: text("acl").notNull().default("{}"),
    /** The entity without `_id`, `_acl`, `_kmd`. */
    data: text("data").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.collection, t.id] }),
    index("entities_creator").on(t.appId, t.collection, t.creator),
    index("entities_gr").on(t.appId, t.collection, t.gr),
    index("entities_gw").on(t.appId, t.collection, t.gw),
  ],
);

/**
 * Named grants of an entity, one row per (principal, right): `kind` 'u' user or 'g' group,
 * `right` 'r' or 'w'. Lets "what may user U read" be an index range, not a JSON scan.
 */
export const entityGrants = sqliteTable(
  "entity_grants",
  {
    appId: text("app_id").notNull(),
    collection: text("collection").notNull(),
    entityId: text("entity_id").notNull(),
    kind: text("kind", { enum: ["u", "g"] }).notNull(),
    right: text("right", { enum: ["r", "w"] }).notNull(),
    principalId: text("principal_id").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.appId, t.collection, t.kind, t.right, t.principalId, t.entityId] }),
    index("entity_grants_entity").on(t.appId, t.collection, t.entityId),
  ],
);

/** Per-app signing keys; `private_jwk` is AES-GCM ciphertext under KEY_ENCRYPTION_SECRET. */
export const signingKeys = sqliteTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    appId: text("app_id").notNull(),
    alg: text("alg").notNull(),
    publicJwk: text("public_jwk").notNull(),
    privateJwk: text("private_jwk").notNull(),
    /** next: published, not yet signing; active: signs; retired: published until `expires_at`. */
    status: text("status", { enum: ["next", "active", "retired"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    retiredAt: integer("retired_at"),
    expiresAt: integer("expires_at"),
    /** When it began signing (set for `active` keys); the rotation schedule counts from it (worker/keys/rotation.ts). */
    activatedAt: integer("activated_at"),
  },
  (t) => [index("signing_keys_app").on(t.appId, t.status), index("signing_keys_rotation").on(t.status, t.activatedAt)],
);

/** Authorization codes: single use, consumed atomically by `UPDATE … WHERE consumed_at IS NULL`. */
export const authCodes = sqliteTable(
  "auth_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    appId: text("app_id").notNull(),
    clientId: text("client_id").notNull(),
    userId: text("user_id").notNull(),
    sessionId: text("session_id").notNull(),
    redirectUri: text("redirect_uri").notNull(),
    codeChallenge: text("code_challenge"),
    scope: text("scope").notNull(),
    nonce: text("nonce"),
    /** JSON array of requested `audience` values (empty: the client id). */
    audience: text("audience").notNull().default("[]"),
    authTime: integer("auth_time").notNull(),
    authMethod: text("auth_method").notNull(),
    /** JSON: what the exchange issued (chain id), so a replay can revoke it. */
    issued: text("issued"),
    expiresAt: integer("expires_at").notNull(),
    consumedAt: integer("consumed_at"),
  },
  (t) => [index("auth_codes_expiry").on(t.expiresAt)],
);

/**
 * Index of refresh chains. The chain's truth is its Durable Object; this table exists
 * to list and end a user's chains (see worker/chains for how they are kept consistent).
 */
export const chains = sqliteTable(
  "chains",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    userId: text("user_id").notNull(),
    clientId: text("client_id").notNull(),
    sessionId: text("session_id"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    endedAt: integer("ended_at"),
  },
  (t) => [
    index("chains_user").on(t.appId, t.userId),
    index("chains_session").on(t.sessionId),
    index("chains_app_ended").on(t.appId, t.endedAt),
    index("chains_app_expiry").on(t.appId, t.expiresAt),
  ],
);

/** Append-only event log (§7). */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    type: text("type").notNull(),
    userId: text("user_id"),
    data: text("data").notNull().default("{}"),
    /** Who caused it: `api` (management API), `user` (sign-in, self-service), `admin`. */
    source: text("source", { enum: ["api", "user", "admin"] }).notNull().default("user"),
    /**
     * The event's private part, sealed (AES-GCM under KEY_ENCRYPTION_SECRET, worker/mail/seal.ts):
     * the mail message with its link or code, and the transport chosen when it was written.
     * Never listed by the management API; only the outbox opens it (worker/events/delivery.ts).
     */
    sealed: text("sealed"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("events_app_time").on(t.appId, t.createdAt), index("events_app_type").on(t.appId, t.type, t.createdAt), index("events_app_user").on(t.appId, t.userId, t.createdAt)],
);

export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    name: text("name").notNull(),
    endpoint: text("endpoint").notNull(),
    eventTypes: text("event_types").notNull().default("[]"),
    description: text("description"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("webhooks_app").on(t.appId)],
);

/**
 * The outbox: one row per (event, webhook), and one per mail message, retried until
 * delivered or dead. Webhook rows are inserted by the `events_webhook_outbox` trigger
 * (migration 0001, hand-written: keep it when squashing), so an event and its deliveries
 * commit together; a mail row (`channel` 'mail', `webhook_id` 'mail') is written in the
 * same batch as its event by worker/mail/queue.ts. `id` is the `webhook-id` header (and
 * the mail provider's idempotency key), stable across retries.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    webhookId: text("webhook_id").notNull(),
    eventId: text("event_id").notNull(),
    /** `webhook`: POST the event to `webhook_id`; `mail`: send the event's sealed message with the deployment's mail transport. */
    channel: text("channel", { enum: ["webhook", "mail"] }).notNull().default("webhook"),
    status: text("status", { enum: ["pending", "delivered", "dead"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("webhook_deliveries_due").on(t.status, t.nextAttemptAt),
    index("webhook_deliveries_hook").on(t.webhookId),
    index("webhook_deliveries_app_due").on(t.appId, t.status, t.nextAttemptAt),
    index("webhook_deliveries_done").on(t.status, t.updatedAt),
  ],
);

export const roles = sqliteTable(
  "roles",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    key: text("key").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("roles_app_key").on(t.appId, t.key)],
);

export const permissions = sqliteTable(
  "permissions",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    key: text("key").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("permissions_app_key").on(t.appId, t.key)],
);

export const rolePermissions = sqliteTable(
  "role_permissions",
  { roleId: text("role_id").notNull(), permissionId: text("permission_id").notNull() },
  (t) => [primaryKey({ columns: [t.roleId, t.permissionId] })],
);

export const userRoles = sqliteTable(
  "user_roles",
  { appId: text("app_id").notNull(), userId: text("user_id").notNull(), roleId: text("role_id").notNull() },
  (t) => [primaryKey({ columns: [t.appId, t.userId, t.roleId] })],
);

export const userPermissions = sqliteTable(
  "user_permissions",
  { appId: text("app_id").notNull(), userId: text("user_id").notNull(), permissionId: text("permission_id").notNull() },
  (t) => [primaryKey({ columns: [t.appId, t.userId, t.permissionId] })],
);

export const featureFlags = sqliteTable(
  "feature_flags",
  {
    appId: text("app_id").notNull(),
    key: text("key").notNull(),
    name: text("name").notNull(),
    /** Kinde's type codes: `b` boolean, `s` string, `i` integer. */
    type: text("type", { enum: ["b", "s", "i"] }).notNull(),
    defaultValue: text("default_value").notNull(),
    description: text("description"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.appId, t.key] })],
);

export const userFeatureFlags = sqliteTable(
  "user_feature_flags",
  { appId: text("app_id").notNull(), userId: text("user_id").notNull(), key: text("key").notNull(), value: text("value").notNull() },
  (t) => [primaryKey({ columns: [t.appId, t.userId, t.key] })],
);

export const passkeys = sqliteTable(
  "passkeys",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    userId: text("user_id").notNull(),
    publicKey: text("public_key").notNull(),
    counter: integer("counter").notNull().default(0),
    transports: text("transports").notNull().default("[]"),
    deviceType: text("device_type"),
    backedUp: integer("backed_up", { mode: "boolean" }).notNull().default(false),
    name: text("name"),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [index("passkeys_user").on(t.appId, t.userId)],
);

/** WebAuthn challenges, consumed atomically (single use, five minutes). */
export const webauthnChallenges = sqliteTable(
  "webauthn_challenges",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    /** Hash of the browser (pre-)session it is bound to. */
    bindingHash: text("binding_hash").notNull(),
    kind: text("kind", { enum: ["register", "authenticate"] }).notNull(),
    challenge: text("challenge").notNull(),
    userId: text("user_id"),
    expiresAt: integer("expires_at").notNull(),
    consumedAt: integer("consumed_at"),
  },
  (t) => [index("webauthn_challenges_expiry").on(t.expiresAt)],
);

/**
 * One-time credentials sent by mail (worker/recovery): password-reset links (30 minutes),
 * email-verification links (24 hours) and sign-in codes (6 digits, 10 minutes, 5 attempts).
 * Only an HMAC of the secret is kept (`secret_hash`, unique). `binding` is an HMAC of what
 * the credential is bound to and dies with: the password hash (reset), the email (verify),
 * the browser and the email (code). A request for an unknown account writes a row too
 * (`user_id` null, an unmatchable hash), so both answers cost the same and count against
 * the same limits: `subject` (an HMAC of the identifier as typed) and `address` (of the
 * client address) are what the per-account and per-address limits count. `continue` is
 * the hosted authorization request to return to. Rows are dead after `expires_at` and may
 * be purged then.
 */
export const oneTimeTokens = sqliteTable(
  "one_time_tokens",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    kind: text("kind", { enum: ["password_reset", "email_verification", "email_code"] }).notNull(),
    userId: text("user_id"),
    secretHash: text("secret_hash").notNull(),
    binding: text("binding").notNull(),
    subject: text("subject").notNull(),
    address: text("address").notNull(),
    continue: text("continue"),
    attempts: integer("attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    consumedAt: integer("consumed_at"),
  },
  (t) => [
    uniqueIndex("one_time_tokens_secret").on(t.secretHash),
    index("one_time_tokens_subject").on(t.appId, t.kind, t.subject, t.createdAt),
    index("one_time_tokens_address").on(t.appId, t.kind, t.address, t.createdAt),
    index("one_time_tokens_user").on(t.appId, t.userId),
    index("one_time_tokens_expiry").on(t.expiresAt),
  ],
);

/** Failed-credential counters for rate limiting; key is e.g. `acct:{app}:{username}`. */
export const rateLimits = sqliteTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [index("rate_limits_window").on(t.windowStart)],
);

/**
 * Upstream identity providers of an app (issue 15): generic OIDC and OAuth2 connections and
 * the Google, Microsoft, Apple and GitHub presets. Written only by worker/connections/store.ts.
 * `strategy` is Kinde's name (`oauth2:google`, …) or Latch's `oidc:custom` / `oauth2:custom`;
 * `name` is unique per app and names the connection in `auth_method` (`oidc:google`).
 * `options` holds the non-secret configuration (issuer, endpoints, scopes, claim mapping,
 * tenant, Apple's team and key ids); `secret` is the client secret (or Apple's private
 * key) as AES-GCM ciphertext under KEY_ENCRYPTION_SECRET, bound to the app and connection
 * id (worker/keys/seal.ts), never returned by any API.
 */
export const connections = sqliteTable(
  "connections",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    name: text("name").notNull(),
    displayName: text("display_name").notNull(),
    strategy: text("strategy").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    clientId: text("client_id").notNull(),
    secret: text("secret"),
    options: text("options").notNull().default("{}"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("connections_app_name").on(t.appId, t.name)],
);

/**
 * A user's identities at upstream connections: who the provider says they are (`subject`,
 * the `sub` or provider user id) and the email it reported. Written only by
 * worker/identity/identities.ts. A row with a null `subject` is a pre-link made through the
 * management API (`POST /api/v1/users/{id}/identities` with the email as `value`): the first
 * sign-in through that connection with that email, verified, claims it.
 */
export const userIdentities = sqliteTable(
  "user_identities",
  {
    id: text("id").primaryKey(),
    appId: text("app_id").notNull(),
    userId: text("user_id").notNull(),
    connectionId: text("connection_id").notNull(),
    subject: text("subject"),
    email: text("email"),
    totalLogins: integer("total_logins").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    lastLoginAt: integer("last_login_at"),
  },
  (t) => [
    uniqueIndex("user_identities_subject").on(t.appId, t.connectionId, t.subject),
    index("user_identities_user").on(t.appId, t.userId),
    index("user_identities_email").on(t.appId, t.connectionId, t.email),
  ],
);

/**
 * Upstream sign-ins under way: one row per redirect to a provider, keyed by the SHA-256 of
 * its `state`, bound to the browser's pre-login cookie (`binding_hash`), single use (deleted
 * as it is read, atomically) and short-lived; the scheduled purge removes expired rows.
 * The PKCE verifier and the nonce are not stored: both are derived from the state and the
 * pre-login cookie (worker/connections/flow-state.ts).
 * `fields` is the Latch authorization request to continue with afterwards.
 */
export const upstreamStates = sqliteTable(
  "upstream_states",
  {
    stateHash: text("state_hash").primaryKey(),
    appId: text("app_id").notNull(),
    connectionId: text("connection_id").notNull(),
    bindingHash: text("binding_hash").notNull(),
    fields: text("fields").notNull().default("[]"),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("upstream_states_app_expiry").on(t.appId, t.expiresAt), index("upstream_states_expiry").on(t.expiresAt)],
);
