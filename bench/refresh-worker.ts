/**
 * Bench-only entry (never deployed): the real worker plus three routes the bench needs.
 * - /__bench/hello: the hello-world ceiling, served by the same isolate.
 * - /__bench/start: starts a chain for a user (the bench cannot run a browser login per chain).
 * - /__bench/rotate: rotateChain over DO RPC, shaped like the refresh grant (form in, JSON out);
 *   used only when the real /oauth2/token refresh grant is not in this build.
 * Everything else goes to the real worker, so HTTP-mode refreshes hit /oauth2/token itself.
 */
import worker from "../worker/index";
import type { Env } from "../worker/env";
import { rotateChain, startChain } from "../worker/chains/api";
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
      const started = await startChain(env, await app(env, body.appId), body.userId, {
        clientId: body.clientId,
        sessionId: null,
        scope: body.scope ?? "openid offline",
        authTime: Math.floor(Date.now() / 1000),
        authMethod: "password",
        claims: { email: `${body.userId}@bench.test`, roles: [], permissions: [] },
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
