/**
 * Latch as the authorization server of an MCP server (MCP authorization, revision
 * 2025-11-25), driven by the real @modelcontextprotocol/sdk client against the running
 * worker: RFC 9728 discovery from the MCP server, RFC 8414 metadata, RFC 7591 registration
 * (or a Client ID Metadata Document served from loopback, development only), the hosted
 * sign-in form and the consent screen (the SDK's redirect handler drives them with a
 * cookie jar), PKCE with `resource`, the code exchange and a refresh. The MCP server is the
 * SDK's own (stateless Streamable HTTP on Hono, on loopback); it verifies each token
 * against Latch's JWKS with `aud` = its resource URL.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { auth, UnauthorizedError, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import { Hono } from "hono";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startWorker, type RunningWorker } from "./harness";
import { createOAuthApp, hiddenFields, Jar, kinveySignup, resolveLocalhostSubdomains, type OAuthApp } from "./oauth-helpers";

const REDIRECT = "http://127.0.0.1:61999/callback";
let worker: RunningWorker;
let app: OAuthApp;
let mcp: { url: string; close(): void };
let documents: { origin: string; hits: Map<string, number>; close(): void };

/** The SDK's MCP server on Hono: RFC 9728 metadata, and every /mcp request needs a Latch token for this resource. */
function startMcpServer(issuer: string): Promise<{ url: string; close(): void }> {
  const jwks = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const web = new Hono();
  let resource = "";
  const challenge = (error?: string) =>
    `Bearer resource_metadata="${new URL(resource).origin}/.well-known/oauth-protected-resource/mcp"${error ? `, error="${error}"` : ""}`;
  web.get("/.well-known/oauth-protected-resource/mcp", (c) => c.json({ resource, authorization_servers: [issuer], bearer_methods_supported: ["header"] }));
  web.all("/mcp", async (c) => {
    const header = c.req.header("authorization") ?? "";
    if (!header.startsWith("Bearer ")) return c.json({ error: "invalid_token" }, 401, { "WWW-Authenticate": challenge() });
    const token = header.slice(7);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer, audience: resource, typ: "at+jwt" }));
    } catch {
      return c.json({ error: "invalid_token" }, 401, { "WWW-Authenticate": challenge("invalid_token") });
    }
    const server = new McpServer({ name: "latch-test-notes", version: "1.0.0" });
    server.registerTool("whoami", { description: "The signed-in user's id" }, async (extra) => ({ content: [{ type: "text", text: String(extra.authInfo?.extra?.sub) }] }));
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw, { authInfo: { token, clientId: String(payload.client_id), scopes: String(payload.scope ?? "").split(" "), extra: { sub: payload.sub } } });
  });
  return new Promise((resolve) => {
    const server: ServerType = serve({ fetch: web.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
      resource = `http://127.0.0.1:${info.port}/mcp`;
      resolve({ url: resource, close: () => server.close() });
    });
  });
}

/** Client ID Metadata Documents on a loopback http origin (allowed in development only). */
function startDocumentServer(): Promise<{ origin: string; hits: Map<string, number>; close(): void }> {
  const hits = new Map<string, number>();
  let origin = "";
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const doc = (clientId: string) => JSON.stringify({ client_id: clientId, client_name: "Doc Agent", redirect_uris: [REDIRECT], grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none" });
    if (path === "/agent/client.json") return void res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "max-age=600" }).end(doc(`${origin}/agent/client.json`));
    if (path === "/agent/mismatch.json") return void res.writeHead(200, { "Content-Type": "application/json" }).end(doc(`${origin}/agent/client.json`));
    if (path === "/agent/moved.json") return void res.writeHead(302, { Location: `${origin}/agent/client.json` }).end();
    if (path === "/agent/huge.json") return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ client_id: `${origin}/agent/huge.json`, redirect_uris: [REDIRECT], padding: "x".repeat(6000) }));
    res.writeHead(404).end();
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({ origin, hits, close: () => server.close() });
    }),
  );
}

/**
 * An in-memory OAuthClientProvider whose redirect handler is the user at a browser: it
 * signs in on Latch's hosted form, checks the consent screen and allows (or denies) it.
 */
class TestProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  code: string | null = null;
  error: string | null = null;
  consentPage = "";
  readonly jar = new Jar();

  constructor(
    private readonly user: { username: string; password: string },
    fixedClient?: OAuthClientInformationMixed,
    private readonly decision: "allow" | "deny" = "allow",
  ) {
    this.info = fixedClient;
  }

  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "Test Agent",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      scope: "openid offline_access",
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    const page = await this.jar.fetch(url);
    expect(page.status).toBe(200);
    const form = hiddenFields(await page.text());
    form.set("username", this.user.username);
    form.set("password", this.user.password);
    const signedIn = await this.jar.fetch(new URL("/oauth2/auth", url), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: url.origin }, body: form });
    expect(signedIn.status).toBe(200);
    this.consentPage = await signedIn.text();
    const answer = hiddenFields(this.consentPage);
    answer.set("decision", this.decision);
    let res = await this.jar.fetch(new URL("/oauth2/consent", url), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: url.origin }, body: answer });
    expect(res.status).toBe(303);
    if (this.decision === "allow") res = await this.jar.fetch(new URL(res.headers.get("location")!, url));
    const back = new URL(res.headers.get("location")!);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    this.code = back.searchParams.get("code");
    this.error = back.searchParams.get("error");
  }
}

async function callWhoami(provider: TestProvider): Promise<string> {
  const client = new Client({ name: "latch-test-agent", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }));
  const result = await client.callTool({ name: "whoami", arguments: {} });
  await client.close();
  return (result.content as { type: string; text: string }[])[0]!.text;
}

/** First contact: 401, discovery, registration or document, sign-in, consent, code; then the exchange. */
async function authorizeThroughSdk(provider: TestProvider): Promise<void> {
  const client = new Client({ name: "latch-test-agent", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
  await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
  expect(provider.code).toBeTruthy();
  await transport.finishAuth(provider.code!);
}

beforeAll(async () => {
  resolveLocalhostSubdomains();
  worker = await startWorker();
  app = await createOAuthApp(worker.url, { name: "MCP Notes", settings: { registration: "open", client_id_metadata_documents: "on" } });
  [mcp, documents] = await Promise.all([startMcpServer(app.origin), startDocumentServer()]);
  // Only the MCP server's URL may be asked for as a resource (the audience allow-list).
  const patched = await fetch(`${worker.url}/admin/apps/${app.id}`, {
    method: "PATCH",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ settings: { resources: [mcp.url] } }),
  });
  expect(patched.status).toBe(200);
});

afterAll(() => {
  mcp?.close();
  documents?.close();
});

describe("the MCP SDK client against Latch", () => {
  it("registers (RFC 7591), signs in with PKCE and resource through the form and consent, calls the MCP server, refreshes", async () => {
    const user = await kinveySignup(worker.url, app, "mcp-alice", "alice mcp password");
    const provider = new TestProvider({ username: "mcp-alice", password: "alice mcp password" });
    await authorizeThroughSdk(provider);

    expect(provider.info?.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(provider.consentPage).toContain("Allow Test Agent?");
    expect(provider.consentPage).toContain("127.0.0.1:61999");
    expect(provider.consentPage).toContain("Keep access while you are away");
    expect(provider.consentPage).toContain(mcp.url);
    const first = provider.saved!;
    expect(first.refresh_token).toBeTypeOf("string");
    expect(decodeJwt(first.access_token)).toMatchObject({ aud: mcp.url, sub: user._id, azp: provider.info!.client_id, iss: app.origin });

    expect(await callWhoami(provider)).toBe(user._id);

    // A refresh through the SDK (it sends the resource again): a new pair, still for this MCP server.
    expect(await auth(provider, { serverUrl: new URL(mcp.url) })).toBe("AUTHORIZED");
    const second = provider.saved!;
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.access_token).aud).toBe(mcp.url);
    expect(await callWhoami(provider)).toBe(user._id);

    // A token for another audience is refused by the MCP server, which verifies aud itself.
    const jwks = createRemoteJWKSet(new URL(`${app.origin}/.well-known/jwks.json`));
    await expect(jwtVerify(second.access_token, jwks, { issuer: app.origin, audience: "http://127.0.0.1:1/other" })).rejects.toThrow();
  });

  it("uses a Client ID Metadata Document served from loopback http (development), fetched once", async () => {
    const user = await kinveySignup(worker.url, app, "mcp-bob", "bob mcp password");
    const clientId = `${documents.origin}/agent/client.json`;
    const provider = new TestProvider({ username: "mcp-bob", password: "bob mcp password" }, { client_id: clientId });
    await authorizeThroughSdk(provider);
    expect(provider.consentPage).toContain("Allow Doc Agent?");
    expect(provider.consentPage).toContain(clientId);
    expect(decodeJwt(provider.saved!.access_token)).toMatchObject({ aud: mcp.url, sub: user._id, client_id: clientId });
    expect(await callWhoami(provider)).toBe(user._id);
    expect(await auth(provider, { serverUrl: new URL(mcp.url) })).toBe("AUTHORIZED");
    expect(await callWhoami(provider)).toBe(user._id);
    // Authorization, code exchange and refresh were served from the cache after one fetch.
    expect(documents.hits.get("/agent/client.json")).toBe(1);
  });

  it("refuses a document whose client_id differs, one behind a redirect, and one over 5 KiB", async () => {
    for (const path of ["/agent/mismatch.json", "/agent/moved.json", "/agent/huge.json"]) {
      const url = new URL(`${app.origin}/oauth2/auth`);
      for (const [k, v] of Object.entries({ response_type: "code", client_id: `${documents.origin}${path}`, redirect_uri: REDIRECT, code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256", state: "s" })) url.searchParams.set(k, v);
      const page = await fetch(url, { redirect: "manual" });
      expect(page.status, path).toBe(400);
      expect(page.headers.get("location"), path).toBeNull();
      expect(await page.text()).toContain("invalid_client");
    }
    // The redirect was not followed: the target was never fetched through it.
    expect(documents.hits.get("/agent/moved.json")).toBe(1);
  });

  it("sends access_denied to the redirect URI when the user denies consent", async () => {
    await kinveySignup(worker.url, app, "mcp-carol", "carol mcp password");
    const provider = new TestProvider({ username: "mcp-carol", password: "carol mcp password" }, undefined, "deny");
    const client = new Client({ name: "latch-test-agent", version: "1.0.0" });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.code).toBeNull();
    expect(provider.error).toBe("access_denied");
  });
});
