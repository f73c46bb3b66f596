/**
 * workers-oauth-provider 1.2.3 (@cloudflare/workers-oauth-provider) as a bench peer: its
 * OAuthProvider exactly as shipped, on its OAUTH_KV namespace. The default handler holds the
 * bench-only routes (the library hands it env.OAUTH_PROVIDER):
 * - /__bench/hello: this worker's hello-world ceiling.
 * - /__bench/client: registers a public client (token_endpoint_auth_method "none").
 * - /__bench/codes?n=&challenge=&client_id=&redirect_uri=: n real codes through the library's
 *   own completeAuthorization (one grant each, for user u{i}), as an /authorize page would.
 * The provider itself serves /token (authorization_code, refresh_token).
 */
import { OAuthProvider, type OAuthHelpers } from "@cloudflare/workers-oauth-provider";

interface Env {
  OAUTH_KV: KVNamespace;
  OAUTH_PROVIDER: OAuthHelpers;
}

let users = 0;

const defaultHandler = {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/hello") return new Response("hello");
    if (url.pathname === "/__bench/client") {
      const client = await env.OAUTH_PROVIDER.createClient({ redirectUris: [url.searchParams.get("redirect_uri") ?? ""], tokenEndpointAuthMethod: "none", clientName: "bench" });
      return Response.json(client);
    }
    if (url.pathname === "/__bench/codes") {
      const q = url.searchParams;
      const one = async () => {
        const userId = `u${++users}`;
        const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
          request: {
            responseType: "code",
            clientId: q.get("client_id") ?? "",
            redirectUri: q.get("redirect_uri") ?? "",
            scope: ["openid"],
            state: "s",
            codeChallenge: q.get("challenge") ?? "",
            codeChallengeMethod: "S256",
          },
          userId,
          metadata: {},
          scope: ["openid"],
          props: { userId },
          revokeExistingGrants: false,
        });
        const code = new URL(redirectTo).searchParams.get("code");
        if (!code) throw new Error(`no code in ${redirectTo}`);
        return code;
      };
      const codes: string[] = [];
      const n = Number(q.get("n") ?? "1");
      while (codes.length < n) codes.push(...(await Promise.all(Array.from({ length: Math.min(20, n - codes.length) }, one))));
      return Response.json(codes);
    }
    return new Response("not found", { status: 404 });
  },
};

export default new OAuthProvider({
  apiRoute: "/api/",
  apiHandler: { fetch: async () => new Response("api") },
  defaultHandler,
  authorizeEndpoint: "/authorize",
  tokenEndpoint: "/token",
  // Required by this version (RFC 9728 metadata of the protected API); loopback http is accepted.
  resourceMetadata: { resource: "http://127.0.0.1/api/" },
});
