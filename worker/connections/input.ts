/**
 * A connection as the operator API and the management API take it (Kinde's shape: `name`,
 * `display_name`, `strategy`, `options: {client_id, client_secret, …}`) and show it (never a
 * secret). One parser for both faces; it throws ConnectionInputError, which each face words
 * in its own format (400).
 */
import { PROFILE_FIELDS, STRATEGIES, validTenant, type ConnectionOptions, type Mapping, type Strategy } from "./presets";
import { newConnectionId, sealSecret, type Connection } from "./store";
import { upstreamUrlProblem } from "./upstream";
import type { Env } from "../env";

export class ConnectionInputError extends Error {}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const SCOPE = /^[\x21-\x7e]{1,128}$/;
const CLAIM_PATH = /^[A-Za-z0-9_:.-]{1,128}$/;

function fail(message: string): never {
  throw new ConnectionInputError(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown, key: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || !value.trim() || value.length > max || CONTROL.test(value)) fail(`${key} must be a non-empty string of at most ${max} characters.`);
  return value.trim();
}

function only(body: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const key of Object.keys(body)) if (!known.includes(key)) fail(`Unknown field in ${where}: ${key}.`);
}

const TOP = ["name", "display_name", "strategy", "enabled", "enabled_applications", "organization_code", "options"] as const;
const OPTION_KEYS = [
  "client_id", "client_secret", "issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "scopes", "claim_mapping",
  "token_endpoint_auth_method", "tenant", "team_id", "key_id", "private_key",
  // Kinde's options Latch accepts and does not use: linking is the app's upstream_link_by_email setting.
  "is_use_custom_domain", "is_trusted",
] as const;

function scopes(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === "string" ? value.split(" ").filter(Boolean) : value;
  if (!Array.isArray(list) || list.length > 20 || !list.every((s) => typeof s === "string" && SCOPE.test(s))) fail("options.scopes must be at most 20 scope names.");
  return list as string[];
}

function claimMapping(value: unknown): Mapping | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail("options.claim_mapping must be an object.");
  const out: Mapping = {};
  for (const [key, path] of Object.entries(value)) {
    if (!(PROFILE_FIELDS as readonly string[]).includes(key)) fail(`options.claim_mapping: unknown field ${key} (one of ${PROFILE_FIELDS.join(", ")}).`);
    if (typeof path !== "string" || !CLAIM_PATH.test(path)) fail(`options.claim_mapping.${key} must name a claim.`);
    out[key as keyof Mapping] = path;
  }
  return out;
}

function url(value: unknown, key: string, allowLoopbackHttp: boolean): string | undefined {
  const v = str(value, key, 2048);
  if (v === undefined) return undefined;
  const problem = upstreamUrlProblem(v, allowLoopbackHttp);
  if (problem) fail(`${key}: ${problem}`);
  // Kept exactly as given: an issuer is compared with the discovery document's character for character.
  return v;
}

interface Parsed {
  options: ConnectionOptions;
  clientId?: string;
  clientSecret?: string;
  privateKey?: string;
}

function parseOptions(raw: unknown, allowLoopbackHttp: boolean): Parsed {
  if (raw === undefined || raw === null) return { options: {} };
  if (!isObject(raw)) fail("options must be an object.");
  only(raw, OPTION_KEYS, "options");
  const options: ConnectionOptions = {};
  const set = <K extends keyof ConnectionOptions>(k: K, v: ConnectionOptions[K] | undefined) => {
    if (v !== undefined) options[k] = v;
  };
  set("issuer", url(raw.issuer, "options.issuer", allowLoopbackHttp));
  set("authorization_endpoint", url(raw.authorization_endpoint, "options.authorization_endpoint", allowLoopbackHttp));
  set("token_endpoint", url(raw.token_endpoint, "options.token_endpoint", allowLoopbackHttp));
  set("userinfo_endpoint", url(raw.userinfo_endpoint, "options.userinfo_endpoint", allowLoopbackHttp));
  set("scopes", scopes(raw.scopes));
  set("claim_mapping", claimMapping(raw.claim_mapping));
  if (raw.token_endpoint_auth_method !== undefined) {
    if (raw.token_endpoint_auth_method !== "client_secret_basic" && raw.token_endpoint_auth_method !== "client_secret_post") {
      fail("options.token_endpoint_auth_method must be client_secret_basic or client_secret_post.");
    }
    options.token_endpoint_auth_method = raw.token_endpoint_auth_method;
  }
  const tenant = str(raw.tenant, "options.tenant", 64);
  if (tenant !== undefined && !validTenant(tenant)) fail("options.tenant must be common, organizations, consumers or a tenant id (GUID).");
  set("tenant", tenant);
  set("team_id", str(raw.team_id, "options.team_id", 64));
  set("key_id", str(raw.key_id, "options.key_id", 64));
  const privateKey = raw.private_key === undefined ? undefined : str(raw.private_key, "options.private_key", 4096);
  if (privateKey !== undefined && !privateKey.includes("PRIVATE KEY")) fail("options.private_key must be the PEM of Apple's .p8 key.");
  return { options, clientId: str(raw.client_id, "options.client_id", 256), clientSecret: str(raw.client_secret, "options.client_secret", 2048), privateKey };
}

/** What each strategy cannot do without. */
function checkComplete(strategy: Strategy, options: ConnectionOptions, hasSecret: boolean): void {
  const need = (ok: unknown, what: string) => {
    if (!ok) fail(`${strategy} needs ${what}.`);
  };
  need(hasSecret, strategy === "oauth2:apple" ? "options.private_key" : "options.client_secret");
  if (strategy === "oidc:custom") need(options.issuer, "options.issuer");
  if (strategy === "oauth2:custom") {
    need(options.authorization_endpoint, "options.authorization_endpoint");
    need(options.token_endpoint, "options.token_endpoint");
    need(options.userinfo_endpoint, "options.userinfo_endpoint");
  }
  if (strategy === "oauth2:apple") {
    need(options.team_id, "options.team_id");
    need(options.key_id, "options.key_id");
  }
}

function defaultName(strategy: Strategy): string | undefined {
  return strategy.endsWith(":custom") ? undefined : strategy.slice("oauth2:".length);
}

function enabledOf(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "boolean") fail("enabled must be true or false.");
  return value;
}

/** A new connection from a create body; its secret sealed. */
export async function connectionFromInput(env: Env, appId: string, body: Record<string, unknown>, allowLoopbackHttp: boolean, now = Date.now()): Promise<Connection> {
  only(body, TOP, "the connection");
  if (body.organization_code !== undefined && body.organization_code !== null) fail("Organizations are not supported.");
  const strategy = body.strategy;
  if (typeof strategy !== "string" || !(STRATEGIES as readonly string[]).includes(strategy)) fail(`strategy must be one of ${STRATEGIES.join(", ")}.`);
  const s = strategy as Strategy;
  const name = str(body.name, "name", 64) ?? defaultName(s);
  if (!name || !NAME.test(name)) fail("name must be 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit.");
  const parsed = parseOptions(body.options, allowLoopbackHttp);
  if (!parsed.clientId) fail("options.client_id is required.");
  const secret = s === "oauth2:apple" ? parsed.privateKey : parsed.clientSecret;
  checkComplete(s, parsed.options, secret !== undefined);
  const id = newConnectionId();
  return {
    id,
    appId,
    name,
    displayName: str(body.display_name, "display_name", 64) ?? "",
    strategy: s,
    enabled: enabledOf(body.enabled) ?? true,
    clientId: parsed.clientId,
    sealedSecret: await sealSecret(env, appId, id, s === "oauth2:apple" ? { private_key: secret! } : { client_secret: secret! }),
    options: parsed.options,
    createdAt: now,
    updatedAt: now,
  };
}

/** A connection changed by a PATCH body: fields given replace, options merge, the strategy stays. */
export async function changedConnection(env: Env, current: Connection, body: Record<string, unknown>, allowLoopbackHttp: boolean, now = Date.now()): Promise<Connection> {
  only(body, TOP, "the connection");
  if (body.strategy !== undefined && body.strategy !== current.strategy) fail("strategy cannot change; create another connection.");
  const next: Connection = { ...current, updatedAt: now };
  const name = str(body.name, "name", 64);
  if (name !== undefined) {
    if (!NAME.test(name)) fail("name must be 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit.");
    next.name = name;
  }
  if (body.display_name !== undefined) next.displayName = str(body.display_name, "display_name", 64) ?? "";
  next.enabled = enabledOf(body.enabled) ?? current.enabled;
  const parsed = parseOptions(body.options, allowLoopbackHttp);
  next.options = { ...current.options, ...parsed.options };
  if (parsed.clientId) next.clientId = parsed.clientId;
  const secret = current.strategy === "oauth2:apple" ? parsed.privateKey : parsed.clientSecret;
  if (secret !== undefined) next.sealedSecret = await sealSecret(env, current.appId, current.id, current.strategy === "oauth2:apple" ? { private_key: secret } : { client_secret: secret });
  checkComplete(next.strategy, next.options, next.sealedSecret !== null);
  return next;
}

/** What the APIs show: everything but the secret; `callback_url` is what to register at the provider. */
export function connectionView(connection: Connection, issuer: string) {
  return {
    id: connection.id,
    name: connection.name,
    display_name: connection.displayName,
    strategy: connection.strategy,
    enabled: connection.enabled,
    options: { client_id: connection.clientId, ...connection.options, has_client_secret: connection.sealedSecret !== null },
    callback_url: `${issuer}/upstream/callback`,
    created_on: new Date(connection.createdAt).toISOString(),
    updated_on: new Date(connection.updatedAt).toISOString(),
  };
}
