/** `GET /appdata/{appKey}`: the Kinvey handshake. Any valid credential of the app. */
import { Hono } from "hono";
import { json, kinveyAuth, type KinveyEnv } from "../identity/kinvey-context";

export const LATCH_VERSION = "0.1.0";

export const pingRoutes = new Hono<KinveyEnv>();
pingRoutes.get("/:appKey", kinveyAuth, (c) => {
  const name = c.var.app.name;
  return json(c, { version: LATCH_VERSION, kinvey: `hello ${name}`, appName: name, environmentName: "Development" });
});
