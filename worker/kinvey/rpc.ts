/** Kinvey `/rpc` user helpers (SPEC §3). */
import { Hono } from "hono";
import { readJsonObject } from "../http/body";
import { KinveyError } from "../http/errors";
import { usernameExists } from "../identity/users";
import { allow, json, kinveyAuth, noContent, type KinveyEnv } from "../identity/kinvey-context";
import { requestPasswordReset } from "../recovery/reset";
import { requestVerification } from "../recovery/verification";
import { linkIssuer, mailContext } from "./links";

export const rpcRoutes = new Hono<KinveyEnv>();
rpcRoutes.use("/:appKey/*", kinveyAuth);

rpcRoutes.post("/:appKey/check-username-exists", async (c) => {
  allow(c, "app", "master", "user");
  const { username } = await readJsonObject(c);
  if (typeof username !== "string" || !username) throw new KinveyError("IncompleteRequestBody", "", "The request body must hold a username string.");
  return json(c, { usernameExists: await usernameExists(c.env, c.var.app.id, username) });
});


/**
 * Mails a reset link (worker/recovery/reset.ts) to the account the username or email
 * names. Always 204, whether or not the user exists, in the same time (the mail is sent
 * by the outbox afterwards), so it cannot be used to probe accounts. The link opens the
 * hosted reset page on the app's issuer.
 */
rpcRoutes.post("/:appKey/:identifier/user-password-reset-initiate", async (c) => {
  allow(c, "app", "master", "user");
  const app = c.var.app;
  await requestPasswordReset(c.env, app, c.req.param("identifier"), linkIssuer(c), mailContext(c));
  return noContent(c);
});

/**
 * Mails a verification link when the app verifies emails (`email_verification` not off) and
 * the account has an unverified email. Always 204, like the reset.
 */
rpcRoutes.post("/:appKey/:identifier/user-email-verification-initiate", async (c) => {
  allow(c, "app", "master", "user");
  const app = c.var.app;
  await requestVerification(c.env, app, c.req.param("identifier"), linkIssuer(c), mailContext(c));
  return noContent(c);
});
