/**
 * Bench-only entry (never deployed): the real worker plus the routes the benches need.
 * - /__bench/hello: the hello-world ceiling, served by the same isolate.
 * - /__bench/d1: one `SELECT 1` on D1, the cost of a D1 round trip alone (data bench).
 * - /__bench/d1?batch=n: a batch of n `SELECT 1`, the cost of each further statement in a trip.
 * - /__bench/d1?bytes=n: one statement answering an n-byte string, the cost of result size.
 * - /__bench/sign?slug=&n=: signs n access-token-shaped JWTs with the app's active key
 *   (created and cached by the first call), to time signing per algorithm (oauth bench).
 * - /__bench/codes: inserts n authorization codes bound to a real session (POST JSON), so the
 *   code-exchange cells need no form post per code; answers the codes (oauth bench).
 * - /__bench/start: starts a chain with the claims snapshot the authorization_code grant would
 *   store, without a browser login per chain (refresh bench).
 * - /__bench/rotate: rotateChain over DO RPC, shaped like the refresh grant (form in, JSON out):
 *   the chain machinery without minting tokens (refresh bench).
 * - /__bench/counters: D1 round trips (each first/all/run/raw/batch call) and Durable Object
 *   calls (each RPC on a RefreshChains stub) the real worker made since the last call, with
 *   how many requests reached it; then resets them. The benches print these per request.
 * - /__bench/repeat?n=&path=[&counted=1]: sends `path` (with this request's headers) to the real
 *   worker n times in a row inside this one request, so workerd CPU over the call ÷ n is a
 *   route's own cost without HTTP or the load generator (data bench's per-route breakdown).
 * Everything else goes to the real worker (/oauth2/*, /appdata, /user, /admin).
 */
import worker from "../worker/index";
import type { Env } from "../worker/env";
import { rotateChain, startChain } from "../worker/chains/api";
import { buildClaims } from "../worker/identity/claims";
import { userById } from "../worker/identity/users";
import { signJwt } from "../worker/keys/sign";
import { appById, appBySlug } from "../worker/tenancy/apps";
import { randomToken, sha256Hex } from "../worker/util/crypto";

export { AttemptCounters, RefreshChains } from "../worker/index";

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

async function app(env: Env, id: string) {
  const found = await appById(env, id);
  if (!found) throw new Error(`no app ${id}`);
  return found;
}

type Route = (request: Request, env: Env, url: URL) => Promise<Response>;

const routes: Record<string, Route> = {
  async "/__bench/hello"() {
    return new Response("hello");
  },
  async "/__bench/d1"(_request, env, url) {
    const batch = Number(url.searchParams.get("batch") ?? "1");
    const bytes = Number(url.searchParams.get("bytes") ?? "0");
    // quotes=1: a string that is half `"`, as a page of JSON documents is, which D1 escapes.
    const text = url.searchParams.get("quotes") === "1" ? "replace(substr(hex(zeroblob(?1)), 1, ?2), '00', '\"a')" : "substr(hex(zeroblob(?1)), 1, ?2)";
    if (bytes > 0) await env.DB.prepare(`SELECT ${text} AS s`).bind(Math.ceil(bytes / 2), bytes).first();
    else if (batch > 1) await env.DB.batch(Array.from({ length: batch }, () => env.DB.prepare("SELECT 1")));
    else await env.DB.prepare("SELECT 1").first();
    return new Response("ok");
  },
  async "/__bench/sign"(_request, env, url) {
    const found = await appBySlug(env, url.searchParams.get("slug") ?? "");
    if (!found) return new Response("no app", { status: 404 });
    const n = Number(url.searchParams.get("n") ?? "1");
    const now = Math.floor(Date.now() / 1000);
    let last = "";
    for (let i = 0; i < n; i++) {
      last = await signJwt(env, found, { typ: "at+jwt" }, { iss: "https://bench", sub: "user", aud: "client", client_id: "client", iat: now, exp: now + 900, jti: String(i), scope: "openid profile email offline" });
    }
    return new Response(last);
  },
  async "/__bench/codes"(request, env) {
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
  },
  async "/__bench/start"(request, env) {
    const body = (await request.json()) as { appId: string; userId: string; clientId: string; scope?: string };
    const found = await app(env, body.appId);
    const user = await userById(env, found.id, body.userId);
    if (!user) throw new Error(`no user ${body.userId}`);
    const started = await startChain(env, found, body.userId, {
      clientId: body.clientId,
      sessionId: null,
      scope: body.scope ?? "openid offline email profile",
      authTime: Math.floor(Date.now() / 1000),
      authMethod: "password",
      claims: { ...(await buildClaims(env, found, user)) },
    });
    return Response.json(started);
  },
  async "/__bench/rotate"(request, env) {
    const form = await request.formData();
    const result = await rotateChain(env, await app(env, String(form.get("app_id"))), String(form.get("refresh_token")), String(form.get("client_id")));
    if (!result.ok) return Response.json({ error: "invalid_grant", error_description: result.reason }, { status: 400 });
    return Response.json({ refresh_token: result.refreshToken, token_type: "Bearer" }, { headers: { "Cache-Control": "no-store" } });
  },
};

const counters = { requests: 0, d1: 0, durableObject: 0 };

/** The bindings with every D1 round trip and Durable Object call counted (see the header). */
function counted(env: Env): Env {
  const trip = <T extends object>(target: T, methods: string[], count: () => void): T =>
    new Proxy(target, {
      get(t, prop) {
        const v = Reflect.get(t, prop);
        if (typeof v !== "function") return v;
        if (methods.includes(prop as string)) {
          return (...args: unknown[]) => {
            count();
            return (v as (...a: unknown[]) => unknown).apply(t, args);
          };
        }
        return (v as (...a: unknown[]) => unknown).bind(t);
      },
    });
  const d1 = () => counters.d1++;
  const statement = (st: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(st, {
      get(t, prop) {
        if (prop === RAW) return t;
        const v = Reflect.get(t, prop);
        if (prop === "bind") return (...args: unknown[]) => statement((v as (...a: unknown[]) => D1PreparedStatement).apply(t, args));
        if (["first", "all", "run", "raw"].includes(prop as string)) return trip(t, [prop as string], d1)[prop as keyof D1PreparedStatement];
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  const db = new Proxy(env.DB, {
    get(t, prop) {
      const v = Reflect.get(t, prop);
      if (prop === "prepare") return (query: string) => statement(t.prepare(query));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          d1();
          // The batch needs the real statements, not their proxies.
          return t.batch(statements.map((st) => (st as unknown as { [RAW]?: D1PreparedStatement })[RAW] ?? st));
        };
      }
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  const chains = new Proxy(env.CHAINS, {
    get(t, prop) {
      const v = Reflect.get(t, prop);
      if (prop === "get") {
        return (id: DurableObjectId) => {
          const stub = t.get(id);
          return new Proxy(stub, {
            get(s, name) {
              if (typeof name === "symbol" || name === "then" || name === "id" || name === "name") return Reflect.get(s, name);
              return (...args: unknown[]) => {
                counters.durableObject++;
                return (s as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
              };
            },
          });
        };
      }
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return { ...env, DB: db, CHAINS: chains };
}
const RAW = Symbol("raw statement");

async function repeat(request: Request, env: Env, ctx: ExecutionContext, url: URL): Promise<Response> {
  const n = Number(url.searchParams.get("n") ?? "100");
  const target = new URL(url.searchParams.get("path") ?? "/", url.origin);
  const headers = new Headers(request.headers);
  const useEnv = url.searchParams.get("counted") === "1" ? counted(env) : env;
  const statuses = new Map<number, number>();
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const bench = routes[target.pathname];
    const res = bench ? await bench(new Request(target, { headers }), env, target) : await worker.fetch(new Request(target, { headers }), useEnv, ctx);
    await res.arrayBuffer();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  }
  return Response.json({ n, ms: Date.now() - t0, statuses: Object.fromEntries(statuses) });
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> | Response {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/counters") {
      const out = { ...counters };
      Object.assign(counters, { requests: 0, d1: 0, durableObject: 0 });
      return Response.json(out);
    }
    if (url.pathname === "/__bench/repeat") return repeat(request, env, ctx, url);
    const route = routes[url.pathname];
    if (route) return route(request, env, url);
    counters.requests++;
    return worker.fetch(request, counted(env), ctx);
  },
} satisfies ExportedHandler<Env>;
