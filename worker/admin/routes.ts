/**
 * Operator API (SPEC §9), bearer ADMIN_TOKEN: apps, their settings and their OAuth
 * clients. Secrets are returned once, at creation, and stored only as hashes.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { appFromRow, canonicalIssuer, clearAppCache, type App } from "../tenancy/apps";
import { DEFAULT_SETTINGS, mergeSettings, SettingsError } from "../tenancy/settings";
import { ALPHANUMERIC, randomId, sha256Hex, timingSafeEqual } from "../util/crypto";
import { ClientInputError, clientsOfApp, clientView, createClient } from "../identity/clients";
import { backfillIdentifierKeys } from "../identity/identifier-backfill";
import { issueRegistrationToken, MAX_TOKEN_TTL_S, MAX_TOKEN_USES } from "../identity/registration-tokens";
import { rotateKeys } from "../keys/store";

type AdminEnv = { Bindings: Env };
export const adminRoutes = new Hono<AdminEnv>();

export const requireAdmin: MiddlewareHandler<AdminEnv> = async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const token = header.startsWith("Bearer ") ? header.slice(7) : "";
  if (!c.env.ADMIN_TOKEN || !token || !timingSafeEqual(token, c.env.ADMIN_TOKEN)) {
    return c.json({ errors: [{ code: "UNAUTHORIZED", message: "A valid operator bearer token is required." }] }, 401, {
      "WWW-Authenticate": 'Bearer realm="latch-admin"',
    });
  }
  await next();
};
adminRoutes.use("*", requireAdmin);

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

function appView(app: App, env: Env) {
  return {
    id: app.id,
    slug: app.slug,
    name: app.name,
    custom_domain: app.customDomain,
    mode: app.customDomain ? "cookie" : "exchange",
    issuer: canonicalIssuer(app, env),
    settings: app.settings,
    created_at: new Date(app.createdAt).toISOString(),
    updated_at: new Date(app.updatedAt).toISOString(),
  };
}

async function loadApp(env: Env, id: string): Promise<App> {
  const row = await env.DB.prepare("SELECT * FROM apps WHERE id = ?").bind(id).first<Parameters<typeof appFromRow>[0]>();
  if (!row) throw new ApiError("APP_NOT_FOUND", `No app with id ${id}.`);
  return appFromRow(row);
}

function conflict(err: unknown): never {
  if (err instanceof Error && /UNIQUE constraint failed: apps\.slug/.test(err.message)) throw new ApiError("SLUG_TAKEN", "An app with this slug exists.");
  if (err instanceof Error && /UNIQUE constraint failed: apps\.custom_domain/.test(err.message)) {
    throw new ApiError("DOMAIN_TAKEN", "Another app uses this custom domain.");
  }
  throw err;
}

/** Creates an app; `app_secret` and `master_secret` appear in this response only. */
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

adminRoutes.post("/apps", async (c) => c.json(await createApp(c.env, await readJsonObject(c)), 201));

adminRoutes.get("/apps/:id", async (c) => c.json(appView(await loadApp(c.env, c.req.param("id")), c.env)));

adminRoutes.patch("/apps/:id", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  const body = await readJsonObject(c);
  for (const key of Object.keys(body)) if (!["name", "custom_domain", "settings"].includes(key)) bad(`unknown field: ${key}`);
  const name = "name" in body ? appName(body.name) : app.name;
  const domain = "custom_domain" in body ? customDomain(body.custom_domain) : app.customDomain;
  const settings = settingsOrBad(app.settings, body.settings);
  try {
    await c.env.DB.prepare("UPDATE apps SET name = ?, custom_domain = ?, settings = ?, updated_at = ? WHERE id = ?")
      .bind(name, domain, JSON.stringify(settings), Date.now(), app.id)
      .run();
  } catch (err) {
    conflict(err);
  }
  clearAppCache();
  return c.json(appView(await loadApp(c.env, app.id), c.env));
});

adminRoutes.post("/apps/:id/clients", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  try {
    return c.json(await createClient(c.env, app.id, await readJsonObject(c)), 201);
  } catch (err) {
    if (err instanceof ClientInputError) bad(err.message);
    throw err;
  }
});

adminRoutes.get("/apps/:id/clients", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  return c.json({ clients: (await clientsOfApp(c.env, app.id)).map(clientView) });
});

/** Keys identifiers written before migration 0002 and lists collisions (README "Deploying"). */
adminRoutes.post("/identifiers/backfill", async (c) => c.json(await backfillIdentifierKeys(c.env)));

/** Key rotation (SPEC §9): the published next key starts signing; answers the new signing kid. */
adminRoutes.post("/apps/:id/keys/rotate", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  return c.json(await rotateKeys(c.env, app));
});

/**
 * An RFC 7591 initial access token for an app whose `registration` is `token`: `{uses?: 1,
 * expires_in?: 86400}` → 201 `{token, uses, expires_at}`; the token is shown only here.
 */
adminRoutes.post("/apps/:id/registration-tokens", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  const body = await readJsonObject(c);
  for (const key of Object.keys(body)) if (!["uses", "expires_in"].includes(key)) bad(`unknown field: ${key}`);
  const uses = body.uses ?? 1;
  const ttl = body.expires_in ?? 86400;
  if (typeof uses !== "number" || !Number.isInteger(uses) || uses < 1 || uses > MAX_TOKEN_USES) bad(`uses must be a whole number from 1 to ${MAX_TOKEN_USES}`);
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 60 || ttl > MAX_TOKEN_TTL_S) bad(`expires_in must be a whole number of seconds from 60 to ${MAX_TOKEN_TTL_S}`);
  const issued = await issueRegistrationToken(c.env, app.id, uses, ttl);
  return c.json({ token: issued.token, uses: issued.uses, expires_at: new Date(issued.expiresAt).toISOString() }, 201, { "Cache-Control": "no-store" });
});
