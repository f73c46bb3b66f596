/**
 * Bench-only entry (never deployed): the real worker plus three routes the bench needs.
 * - /__bench/hello: the hello-world ceiling, served by the same isolate.
 * - /__bench/start: starts a chain for a user with the claims snapshot the authorization_code
 *   grant would store (the bench does not run a browser login per chain).
 * - /__bench/rotate: rotateChain over DO RPC, shaped like the refresh grant (form in, JSON out);
 *   used only when the real /oauth2/token refresh grant is not in this build.
 * Everything else goes to the real worker, so HTTP-mode refreshes hit /oauth2/token itself.
 */
import worker from "../worker/index";
import type { Env } from "../worker/env";
import { rotateChain, startChain } from "../worker/chains/api";
import { buildClaims } from "../worker/identity/claims";
import { userById } from "../worker/identity/users";
import { appById } from "../worker/tenancy/apps";

export { RefreshChains } from "../worker/index";

async function app(env: Env, id: string) {
  const found = await appById(env, id);
  if (!found) throw new Error(`no app ${id}`);
  return found;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/hello") return new Response("hello");
    if (url.pathname === "/__bench/start") {
      const body = (await request.json()) as { appId: string; userId: string; clientId: string; scope?: string };
      const found = await app(env, body.appId);
      const user = await userById(env, found.id, body.userId);
      if (!user) throw new Error(`no user ${body.userId}`);
      // The snapshot an authorization_code grant would have stored.
      const started = await startChain(env, found, body.userId, {
        clientId: body.clientId,
        sessionId: null,
        scope: body.scope ?? "openid offline email profile",
        authTime: Math.floor(Date.now() / 1000),
        authMethod: "password",
        claims: { ...(await buildClaims(env, found, user)) },
      });
      return Response.json(started);
    }
    if (url.pathname === "/__bench/rotate") {
      const form = await request.formData();
      const result = await rotateChain(env, await app(env, String(form.get("app_id"))), String(form.get("refresh_token")), String(form.get("client_id")));
      if (!result.ok) return Response.json({ error: "invalid_grant", error_description: result.reason }, { status: 400 });
      return Response.json({ refresh_token: result.refreshToken, token_type: "Bearer" }, { headers: { "Cache-Control": "no-store" } });
    }
    return worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
