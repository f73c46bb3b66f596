/**
 * Whom an access token is for (RFC 8707 resource indicators, Kinde's `audience`): pure.
 *
 * A request names its targets with `resource` (absolute URIs, repeatable) and/or `audience`
 * (space-separated, repeatable); together they become the token's `aud`. Without either the
 * audience is the client id. A target must be allow-listed (RFC 8707 §2, RFC 9700 §2.3):
 * the client id itself, the client's own `audiences`, or the app's `resources` setting
 * (the MCP servers and APIs of the app); anything else is `invalid_target`, so a client can
 * never mint user tokens for an API that did not agree to it. At the token endpoint and on
 * a refresh the targets may narrow what the grant holds, never widen it.
 */
import type { Client } from "../identity/clients";

export const MAX_TARGETS = 10;
const MAX_TARGET_LENGTH = 2048;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export type TargetError = { ok: false; error: "invalid_target" | "invalid_request"; description: string };

/** An RFC 8707 resource indicator: an absolute URI without a fragment. */
export function isResourceIndicator(value: string): boolean {
  if (value.includes("#") || /\s/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** The targets a request names (`resource` and `audience`), duplicates collapsed. */
export function requestedTargets(params: URLSearchParams): { ok: true; targets: string[] } | TargetError {
  const resources = params.getAll("resource");
  for (const r of resources) {
    if (!isResourceIndicator(r)) return { ok: false, error: "invalid_target", description: "resource must be an absolute URI without a fragment (RFC 8707)." };
  }
  const audiences = params.getAll("audience").flatMap((a) => a.split(" ")).filter(Boolean);
  const targets = [...new Set([...resources, ...audiences])];
  if (targets.length > MAX_TARGETS) return { ok: false, error: "invalid_request", description: "Too many resource or audience values." };
  if (targets.some((t) => t.length > MAX_TARGET_LENGTH)) return { ok: false, error: "invalid_request", description: "A resource or audience value is too long." };
  if (targets.some((t) => CONTROL.test(t))) return { ok: false, error: "invalid_request", description: "Parameters may not contain control characters." };
  return { ok: true, targets };
}

/** Whether `client` may ask for tokens for `target` in this app (pure). */
export function targetAllowed(target: string, client: Pick<Client, "id" | "audiences">, appResources: readonly string[]): boolean {
  return target === client.id || client.audiences.includes(target) || appResources.includes(target);
}

/** The first target that is not allow-listed for the client, or null. */
export function refusedTarget(targets: string[], client: Pick<Client, "id" | "audiences">, appResources: readonly string[]): string | null {
  return targets.find((t) => !targetAllowed(t, client, appResources)) ?? null;
}

/**
 * What a token request may have: `requested` when every value is within `granted` (the
 * targets of the code or chain; empty means the client id), all of `granted` when none
 * is requested, null when the request would widen the grant.
 */
export function narrowTargets(granted: string[], requested: string[], clientId: string): string[] | null {
  if (requested.length === 0) return granted;
  const within = granted.length ? granted : [clientId];
  return requested.every((t) => within.includes(t)) ? requested : null;
}

export const TARGET_REFUSED = "The requested resource or audience is not allowed for this client.";
export const TARGET_WIDENED = "The requested resource or audience is not part of the grant.";
