/**
 * Builds the Hono app: error mapping first, then each face mounted at its prefix.
 * Faces never import each other; see ARCHITECTURE in the README.
 */
import { Hono } from "hono";
import type { Env } from "./env";
import { adminRoutes } from "./admin/routes";
import { browserRoutes, kiaviAuthRoutes } from "./browser/routes";
import { errorBody, faceError, internalError, KinveyError, LatchError, OAuthError, ApiError, RequestError } from "./http/errors";
import { faceOf } from "./http/face";
import { disallowed, methodIndex } from "./http/methods";
import { transport } from "./http/transport";
import { requestId } from "./identity/kinvey-context";
import { pingRoutes } from "./kinvey/ping";
import { rpcRoutes } from "./kinvey/rpc";
import { userRoutes } from "./kinvey/users";
import { outboxWaker } from "./events/outbox";
import { manageRoutes } from "./manage/routes";
import { oauthRoutes } from "./oauth/routes";
import { demoRoutes } from "./admin/demo";
import { passkeyAdminRoutes } from "./admin/passkeys";
import { passkeyRoutes } from "./passkeys/routes";
import { dataRoutes } from "./data/routes";
import { groupRoutes } from "./data/group-routes";
import { upstreamRoutes } from "./upstream/routes";
import { connectionAdminRoutes } from "./admin/connections";
import { accountRoutes } from "./account/routes";
import { devRoutes } from "./dev/routes";
import { consoleRoutes } from "./console/routes";

export function buildApp() {
  const app = new Hono<{ Bindings: Env }>();

  app.onError((err, c) => {
    const face = faceOf(c.req.path);
    let error: LatchError;
    if (err instanceof LatchError) error = err;
    else if (err instanceof RequestError) error = faceError(face, err);
    else {
      // Only the stack: request bodies and headers may hold secrets.
      console.error("unhandled error", c.req.method, c.req.path, err instanceof Error ? err.stack : String(err));
      error = internalError(face);
    }
    return c.json(errorBody(error) as object, error.status as 400, error.headers);
  });

  let methods: ((path: string) => string[]) | null = null;
  app.notFound((c) => {
    const face = faceOf(c.req.path);
    // Built on first use: by then every face is mounted.
    methods ??= methodIndex(app.routes);
    const allow = disallowed(methods, c.req.method, c.req.path);
    if (allow) {
      const error = faceError(face, new RequestError("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}.`, undefined, allow));
      return c.json(errorBody(error) as object, 405, error.headers);
    }
    const error =
      face === "kinvey"
        ? new KinveyError("NotFound", `${c.req.method} ${c.req.path} is not a Kinvey endpoint.`)
        : face === "api"
          ? new ApiError("ROUTE_NOT_FOUND", `${c.req.method} ${c.req.path} is not an endpoint.`)
          : new OAuthError("not_found", `${c.req.method} ${c.req.path} is not an endpoint.`);
    return c.json(errorBody(error) as object, 404);
  });

  app.use("*", transport);
  app.use("*", outboxWaker);
  for (const prefix of ["/appdata", "/user", "/rpc", "/group"]) app.use(`${prefix}/*`, requestId);
  app.route("/appdata", pingRoutes);
  app.route("/appdata", dataRoutes);
  app.route("/group", groupRoutes);
  app.route("/user", userRoutes);
  app.route("/rpc", rpcRoutes);
  app.route("/admin", adminRoutes);
  app.route("/admin", passkeyAdminRoutes);
  app.route("/admin", demoRoutes);
  app.route("/admin", connectionAdminRoutes);
  app.route("/api/v1", manageRoutes);
  app.route("/", oauthRoutes);
  app.route("/.well-known", kiaviAuthRoutes);
  app.route("/", browserRoutes);
  app.route("/", passkeyRoutes);
  app.route("/", upstreamRoutes);
  app.route("/", accountRoutes);
  app.route("/dev", devRoutes);
  app.route("/console", consoleRoutes);

  app.get("/", (c) => c.json({ name: "Latch", docs: "https://github.com/latch-auth/latch#readme" }));
  return app;
}
