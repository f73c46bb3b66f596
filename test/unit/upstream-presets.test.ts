/**
 * The presets' back channel against loopback stubs of the providers' documented requests:
 * the same code the worker runs (connections/upstream.ts), with its fetch pointed at a
 * local server that answers as Google, Microsoft, Apple and GitHub document, and checks
 * what Latch sends them (client authentication, PKCE, Apple's client-secret JWT, GitHub's
 * headers). Also: an upstream 5xx and a time-out become UpstreamError `unavailable`.
 */
import http from "node:http";
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { protocolOf } from "../../worker/connections/presets";
import { completeUpstream, UpstreamError, type UpstreamIO } from "../../worker/connections/upstream";

type Handler = (req: { method: string; path: string; headers: http.IncomingHttpHeaders; form: URLSearchParams }) => Promise<{ status?: number; json?: unknown; hang?: boolean }>;
const routes = new Map<string, Handler>();
let server: http.Server;
let port: number;
let signingKey: CryptoKey;
let publicJwk: JWK;
const seen: { path: string; headers: http.IncomingHttpHeaders; form: URLSearchParams }[] = [];

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  signingKey = pair.privateKey as CryptoKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: "stub-key", alg: "RS256", use: "sig" };
  server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url!, "http://stub");
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    seen.push({ path: url.pathname, headers: req.headers, form });
    const handler = routes.get(`${req.method} ${url.pathname}`);
    if (!handler) return void res.writeHead(404).end("{}");
    const answer = await handler({ method: req.method!, path: url.pathname, headers: req.headers, form });
    if (answer.hang) return;
    res.writeHead(answer.status ?? 200, { "Content-Type": "application/json" }).end(JSON.stringify(answer.json ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The worker's fetch, with every provider's host routed to the stub (the path keeps the host). */
function io(timeoutMs = 3000): UpstreamIO {
  return {
    fetch: (input, init) => {
      const u = new URL(input);
      return fetch(`http://127.0.0.1:${port}/${u.host}${u.pathname}${u.search}`, init);
    },
    timeoutMs,
    allowLoopbackHttp: false,
  };
}

function idToken(claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: "RS256", kid: "stub-key" }).sign(signingKey);
}

const flow = { code: "the-code", redirectUri: "https://auth.example.com/upstream/callback", codeVerifier: "v".repeat(43), nonce: "the-nonce" };
const secret = { kind: "secret" as const, secret: "s3cret value" };

describe("presets against loopback stubs", () => {
  it("Google: client_secret_post with PKCE at oauth2.googleapis.com; the ID token verified against its certs", async () => {
    routes.set("GET /www.googleapis.com/oauth2/v3/certs", async () => ({ json: { keys: [publicJwk] } }));
    routes.set("POST /oauth2.googleapis.com/token", async ({ form }) => {
      expect(Object.fromEntries(form)).toEqual({
        grant_type: "authorization_code",
        code: "the-code",
        redirect_uri: flow.redirectUri,
        code_verifier: flow.codeVerifier,
        client_id: "google-client",
        client_secret: "s3cret value",
      });
      return { json: { access_token: "at", id_token: await idToken({ iss: "https://accounts.google.com", aud: "google-client", sub: "g-1", nonce: "the-nonce", email: "g@gmail.com", email_verified: true, name: "G" }) } };
    });
    const profile = await completeUpstream(io(), protocolOf("oauth2:google", {}), { clientId: "google-client", credential: secret }, flow);
    expect(profile).toEqual({ subject: "g-1", email: "g@gmail.com", emailVerified: true, name: "G" });

    // Another issuer than Google's is refused.
    routes.set("POST /oauth2.googleapis.com/token", async () => ({ json: { id_token: await idToken({ iss: "https://evil.example.com", aud: "google-client", sub: "g-1", nonce: "the-nonce" }) } }));
    await expect(completeUpstream(io(), protocolOf("oauth2:google", {}), { clientId: "google-client", credential: secret }, flow)).rejects.toMatchObject({ failure: "invalid_token" });
  });

  it("Microsoft: the tenant's endpoints; the issuer must be the token's own tenant", async () => {
    const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    routes.set("GET /login.microsoftonline.com/common/discovery/v2.0/keys", async () => ({ json: { keys: [publicJwk] } }));
    const answer = (iss: string) => async () => ({ json: { id_token: await idToken({ iss, tid, aud: "ms-client", sub: "m-1", nonce: "the-nonce", email: "m@contoso.com" }) } });
    routes.set("POST /login.microsoftonline.com/common/oauth2/v2.0/token", answer(`https://login.microsoftonline.com/${tid}/v2.0`));
    const profile = await completeUpstream(io(), protocolOf("oauth2:microsoft", {}), { clientId: "ms-client", credential: secret }, flow);
    // Entra ID does not verify `email` (no xms_edov here): unverified.
    expect(profile).toMatchObject({ subject: "m-1", email: "m@contoso.com", emailVerified: false });

    routes.set("POST /login.microsoftonline.com/common/oauth2/v2.0/token", answer("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"));
    await expect(completeUpstream(io(), protocolOf("oauth2:microsoft", {}), { clientId: "ms-client", credential: secret }, flow)).rejects.toMatchObject({ failure: "invalid_token" });
  });

  it("Apple: a fresh ES256 client_secret JWT from the team key; no PKCE; string booleans", async () => {
    const apple = await generateKeyPair("ES256", { extractable: true });
    const pem = await exportPKCS8(apple.privateKey as CryptoKey);
    const applePublic = await importJWK(await exportJWK(apple.publicKey), "ES256");
    routes.set("GET /appleid.apple.com/auth/keys", async () => ({ json: { keys: [publicJwk] } }));
    routes.set("POST /appleid.apple.com/auth/token", async ({ form }) => {
      expect(form.get("client_id")).toBe("com.example.web");
      expect(form.has("code_verifier")).toBe(false);
      const { payload, protectedHeader } = await jwtVerify(form.get("client_secret")!, applePublic, { issuer: "TEAM123456", subject: "com.example.web", audience: "https://appleid.apple.com" });
      expect(protectedHeader).toMatchObject({ alg: "ES256", kid: "KEY1234567" });
      expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(15777000);
      return { json: { access_token: "at", id_token: await idToken({ iss: "https://appleid.apple.com", aud: "com.example.web", sub: "001234.abcd", nonce: "the-nonce", email: "x@privaterelay.appleid.com", email_verified: "true" }) } };
    });
    const credential = { kind: "apple" as const, privateKey: pem, teamId: "TEAM123456", keyId: "KEY1234567" };
    const profile = await completeUpstream(io(), protocolOf("oauth2:apple", {}), { clientId: "com.example.web", credential }, flow);
    expect(profile).toEqual({ subject: "001234.abcd", email: "x@privaterelay.appleid.com", emailVerified: true });
  });

  it("GitHub: JSON token response, then /user and the primary verified email from /user/emails", async () => {
    routes.set("POST /github.com/login/oauth/access_token", async ({ headers, form }) => {
      expect(headers.accept).toBe("application/json");
      expect(form.get("client_secret")).toBe("s3cret value");
      expect(form.get("code_verifier")).toBe(flow.codeVerifier);
      return { json: { access_token: "gho_token", token_type: "bearer", scope: "read:user,user:email" } };
    });
    routes.set("GET /api.github.com/user", async ({ headers }) => {
      expect(headers.authorization).toBe("Bearer gho_token");
      expect(headers["user-agent"]).toBeTruthy();
      return { json: { id: 583231, login: "octocat", name: "The Octocat", avatar_url: "https://avatars.githubusercontent.com/u/583231", email: "public@example.com" } };
    });
    routes.set("GET /api.github.com/user/emails", async () => ({
      json: [
        { email: "public@example.com", primary: false, verified: true },
        { email: "octocat@github.com", primary: true, verified: true },
      ],
    }));
    const profile = await completeUpstream(io(), protocolOf("oauth2:github", {}), { clientId: "gh-client", credential: secret }, flow);
    expect(profile).toEqual({ subject: "583231", email: "octocat@github.com", emailVerified: true, name: "The Octocat", picture: "https://avatars.githubusercontent.com/u/583231" });

    routes.set("GET /api.github.com/user/emails", async () => ({ json: [{ email: "octocat@github.com", primary: true, verified: false }] }));
    const unverified = await completeUpstream(io(), protocolOf("oauth2:github", {}), { clientId: "gh-client", credential: secret }, flow);
    expect(unverified).toMatchObject({ email: "octocat@github.com", emailVerified: false });
  });

  it("an upstream 5xx and a time-out are `unavailable`; a refused code is `invalid_response`", async () => {
    routes.set("POST /github.com/login/oauth/access_token", async () => ({ status: 503 }));
    const call = (timeout?: number) => completeUpstream(io(timeout), protocolOf("oauth2:github", {}), { clientId: "gh-client", credential: secret }, flow);
    await expect(call()).rejects.toMatchObject({ failure: "unavailable" });
    routes.set("POST /github.com/login/oauth/access_token", async () => ({ hang: true }));
    const started = Date.now();
    await expect(call(300)).rejects.toMatchObject({ failure: "unavailable" });
    expect(Date.now() - started).toBeLessThan(3000);
    routes.set("POST /github.com/login/oauth/access_token", async () => ({ json: { error: "bad_verification_code" } }));
    const err = await call().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).failure).toBe("invalid_response");
    expect((err as UpstreamError).message).toContain("bad_verification_code");
  });
});
