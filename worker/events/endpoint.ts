/**
 * Where a webhook may be delivered: checked when an endpoint is created or changed (400
 * INVALID_ENDPOINT) and again before every delivery (an endpoint stored before the rule, or
 * written to D1 by hand, is never fetched). The address rules are worker/http/ssrf.ts's:
 * https only; no IP literal in a private, loopback, link-local or other special range (IPv4,
 * IPv6, IPv4-mapped IPv6); no single-label or private-network name. In local development
 * (DEV_MODE) loopback targets are allowed, over http too; private ranges stay refused.
 */
import { outboundProblem } from "../http/ssrf";

/** Why `value` is not an acceptable webhook endpoint, or null. Pure. */
export function endpointProblem(value: string, development: boolean): string | null {
  if (value.length > 2048) return "endpoint is longer than 2048 characters";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "endpoint must be an absolute URL";
  }
  if (url.username || url.password) return "endpoint may not carry credentials";
  if (url.hash) return "endpoint may not have a fragment";
  const problem = outboundProblem(url, { development });
  if (problem === "only https is allowed" || problem === "only http(s) is allowed") {
    return "endpoint must be https (http only for loopback hosts in local development)";
  }
  return problem === null ? null : `endpoint not allowed: ${problem}`;
}

/**
 * What a failed delivery records in `last_error` (shown by the management API). Never the
 * runtime's connection error: "refused" against "timed out" against "reset" would let whoever
 * can create a webhook map ports behind it. Only the receiver's own HTTP status is kept.
 */
export function deliveryError(status: number | null): string {
  return status === null ? "delivery failed" : `delivery failed: HTTP ${status}`;
}

export const ENDPOINT_REFUSED = "delivery refused: endpoint not allowed";
