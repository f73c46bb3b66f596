/**
 * `POST /admin/dev/seed` (operator token; only when DEV_MODE is set): seeds the demo app,
 * its clients and its user, idempotently, through the same code paths as the operator API
 * and the user store, so the demo obeys every rule a real app does. `npm start` calls it.
 */
import { Hono } from "hono";
import type { Env } from "../env";
import { isDevelopment } from "../env";
import { clientById, createClient, MANAGEMENT_SCOPES } from "../identity/clients";
import { createUser, userById } from "../identity/users";
import { appById } from "../tenancy/apps";
import { requireAdmin } from "./routes";
import { createApp } from "../tenancy/app-admin";

/** The demo app's fixed data; its secrets are public (README "Demo credentials"). */
export const DEMO = {
  app: { id: "kid_demo", slug: "demo", name: "Latch Demo", appSecret: "demoappsecret0000000000000000000000000000", masterSecret: "demomastersecret00000000000000000000000" },
  user: { id: "0000000000000000000demo01", username: "demo", email: "demo@example.com", password: "demo-password", profile: { name: "Demo User", given_name: "Demo", family_name: "User" } },
  origins: ["http://127.0.0.1:3000", "http://localhost:3000"],
  clients: [
    {
      id: "demopublicclient0000000000000000",
      secret: null,
      input: {
        name: "Demo SPA / native (public, PKCE)",
        type: "public",
        redirect_uris: ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback", "com.example.demo:/callback"],
        post_logout_redirect_uris: ["http://127.0.0.1:3000/", "http://localhost:3000/"],
        allowed_origins: ["http://127.0.0.1:3000", "http://localhost:3000"],
      },
    },
    {
      /** For @latch/browser (sdk/browser): exchange mode refreshes through the partitioned cookie. */
      id: "demosdkclient0000000000000000000",
      secret: null,
      input: {
        name: "Demo browser SDK (public, refresh cookie)",
        type: "public",
        redirect_uris: ["http://localhost:3000/callback"],
        post_logout_redirect_uris: ["http://localhost:3000/"],
        allowed_origins: ["http://localhost:3000"],
        refresh_token_delivery: "cookie",
      },
    },
    {
      id: "democonfidentialclient0000000000",
      secret: "DemoConfidentialSecret000000000000000000000000000a",
      input: {
        name: "Demo web backend (confidential)",
        type: "confidential",
        redirect_uris: ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback"],
        post_logout_redirect_uris: ["http://127.0.0.1:3000/"],
      },
    },
    {
      id: "demom2mclient0000000000000000000",
      secret: "DemoMachineSecret00000000000000000000000000000000a",
      /** Every management scope. */
      input: { name: "Demo service (m2m)", type: "m2m", scopes: "ALL" },
    },
  ],
} as const;

export const demoRoutes = new Hono<{ Bindings: Env }>();

demoRoutes.post("/dev/seed", requireAdmin, async (c) => {
  if (!isDevelopment(c.env)) return c.notFound();
  const made: string[] = [];
  if (!(await appById(c.env, DEMO.app.id))) {
    await createApp(c.env, { name: DEMO.app.name, slug: DEMO.app.slug, settings: { allowed_origins: [...DEMO.origins] } }, DEMO.app);
    made.push("app");
  }
  for (const client of DEMO.clients) {
    if (await clientById(c.env, DEMO.app.id, client.id)) continue;
    const input = { ...client.input, ...("scopes" in client.input ? { scopes: [...MANAGEMENT_SCOPES] } : {}) };
    await createClient(c.env, DEMO.app.id, input, { id: client.id, secret: client.secret });
    made.push(client.id);
  }
  const app = await appById(c.env, DEMO.app.id);
  if (app && !(await userById(c.env, app.id, DEMO.user.id))) {
    const { id, username, email, password, profile } = DEMO.user;
    await createUser(c.env, app, { id, username, email, emailVerified: true, password, profile, via: "seed", source: "admin" });
    made.push("user");
  }
  return c.json({ seeded: made });
});
