/**
 * A user's consents to third-party clients (identity/consents.ts), Kinde-style: listing
 * and revocation. Revoking a consent also ends the user's refresh chains of that client,
 * so the client loses access at once rather than at the chain's end; its next sign-in
 * shows the consent screen again.
 */
import { Hono } from "hono";
import { endChain, listUserChains } from "../chains/api";
import { ApiError } from "../http/errors";
import { consentsOfUser, revokeConsentStatement } from "../identity/consents";
import { userById } from "../identity/users";
import { iso, need, notFound, ok, type ManageContext, type ManageEnv } from "./context";

export const consentRoutes = new Hono<ManageEnv>();

async function userOf(c: ManageContext): Promise<string> {
  const id = c.req.param("userId")!;
  if (!(await userById(c.env, c.var.app.id, id))) notFound("user", id);
  return id;
}

consentRoutes.get("/users/:userId/consents", need("read:user_consents"), async (c) => {
  const userId = await userOf(c);
  const consents = (await consentsOfUser(c.env, c.var.app.id, userId)).map((k) => ({
    client_id: k.clientId,
    scopes: k.scopes,
    resources: k.resources,
    created_on: iso(k.createdAt),
    updated_on: iso(k.updatedAt),
  }));
  return ok(c, { has_more: false, consents });
});

/** `clientId` is percent-encoded when it is a metadata document URL. */
consentRoutes.delete("/users/:userId/consents/:clientId", need("delete:user_consents"), async (c) => {
  const userId = await userOf(c);
  const clientId = c.req.param("clientId");
  const app = c.var.app;
  const revoked = await revokeConsentStatement(c.env, app.id, userId, clientId).first();
  if (!revoked) throw new ApiError("CONSENT_NOT_FOUND", "The user has not consented to this client.");
  const chains = (await listUserChains(c.env, app.id, userId)).filter((ch) => ch.clientId === clientId);
  for (const chain of chains) await endChain(c.env, app.id, userId, chain.id, "consent_revoked");
  return ok(c, { chains_ended: chains.length }, 200, "OK", "Consent revoked");
});
