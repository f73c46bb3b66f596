/**
 * A real OpenID provider as the upstream of Latch's connections: panva's oidc-provider on
 * loopback, with test accounts, its development login page (any password), and consent
 * granted in advance so a sign-in is one form. Beside it, a token-endpoint proxy that a
 * test can make answer 503 or hand back a tampered ID token: the back channel is the only
 * place a browser-side test cannot reach.
 */
import http from "node:http";
import Provider from "oidc-provider";
import { Jar } from "./oauth-helpers";

export interface TestAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestUpstream {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** A token endpoint that forwards to the provider's, through `tamper`. */
  proxyTokenEndpoint: string;
  /** Changes the proxied token response; `"fail"` answers 503 instead. */
  tamper: ((body: Record<string, unknown>) => Record<string, unknown>) | "fail" | null;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

export async function startUpstream(redirectUris: string[], accounts: TestAccount[]): Promise<TestUpstream> {
  const server = http.createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const byId = new Map(accounts.map((a) => [a.sub, a]));
  const clientId = "latch-test-client";
  const clientSecret = "latch-test-client-secret-0123456789abcdef";
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris, response_types: ["code"], grant_types: ["authorization_code"] }],
    findAccount: async (_ctx: unknown, id: string) => {
      const account = byId.get(id);
      return account ? { accountId: id, claims: async () => ({ ...account }) } : undefined;
    },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // The ID token carries the email claims itself (Latch reads them there).
    conformIdTokenClaims: false,
    loadExistingGrant: async (ctx: any) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    cookies: { keys: ["latch-upstream-test-cookie-key"] },
    features: { devInteractions: { enabled: true } },
  });
  server.on("request", provider.callback());

  const upstream: TestUpstream = {
    issuer,
    clientId,
    clientSecret,
    proxyTokenEndpoint: "",
    tamper: null,
    close: async () => {
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => proxy.close(r))]);
    },
  };
  const proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (upstream.tamper === "fail") {
      res.writeHead(503, { "Content-Type": "text/plain" }).end("upstream down");
      return;
    }
    const answer = await fetch(`${issuer}/token`, {
      method: "POST",
      headers: { "content-type": String(req.headers["content-type"]), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) },
      body: Buffer.concat(chunks),
    });
    let body = (await answer.json()) as Record<string, unknown>;
    if (upstream.tamper) body = upstream.tamper(body);
    res.writeHead(answer.status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  });
  upstream.proxyTokenEndpoint = `http://127.0.0.1:${await listen(proxy)}/token`;
  return upstream;
}

const unescape = (s: string) => s.replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");

export interface Followed {
  /** The last response (a page, or the redirect that left for `stopAt`). */
  res: Response;
  url: URL;
  body: string;
}

/**
 * Follows a browser's way from `start` through Latch and the provider: redirects, and the
 * provider's login form filled as `login`. Stops at a URL under `stopAt` (the client's
 * redirect URI), at any page that is not the provider's form, or when `intercept` returns a
 * URL of its own (a test changing what the browser would send).
 */
export async function follow(
  jar: Jar,
  start: string | URL,
  options: { login?: string; stopAt: string; provider: string; intercept?: (url: URL) => URL | null; abort?: boolean },
): Promise<Followed> {
  let url = new URL(start);
  for (let hop = 0; hop < 30; hop++) {
    const changed = options.intercept?.(url);
    if (changed) url = changed;
    if (url.toString().startsWith(options.stopAt)) return { res: new Response(null, { status: 200 }), url, body: "" };
    const res = await jar.fetch(url);
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      continue;
    }
    const body = await res.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(body);
    const isProvider = url.origin === new URL(options.provider).origin && form && /name="prompt"/.test(form[2]!);
    if (!isProvider) return { res, url, body };
    if (options.abort) {
      url = new URL(`${url.pathname.replace(/\/$/, "")}/abort`, url);
      continue;
    }
    const fields = new URLSearchParams();
    for (const [, attrs] of form![2]!.matchAll(/<input([^>]*)>/g)) {
      const name = /name="([^"]+)"/.exec(attrs!)?.[1];
      const value = /value="([^"]*)"/.exec(attrs!)?.[1];
      if (name && /type="hidden"/.test(attrs!)) fields.set(name, unescape(value ?? ""));
    }
    if (fields.get("prompt") === "login") {
      fields.set("login", options.login ?? "");
      fields.set("password", "any password");
    }
    const posted = await jar.fetch(new URL(unescape(form![1]!), url), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: fields });
    const next = posted.headers.get("location");
    if (!next) return { res: posted, url, body: await posted.text() };
    url = new URL(next, url);
  }
  throw new Error("follow: too many hops");
}
