/** The browser face (SPEC §6): kiavi-auth.json, cookie-mode session endpoints, exchange-mode refresh. */
import { Hono } from "hono";
import type { BrowserEnv } from "./cors";
import { refreshRoutes } from "./refresh";
import { sessionRoutes } from "./session";
import { kiaviAuthRoutes } from "./well-known";

export const browserRoutes = new Hono<BrowserEnv>();
browserRoutes.route("/", sessionRoutes);
browserRoutes.route("/", refreshRoutes);

export { kiaviAuthRoutes };
