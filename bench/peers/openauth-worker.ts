/**
 * OpenAuth 0.4.3 (@openauthjs/openauth) as a bench peer: its `issuer()` exactly as shipped,
 * on Cloudflare KV storage (its CloudflareStorage; see clamped()), with one provider that signs everyone in
 * at once so a code costs no form. Bench-only routes:
 * - /__bench/hello: this worker's hello-world ceiling.
 * - /__bench/codes?n=&challenge=&client_id=&redirect_uri=: one real code through the issuer's
 *   own /authorize (its encrypted state cookie) and the provider's success, then n-1 copies of
 *   the record it stored under fresh random codes (what n sign-ins would store, without n RSA
 *   cookie round trips each).
 * Everything else is the issuer: /token (authorization_code, refresh_token), /.well-known/*.
 */
import { issuer } from "@openauthjs/openauth";
import { CloudflareStorage } from "@openauthjs/openauth/storage/cloudflare";
import { createSubjects } from "@openauthjs/openauth/subject";

/** OpenAuth's storage key separator (storage/storage.js). */
const SEPARATOR = String.fromCharCode(31);

interface Env {
  KV: KVNamespace;
}

/** A Standard Schema v1 that accepts any value: the bench needs no validation library. */
const anything = { "~standard": { version: 1 as const, vendor: "bench", validate: (value: unknown) => ({ value }) } };
const subjects = createSubjects({ user: anything as never });

/** Signs the caller in as `bench-user` at once (what a password or code provider ends with). */
const instant = {
  type: "bench",
  init(route: { get: (path: string, handler: (c: unknown) => unknown) => void }, ctx: { success: (c: unknown, value: Record<string, unknown>) => Promise<Response> }) {
    route.get("/authorize", (c) => ctx.success(c, { id: "bench-user" }));
  },
};

/**
 * CloudflareStorage computes `expirationTtl` as floor((expiry - now) / 1000), which is 59 for
 * its 60-second codes and refresh-reuse records once a millisecond has passed, and KV refuses
 * anything under 60. The one change to OpenAuth here: such TTLs are raised to KV's minimum.
 */
function clamped(kv: KVNamespace): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "put") {
        return (key: string, value: string, options?: KVNamespacePutOptions) =>
          target.put(key, value, options?.expirationTtl !== undefined ? { ...options, expirationTtl: Math.max(60, options.expirationTtl) } : options);
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

let app: ReturnType<typeof issuer> | undefined;
function issuerOf(env: Env) {
  app ??= issuer({
    storage: CloudflareStorage({ namespace: clamped(env.KV) }),
    subjects,
    providers: { bench: instant as never },
    success: async (ctx, value) => ctx.subject("user", { id: (value as { id: string }).id }),
  });
  return app;
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/hello") return new Response("hello");
    if (url.pathname === "/__bench/codes") {
      const q = url.searchParams;
      const authorize = `${url.origin}/authorize?${new URLSearchParams({
        provider: "bench",
        response_type: "code",
        client_id: q.get("client_id") ?? "",
        redirect_uri: q.get("redirect_uri") ?? "",
        code_challenge: q.get("challenge") ?? "",
        code_challenge_method: "S256",
        state: "s",
      })}`;
      const one = async () => {
        const start = await issuerOf(env).fetch(new Request(authorize), env, ctx);
        const cookie = start.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
        const done = await issuerOf(env).fetch(new Request(`${url.origin}/bench/authorize`, { headers: { cookie } }), env, ctx);
        const code = new URL(done.headers.get("location") ?? "", url.origin).searchParams.get("code");
        if (!code) throw new Error(`no code: ${done.status} ${done.headers.get("location")} (first: ${start.status} ${start.headers.get("location")})`);
        return code;
      };
      const first = await one();
      const key = `oauth:code${SEPARATOR}${first}`;
      const record = await env.KV.get(key);
      if (!record) throw new Error("the issuer stored no code record");
      const codes = [first];
      const n = Number(q.get("n") ?? "1");
      while (codes.length < n) {
        const batch = Array.from({ length: Math.min(50, n - codes.length) }, () => crypto.randomUUID());
        await Promise.all(batch.map((code) => env.KV.put(`oauth:code${SEPARATOR}${code}`, record, { expirationTtl: 3600 })));
        codes.push(...batch);
      }
      return Response.json(codes);
    }
    return issuerOf(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
