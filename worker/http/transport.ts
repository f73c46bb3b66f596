/**
 * Transport rules for every response (README "Security rules"), as one middleware mounted
 * first in app.ts:
 * - `X-Content-Type-Options: nosniff` everywhere, errors and redirects included.
 * - Plain http outside local development never reaches a handler, so nothing (least of all
 *   a `Set-Cookie`) is answered over it: GET/HEAD are sent to https with 308, which keeps
 *   the method; any other method is refused, since a redirect would replay a body that
 *   already crossed the network in clear.
 * - HSTS on https. `includeSubDomains` only on hosts under BASE_HOST, whose zone the operator
 *   runs for Latch alone; a custom domain's auth host gets HSTS for itself only, because
 *   what else lives under the customer's names is not Latch's to pin.
 * - The scheme is the request URL's, or, self-hosted behind a proxy that ends TLS, the one
 *   the header named by FORWARDED_PROTO_HEADER reports (only when that var is set: a client
 *   could send the header itself to anything not behind such a proxy).
 */
import type { MiddlewareHandler } from "hono";
import type { Env } from "../env";
import { hostName, isLocalHost } from "../tenancy/apps";
import { errorBody, faceError, RequestError } from "./errors";
import { faceOf } from "./face";

const HSTS_MAX_AGE = 31_536_000;

export type TransportDecision = { action: "pass"; hsts: string | null } | { action: "redirect"; location: string } | { action: "refuse" };

/** What to do with a request that arrived on `url` for `host` (the Host header). */
export function transportDecision(url: URL, host: string, method: string, baseHost: string): TransportDecision {
  const local = isLocalHost(host);
  if (url.protocol === "http:" && !local) {
    if (method !== "GET" && method !== "HEAD") return { action: "refuse" };
    const target = new URL(url);
    target.protocol = "https:";
    target.host = hostName(host);
    return { action: "redirect", location: target.toString() };
  }
  if (url.protocol !== "https:" || local) return { action: "pass", hsts: null };
  const name = hostName(host);
  const base = hostName(baseHost);
  const ours = name === base || name.endsWith(`.${base}`);
  return { action: "pass", hsts: `max-age=${HSTS_MAX_AGE}${ours ? "; includeSubDomains" : ""}` };
}

/** The scheme (`https:`/`http:`) the client used; see the header comment. */
export function clientScheme(url: URL, headers: Headers, forwardedProtoHeader?: string): string {
  const name = forwardedProtoHeader?.trim();
  if (!name) return url.protocol;
  return headers.get(name)?.split(",").pop()?.trim().toLowerCase() === "https" ? "https:" : "http:";
}

const NOSNIFF = { "X-Content-Type-Options": "nosniff" };

export const transport: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const url = new URL(c.req.url);
  url.protocol = clientScheme(url, c.req.raw.headers, c.env.FORWARDED_PROTO_HEADER);
  const decision = transportDecision(url, c.req.header("host") ?? url.host, c.req.method, c.env.BASE_HOST);
  if (decision.action === "redirect") return new Response(null, { status: 308, headers: { Location: decision.location, ...NOSNIFF } });
  if (decision.action === "refuse") {
    const error = faceError(faceOf(c.req.path), new RequestError("insecure_transport", "This server is only served over https."));
    return Response.json(errorBody(error), { status: error.status, headers: { ...error.headers, ...NOSNIFF } });
  }
  await next();
  const headers: Record<string, string> = { ...NOSNIFF };
  if (decision.hsts) headers["Strict-Transport-Security"] = decision.hsts;
  try {
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  } catch {
    // A response passed through from fetch has immutable headers; the setter copies it.
    const copy = new Response(c.res.body, c.res);
    for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
    c.res = copy;
  }
};
