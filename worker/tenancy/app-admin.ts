/**
 * Operator actions on apps (SPEC §9), shared by the operator API (admin/routes.ts) and the
 * operator console: create, list, read, update (name, custom domain, settings). Refusals
 * are the operator API's ApiErrors; secrets are returned once, at creation, stored hashed.
 */
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import { ALPHANUMERIC, randomId, sha256Hex } from "../util/crypto";
import { appFromRow, canonicalIssuer, clearAppCache, type App } from "./apps";
import { DEFAULT_SETTINGS, mergeSettings, SettingsError } from "./settings";

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const RESERVED_SLUGS = new Set(["auth", "www", "api", "admin"]);
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function bad(message: string): never {
  throw new ApiError("INVALID_REQUEST", message);
}

function appName(value: unknown): string {
  if (typeof value !== "string" || !value.trim() || value.length > 128) bad("name must be a non-empty string of at most 128 characters");
  return value.trim();
}

function customDomain(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string" || !DOMAIN.test(value)) bad("custom_domain must be a lower-case domain name such as example.com");
  return value;
}

function settingsOrBad(current: App["settings"], patch: unknown) {
  try {
    return mergeSettings(current, patch);
  } catch (err) {
    if (err instanceof SettingsError) bad(err.message);
    throw err;
  }
}

/** The browser mode a custom domain implies (SPEC §6): cookie with one, exchange without. */
export function appMode(app: Pick<App, "customDomain">): "cookie" | "exchange" {
  return app.customDomain ? "cookie" : "exchange";
}

export type AppView = ReturnType<typeof appView>;

export function appView(app: App, env: Env) {
  return {
    id: app.id,
    slug: app.slug,
    name: app.name,
    custom_domain: app.customDomain,
    mode: appMode(app),
    issuer: canonicalIssuer(app, env),
    settings: app.settings,
    created_at: new Date(app.createdAt).toISOString(),
    updated_at: new Date(app.updatedAt).toISOString(),
  };
}

/** The app with this id, read from D1 (not the per-isolate cache): the operator sees what is stored. */
export async function loadApp(env: Env, id: string): Promise<App> {
  const row = await env.DB.prepare("SELECT * FROM apps WHERE id = ?").bind(id).first<Parameters<typeof appFromRow>[0]>();
  if (!row) throw new ApiError("APP_NOT_FOUND", `No app with id ${id}.`);
  return appFromRow(row);
}

/** Every app, newest first; at most `limit`. */
export async function listApps(env: Env, limit = 500): Promise<App[]> {
  const { results } = await env.DB.prepare("SELECT * FROM apps ORDER BY created_at DESC, id LIMIT ?").bind(limit).all<Parameters<typeof appFromRow>[0]>();
  return results.map(appFromRow);
}

function conflict(err: unknown): never {
  if (err instanceof Error && /UNIQUE constraint failed: apps\.slug/.test(err.message)) throw new ApiError("SLUG_TAKEN", "An app with this slug exists.");
  if (err instanceof Error && /UNIQUE constraint failed: apps\.custom_domain/.test(err.message)) {
    throw new ApiError("DOMAIN_TAKEN", "Another app uses this custom domain.");
  }
  throw err;
}

/** Creates an app; `app_secret` and `master_secret` appear in this answer only. */
export async function createApp(env: Env, input: Record<string, unknown>, secrets?: { appSecret: string; masterSecret: string; id: string }) {
  const name = appName(input.name);
  const slug = input.slug;
  if (typeof slug !== "string" || !SLUG.test(slug) || RESERVED_SLUGS.has(slug)) bad("slug must be a DNS label (a-z, 0-9, -) and not reserved");
  const domain = customDomain(input.custom_domain);
  const settings = settingsOrBad(DEFAULT_SETTINGS, input.settings);
  const id = secrets?.id ?? `kid_${randomId(20)}`;
  const appSecret = secrets?.appSecret ?? randomId(40, ALPHANUMERIC);
  const masterSecret = secrets?.masterSecret ?? randomId(40, ALPHANUMERIC);
  const now = Date.now();
  try {
    await env.DB.prepare(
      "INSERT INTO apps (id, slug, name, custom_domain, app_secret_hash, master_secret_hash, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
      .bind(id, slug, name, domain, await sha256Hex(appSecret), await sha256Hex(masterSecret), JSON.stringify(settings), now, now)
      .run();
  } catch (err) {
    conflict(err);
  }
  clearAppCache();
  return { ...appView(await loadApp(env, id), env), app_secret: appSecret, master_secret: masterSecret };
}

/** `PATCH /admin/apps/{id}`: `{name?, custom_domain?, settings?}`; settings merge into the stored ones. */
export async function updateApp(env: Env, id: string, body: Record<string, unknown>): Promise<AppView> {
  const app = await loadApp(env, id);
  for (const key of Object.keys(body)) if (!["name", "custom_domain", "settings"].includes(key)) bad(`unknown field: ${key}`);
  const name = "name" in body ? appName(body.name) : app.name;
  const domain = "custom_domain" in body ? customDomain(body.custom_domain) : app.customDomain;
  const settings = settingsOrBad(app.settings, body.settings);
  try {
    await env.DB.prepare("UPDATE apps SET name = ?, custom_domain = ?, settings = ?, updated_at = ? WHERE id = ?")
      .bind(name, domain, JSON.stringify(settings), Date.now(), app.id)
      .run();
  } catch (err) {
    conflict(err);
  }
  clearAppCache();
  return appView(await loadApp(env, app.id), env);
}
