/** What the Kinvey routes that mail links (reset, verification, signup) share. */
import { clientAddress } from "../http/client-address";
import type { KinveyContext } from "../identity/kinvey-context";
import type { IssueContext } from "../recovery/issue";
import { canonicalIssuer, isLocalHost } from "../tenancy/apps";
import { requestHost } from "../tenancy/host";

/**
 * The issuer the mailed link opens: the app's own (Kinvey routes are served on any host).
 * Locally the port is the one this request came to, so links work from any dev server.
 */
export function linkIssuer(c: KinveyContext): string {
  const issuer = new URL(canonicalIssuer(c.var.app, c.env));
  const host = requestHost(c);
  if (isLocalHost(host) && isLocalHost(issuer.host)) issuer.port = new URL(`http://${host}`).port;
  return issuer.origin;
}

export function mailContext(c: KinveyContext): IssueContext {
  return { address: clientAddress(c.env, c.req.raw.headers), fields: null, via: "kinvey", now: Date.now() };
}
