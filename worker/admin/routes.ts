/**
 * Operator API (SPEC §9), bearer ADMIN_TOKEN: apps, their settings and their OAuth
 * clients. Secrets are returned once, at creation, and stored only as hashes.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { appView, createApp, listApps, loadApp, updateApp } from "../tenancy/app-admin";
import { timingSafeEqual } from "../util/crypto";
import { ClientInputError, clientsOfApp, clientView, createClient } from "../identity/clients";
import { ClientNotFoundError, deleteClient, resetClientSecret, updateClient } from "../identity/client-admin";
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

function bad(message: string): never {
  throw new ApiError("INVALID_REQUEST", message);
}

/** The client store's refusals in the operator API's words. */
function clientError(err: unknown): never {
  if (err instanceof ClientInputError) bad(err.message);
  if (err instanceof ClientNotFoundError) throw new ApiError("CLIENT_NOT_FOUND", err.message);
  throw err;
}

adminRoutes.get("/apps", async (c) => c.json({ apps: (await listApps(c.env)).map((app) => appView(app, c.env)) }));

adminRoutes.post("/apps", async (c) => c.json(await createApp(c.env, await readJsonObject(c)), 201));

adminRoutes.get("/apps/:id", async (c) => c.json(appView(await loadApp(c.env, c.req.param("id")), c.env)));

adminRoutes.patch("/apps/:id", async (c) => c.json(await updateApp(c.env, c.req.param("id"), await readJsonObject(c))));

adminRoutes.post("/apps/:id/clients", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  return c.json(await createClient(c.env, app.id, await readJsonObject(c)).catch(clientError), 201);
});

adminRoutes.patch("/apps/:id/clients/:clientId", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  return c.json(await updateClient(c.env, app.id, c.req.param("clientId"), await readJsonObject(c)).catch(clientError));
});

adminRoutes.delete("/apps/:id/clients/:clientId", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  await deleteClient(c.env, app.id, c.req.param("clientId")).catch(clientError);
  return c.body(null, 204);
});

/** A new client secret, shown only here; the old one stops working at once. */
adminRoutes.post("/apps/:id/clients/:clientId/secret", async (c) => {
  const app = await loadApp(c.env, c.req.param("id"));
  return c.json(await resetClientSecret(c.env, app.id, c.req.param("clientId")).catch(clientError), 200, { "Cache-Control": "no-store" });
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
