/**
 * Bench-only entry (never deployed): the real worker plus two routes bench/oauth.mjs needs.
 * - /__bench/hello: the hello-world ceiling, served by the same isolate.
 * - /__bench/sign?slug=&n=: signs n access-token-shaped JWTs with the app's active key
 *   (the key is created and cached by the first call), to time signing per algorithm.
 * - /__bench/codes: inserts n authorization codes bound to a real session (POST JSON), so the
 *   code-exchange cell does not need a form post per code; answers the codes.
 * Everything else goes to the real worker (/oauth2/token, /oauth2/auth, /admin).
 */
import worker from "../worker/index";
import type { Env } from "../worker/env";
import { signJwt } from "../worker/keys/sign";
import { appBySlug } from "../worker/tenancy/apps";
import { randomToken, sha256Hex } from "../worker/util/crypto";

interface CodeRequest {
  n: number;
  appId: string;
  clientId: string;
  userId: string;
  sessionId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
}

export { RefreshChains } from "../worker/index";

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/hello") return new Response("hello");
    if (url.pathname === "/__bench/sign") {
      const app = await appBySlug(env, url.searchParams.get("slug") ?? "");
      if (!app) return new Response("no app", { status: 404 });
      const n = Number(url.searchParams.get("n") ?? "1");
      const now = Math.floor(Date.now() / 1000);
      let last = "";
      for (let i = 0; i < n; i++) {
        last = await signJwt(env, app, { typ: "at+jwt" }, { iss: "https://bench", sub: "user", aud: "client", client_id: "client", iat: now, exp: now + 900, jti: String(i), scope: "openid profile email offline" });
      }
      return new Response(last);
    }
    if (url.pathname === "/__bench/codes") {
      const r = (await request.json()) as CodeRequest;
      const now = Date.now();
      const codes: string[] = [];
      const insert = env.DB.prepare(
        "INSERT INTO auth_codes (code_hash, app_id, client_id, user_id, session_id, redirect_uri, code_challenge, scope, nonce, audience, auth_time, auth_method, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'nonce', '[]', ?, 'password', ?)",
      );
      for (let i = 0; i < r.n; i += 500) {
        const batch: D1PreparedStatement[] = [];
        for (let j = i; j < Math.min(r.n, i + 500); j++) {
          const code = randomToken();
          codes.push(code);
          batch.push(insert.bind(await sha256Hex(code), r.appId, r.clientId, r.userId, r.sessionId, r.redirectUri, r.challenge, r.scope, Math.floor(now / 1000), now + 3_600_000));
        }
        await env.DB.batch(batch);
      }
      return Response.json(codes);
    }
    return worker.fetch(request, env, ctx);
  },
};
