/**
 * App (tenant) resolution with a per-isolate cache, so the hot path does not read D1
 * for the app on every request. Entries live CACHE_TTL_MS; an update through the operator
 * API clears this isolate's entries at once, other isolates pick it up within the TTL.
 */
import type { Env } from "../env";
import { parseStoredSettings, type AppSettings } from "./settings";

export interface App {
  id: string;
  slug: string;
  name: string;
  customDomain: string | null;
  appSecretHash: string;
  masterSecretHash: string;
  settings: AppSettings;
  createdAt: number;
  updatedAt: number;
}

const CACHE_TTL_MS = 30_000;
/** Misses are cached too, so the map is bounded: the oldest entries go first. */
const CACHE_MAX_ENTRIES = 1000;
type Lookup = `id:${string}` | `slug:${string}` | `domain:${string}`;
const cache = new Map<Lookup, { app: App | null; until: number }>();

interface AppRow {
  id: string;
  slug: string;
  name: string;
  custom_domain: string | null;
  app_secret_hash: string;
  master_secret_hash: string;
  settings: string;
  created_at: number;
  updated_at: number;
}

export function appFromRow(row: AppRow): App {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    customDomain: row.custom_domain,
    appSecretHash: row.app_secret_hash,
    masterSecretHash: row.master_secret_hash,
    settings: parseStoredSettings(row.settings),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const COLUMN: Record<string, string> = { id: "id", slug: "slug", domain: "custom_domain" };

async function lookup(env: Env, key: Lookup): Promise<App | null> {
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.app;
  const [kind, value] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
  const row = await env.DB.prepare(`SELECT * FROM apps WHERE ${COLUMN[kind]} = ?`).bind(value).first<AppRow>();
  const app = row ? appFromRow(row) : null;
  cache.delete(key);
  cache.set(key, { app, until: Date.now() + CACHE_TTL_MS });
  if (cache.size > CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value as Lookup);
  return app;
}

/** App keys are `kid_` + letters and digits; anything else is not looked up at all. */
export const APP_KEY = /^kid_[A-Za-z0-9]{1,64}$/;

export async function appById(env: Env, id: string): Promise<App | null> {
  if (!APP_KEY.test(id)) return null;
  return lookup(env, `id:${id}`);
}

export function appBySlug(env: Env, slug: string): Promise<App | null> {
  return lookup(env, `slug:${slug}`);
}

/** Forget every cached app (after an operator update; tests). */
export function clearAppCache(): void {
  cache.clear();
}

/** Host name without port, lower-cased. */
export function hostName(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon === -1 ? h : h.slice(0, colon);
}

/**
 * The app a Host serves (SPEC §1): `{slug}.{BASE_HOST}`, then `auth.{custom_domain}`,
 * then DEFAULT_APP. Ports are ignored.
 */
export async function appByHost(env: Env, host: string): Promise<App | null> {
  const name = hostName(host);
  const base = hostName(env.BASE_HOST);
  if (name.endsWith(`.${base}`)) {
    const slug = name.slice(0, -(base.length + 1));
    if (!slug.includes(".")) {
      const app = await appBySlug(env, slug);
      if (app) return app;
    }
  }
  if (name.startsWith("auth.")) {
    const app = await lookup(env, `domain:${name.slice("auth.".length)}`);
    if (app) return app;
  }
  return env.DEFAULT_APP ? appBySlug(env, env.DEFAULT_APP) : null;
}

/** True for hosts that only exist on a developer's machine (http is allowed there). */
export function isLocalHost(host: string): boolean {
  const name = hostName(host);
  return name === "localhost" || name.endsWith(".localhost") || name === "127.0.0.1" || name === "[::1]";
}

/** The app's canonical issuer (SPEC §1), as the operator API reports it. */
export function canonicalIssuer(app: Pick<App, "slug" | "customDomain">, env: Pick<Env, "BASE_HOST">): string {
  const port = env.BASE_HOST.includes(":") && !env.BASE_HOST.endsWith("]") ? env.BASE_HOST.slice(env.BASE_HOST.lastIndexOf(":")) : "";
  const host = app.customDomain ? `auth.${app.customDomain}${isLocalHost(env.BASE_HOST) ? port : ""}` : `${app.slug}.${env.BASE_HOST}`;
  return `${isLocalHost(host) ? "http" : "https"}://${host}`;
}

/**
 * The issuer for a request served on `host`: the origin the client used. Locally that
 * keeps http and the port (http://127.0.0.1:8787 for the default app); elsewhere it is https.
 */
export function requestIssuer(host: string): string {
  return `${isLocalHost(host) ? "http" : "https"}://${host.toLowerCase()}`;
}
