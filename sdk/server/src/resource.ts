/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata for a resource (an API, an MCP server)
 * whose tokens a Latch issuer issues: the document at
 * `/.well-known/oauth-protected-resource{path}`, and verification of tokens whose `aud` is
 * the resource (RFC 8707 resource indicators), with the `resource_metadata` challenge of
 * RFC 9728 §5.1 that clients follow to discover the issuer.
 */
import { authenticate, type AuthResult } from "./bearer.js";
import { scopesOf, type LatchClaims } from "./claims.js";
import { verifyToken, type JwksSource } from "./verify.js";

export const WELL_KNOWN_PATH = "/.well-known/oauth-protected-resource";

export interface ProtectedResourceOptions {
  /** The resource identifier clients send as RFC 8707 `resource`, e.g. `https://mcp.example.com/mcp`. Tokens must carry it as `aud`. */
  resource: string;
  /** The Latch issuer that issues its tokens (the `authorization_servers` entry). */
  issuer: string;
  /** Advertised as `scopes_supported`. */
  scopesSupported?: string[];
  /** Advertised as `resource_name`. */
  resourceName?: string;
  /** More RFC 9728 fields (`resource_documentation`, …), merged into the document. */
  metadata?: Record<string, unknown>;
  /** Keys; default the shared remote JWKS of the issuer. */
  jwks?: JwksSource;
  clockTolerance?: number;
}

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
  [field: string]: unknown;
}

/** The shape of the MCP TypeScript SDK's `AuthInfo` (structurally; no dependency on it). */
export interface McpAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  extra?: Record<string, unknown>;
}

export interface ProtectedResource {
  readonly resource: string;
  /** The RFC 9728 document. */
  readonly metadata: ProtectedResourceMetadata;
  /** Its RFC 9728 §3.1 URL (the path-aware one), as sent in `resource_metadata`. */
  readonly metadataUrl: string;
  /** The paths it is served on: the path-aware one, and the root one for clients that look only there. */
  readonly metadataPaths: string[];
  /** Answers GET/HEAD/OPTIONS on metadataPaths (public, CORS `*`); null for any other request. */
  handleMetadata(request: Request): Response | null;
  /** verifyToken with `audience` = the resource. */
  verify(token: string, options?: { currentDate?: Date }): Promise<LatchClaims>;
  /** An Authorization header in, what to answer out (with the `resource_metadata` challenge). */
  authenticate(authorization: string | null | undefined): Promise<AuthResult>;
  /** The claims as the MCP SDK's AuthInfo (for its `requireBearerAuth` verifier). */
  authInfo(claims: LatchClaims, token: string): McpAuthInfo;
}

function parseResource(resource: string): URL {
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    throw new TypeError(`resource is not a URL: ${resource}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError("resource must be an http(s) URL");
  if (url.hash || url.search) throw new TypeError("resource must have no query or fragment (RFC 9728 §1.2)");
  return url;
}

/** RFC 9728 §3.1: `/.well-known/oauth-protected-resource` goes between the host and the path. */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = parseResource(resource);
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.origin}${WELL_KNOWN_PATH}${path}`;
}

export function createProtectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const resource = options.resource;
  const metadataUrl = protectedResourceMetadataUrl(resource);
  const metadataPaths = [...new Set([new URL(metadataUrl).pathname, WELL_KNOWN_PATH])];
  const metadata: ProtectedResourceMetadata = {
    resource,
    authorization_servers: [options.issuer],
    bearer_methods_supported: ["header"],
    ...(options.scopesSupported ? { scopes_supported: options.scopesSupported } : {}),
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...options.metadata,
  };
  const body = JSON.stringify(metadata);
  const headers = { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300" };

  const verify = (token: string, extra: { currentDate?: Date } = {}) =>
    verifyToken(token, {
      issuer: options.issuer,
      audience: resource,
      ...(options.jwks ? { jwks: options.jwks } : {}),
      ...(options.clockTolerance !== undefined ? { clockTolerance: options.clockTolerance } : {}),
      ...extra,
    });

  return {
    resource,
    metadata,
    metadataUrl,
    metadataPaths,
    handleMetadata(request) {
      if (!metadataPaths.includes(new URL(request.url).pathname)) return null;
      if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: { ...headers, "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Max-Age": "86400" } });
      if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405, headers: { Allow: "GET, HEAD, OPTIONS" } });
      return new Response(request.method === "HEAD" ? null : body, { status: 200, headers });
    },
    verify,
    authenticate: (authorization) => authenticate(authorization, (token) => verify(token), { resourceMetadata: metadataUrl }),
    authInfo: (claims, token) => ({
      token,
      clientId: String(claims.client_id ?? claims.azp ?? ""),
      scopes: scopesOf(claims),
      expiresAt: claims.exp,
      resource: new URL(resource),
      extra: { claims },
    }),
  };
}
