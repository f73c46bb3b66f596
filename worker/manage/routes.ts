/**
 * The management API (SPEC §7) under /api/v1: Kinde's paths and envelopes, one module per
 * resource. Every route authenticates first (manageAuth), then checks its own scope.
 */
import { Hono } from "hono";
import { manageAuth, type ManageEnv } from "./context";
import { eventRoutes } from "./events";
import { featureFlagRoutes } from "./feature-flags";
import { permissionRoutes } from "./permissions";
import { roleRoutes } from "./roles";
import { sessionRoutes } from "./sessions";
import { userAccessRoutes } from "./user-access";
import { userRoutes } from "./users";
import { webhookRoutes } from "./webhooks";
import { passkeyManageRoutes } from "./passkeys";
import { consentRoutes } from "./consents";
import { connectionManageRoutes } from "./connections";
import { identityManageRoutes } from "./identities";

export const manageRoutes = new Hono<ManageEnv>();
manageRoutes.use("*", manageAuth);
const resources = [userRoutes, userAccessRoutes, sessionRoutes, roleRoutes, permissionRoutes, featureFlagRoutes, webhookRoutes, eventRoutes, passkeyManageRoutes, consentRoutes, connectionManageRoutes, identityManageRoutes];
for (const routes of resources) {
  manageRoutes.route("/", routes);
}
