/**
 * LatchClient: the browser side of both Kiavi modes (SPEC §6), picked from the server's
 * `/.well-known/kiavi-auth.json` on first use, never configured by the app.
 *
 * - exchange mode (no custom domain): PKCE S256 code flow; the code is exchanged with
 *   credentials so the refresh token lands in Latch's partitioned cookie, and
 *   `POST /refresh` rotates it;
 * - cookie mode (custom domain): the hosted sign-in sets a session cookie on the shared
 *   parent domain; `session_token_endpoint` mints access tokens from it.
 *
 * getAccessToken() is lazy (no timers): it hands out the cached token until it is within
 * `refresh_leeway_seconds` of expiry, then refreshes once for every concurrent caller. Only
 * a 401 from `/refresh` or `/session/token` clears local state; any other failure keeps it.
 */
import { parseConfig, type AuthPolicy, type KiaviAuthConfig, type Mode } from "./config.js";
import type { LatchUser } from "./claims.js";
import { LatchError } from "./errors.js";
import { afterRefreshFailure, expiryOf, freshness } from "./freshness.js";
import { KeySet, verifyAccessToken } from "./jwt.js";
import { createPkce } from "./pkce.js";
import { randomBase64url } from "./base64url.js";
import { TabStorage, type SavedSession } from "./storage.js";

export type AuthChangeEvent = "SIGNED_IN" | "TOKEN_REFRESHED" | "SIGNED_OUT";

export interface LatchClientOptions {
  /** The app's Latch issuer, e.g. `https://acme.latch.example` (kiavi-auth.json is read from it). */
  issuer: string;
  /** A public client of the app created with `refresh_token_delivery: "cookie"`. */
  clientId: string;
  /** A redirect URI registered on the client, exactly. */
  redirectUri: string;
  /** Default `openid profile email offline` (`offline` is what gives exchange mode its refresh cookie). */
  scope?: string;
  /** Where the hosted logout returns to (register it in the client's `post_logout_redirect_uris`). Default: the redirect URI's origin + `/`. */
  postLogoutRedirectUri?: string;
  /** Complete a sign-in found in the URL (`?code=&state=`) from the constructor. Default true. */
  handleRedirect?: boolean;
  /** The clock, in ms. For tests and devices whose clock is wrong; default Date.now. */
  now?: () => number;
  fetch?: typeof fetch;
}

export interface SignInOptions {
  /** Handed back by handleRedirect() after the sign-in; default the current URL. */
  returnTo?: string;
  loginHint?: string;
  /** `login` forces the form even with a live hosted session; `none` never shows it. */
  prompt?: "login" | "none";
}

export interface RedirectResult {
  returnTo: string;
}

const REDIRECT_PARAMS = ["code", "state", "iss", "error", "error_description", "error_uri", "session_state"];

export class LatchClient {
  readonly issuer: string;
  readonly clientId: string;
  private readonly redirectUri: string;
  private readonly scope: string;
  private readonly postLogoutRedirectUri: string;
  private readonly now: () => number;
  private readonly fetcher: typeof fetch;
  private readonly storage: TabStorage;
  private configPromise: Promise<KiaviAuthConfig> | null = null;
  /** The one refresh in flight: every concurrent getAccessToken() awaits it. */
  private inflight: Promise<string | null> | null = null;
  private redirect: Promise<RedirectResult | null> | null = null;
  /** Set by a 401 or signOut(): no more network until a sign-in, so a signed-out page costs nothing. */
  private knownSignedOut = false;
  /** Bumped whenever state is cleared, so a refresh that was in flight cannot resurrect it. */
  private generation = 0;
  private readonly listeners = new Set<(event: AuthChangeEvent) => void>();
  private keySet: KeySet | null = null;
  private verified: { token: string; user: LatchUser } | null = null;

  constructor(options: LatchClientOptions) {
    if (!/^https?:\/\/[^/]+$/.test(options.issuer)) throw new TypeError("issuer must be an origin such as https://acme.latch.example (no path, no trailing slash)");
    if (!options.clientId) throw new TypeError("clientId is required");
    if (!options.redirectUri) throw new TypeError("redirectUri is required");
    this.issuer = options.issuer;
    this.clientId = options.clientId;
    this.redirectUri = options.redirectUri;
    this.scope = options.scope ?? "openid profile email offline";
    this.postLogoutRedirectUri = options.postLogoutRedirectUri ?? `${new URL(options.redirectUri).origin}/`;
    this.now = options.now ?? Date.now;
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.storage = new TabStorage(`latch:${options.issuer}:${options.clientId}`);
    if (options.handleRedirect !== false && typeof location !== "undefined" && this.isRedirect(new URL(location.href))) {
      this.redirect = this.complete(new URL(location.href));
    }
  }

  // --- public API

  /** The server's browser configuration (kiavi-auth.json), fetched once per page. */
  config(): Promise<KiaviAuthConfig> {
    if (!this.configPromise) {
      // no-cache: a custom domain set or removed flips the flow on the very next page load.
      this.configPromise = this.json(`${this.issuer}/.well-known/kiavi-auth.json`, { cache: "no-cache" })
        .then(parseConfig)
        .catch((err: unknown) => {
          this.configPromise = null;
          throw err;
        });
    }
    return this.configPromise;
  }

  async getMode(): Promise<Mode> {
    return (await this.config()).mode;
  }

  /** `none`, `passkey_preferred` or `passkey_required`; the hosted pages enforce it, read it only to adapt your UI. */
  async getAuthPolicy(): Promise<AuthPolicy> {
    return (await this.config()).auth_policy;
  }

  /** Sends the browser to the hosted sign-in page (PKCE S256 in both modes). */
  async signIn(options: SignInOptions = {}): Promise<void> {
    await this.startAuthorization(options);
  }

  /** Sends the browser to the hosted sign-up page. */
  async signUp(options: Omit<SignInOptions, "prompt"> = {}): Promise<void> {
    await this.startAuthorization({ ...options }, "create");
  }

  /**
   * Completes the sign-in the hosted pages redirected back with (`?code=&state=` on the
   * redirect URI). The constructor calls it already; calling it again returns the same
   * promise. Null when the URL is not such a redirect.
   */
  handleRedirect(url: string = typeof location !== "undefined" ? location.href : ""): Promise<RedirectResult | null> {
    if (this.redirect) return this.redirect;
    if (!url || !this.isRedirect(new URL(url))) return Promise.resolve(null);
    this.redirect = this.complete(new URL(url));
    return this.redirect;
  }

  /**
   * A valid access token, or null when signed out. Call it inline before every API
   * request and do not cache the result: it is cheap, refreshes within the leeway, and
   * shares one refresh between concurrent callers. Throws a retryable LatchError when a
   * refresh was needed and could not happen (offline, 5xx, 429); nothing is cleared then.
   */
  async getAccessToken(): Promise<string | null> {
    await this.settle();
    const config = await this.config();
    const saved = this.load(config);
    if (saved) {
      if (freshness(saved.expiresAt, this.now(), config.refresh_leeway_seconds) === "fresh") return saved.accessToken;
    } else if (this.knownSignedOut) {
      return null;
    }
    try {
      return await this.refresh(config);
    } catch (err) {
      // Within the leeway the current token still works: hand it out and retry next time.
      const current = this.load(config);
      if (current && freshness(current.expiresAt, this.now(), config.refresh_leeway_seconds) !== "expired") return current.accessToken;
      throw err;
    }
  }

  /** The verified claims of the current access token (signature checked against the JWKS), or null when signed out. */
  async getUser(): Promise<LatchUser | null> {
    const token = await this.getAccessToken();
    if (!token) return null;
    if (this.verified?.token === token) return this.verified.user;
    const config = await this.config();
    this.keySet ??= new KeySet(config.jwks_uri, this.fetcher);
    const user = await verifyAccessToken(token, this.keySet, { issuer: config.issuer, audience: this.clientId, now: Math.floor(this.now() / 1000) });
    this.verified = { token, user };
    return user;
  }

  /** True when a session is live (may refresh to find out). */
  async isSignedIn(): Promise<boolean> {
    return (await this.getAccessToken()) !== null;
  }

  /**
   * Ends the server session and its refresh chain (`POST /logout`), then clears this
   * tab's state. In exchange mode the hosted sign-in session lives on the auth host,
   * whose cookie a cross-site request does not carry, so the browser then visits
   * `end_session_endpoint` (with the ID token as hint) and comes back to
   * `returnTo` / `postLogoutRedirectUri`. Local state is cleared even when Latch cannot be
   * reached; the LatchError thrown then says the server part did not happen.
   */
  async signOut(options: { returnTo?: string } = {}): Promise<void> {
    await this.settle();
    const config = await this.config();
    const saved = this.load(config);
    let failure: LatchError | null = null;
    try {
      const res = await this.fetcher(config.end_session_endpoint, { method: "POST", credentials: "include" });
      if (!res.ok) failure = new LatchError("server", `Logout answered ${res.status}.`, res.status);
    } catch (err) {
      failure = new LatchError("network", `Logout could not reach Latch: ${String(err)}`);
    }
    this.clear();
    if (config.mode === "exchange" && !failure) {
      const params = new URLSearchParams({ client_id: this.clientId, post_logout_redirect_uri: options.returnTo ?? this.postLogoutRedirectUri });
      if (saved?.idToken) params.set("id_token_hint", saved.idToken);
      location.assign(`${config.end_session_endpoint}?${params}`);
      return;
    }
    if (failure) throw failure;
    if (options.returnTo) location.assign(options.returnTo);
  }

  /** Calls `callback` on every sign-in, refresh and sign-out; returns the unsubscribe function. */
  onAuthStateChange(callback: (event: AuthChangeEvent) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  /** The hosted passkey page of the signed-in user (list, add, rename, delete). */
  async passkeySettingsUrl(): Promise<string> {
    return `${(await this.config()).issuer}/passkeys`;
  }

  /**
   * Starts passkey enrolment on the hosted pages. Under `passkey_required` the hosted
   * sign-in enrols by itself before any session exists, and under `passkey_preferred` it
   * offers enrolment after a password sign-in; call this for a "Set up a passkey" button.
   */
  async enrollPasskey(): Promise<void> {
    location.assign(await this.passkeySettingsUrl());
  }

  // --- sign-in

  private async startAuthorization(options: SignInOptions, prompt?: "create"): Promise<void> {
    const config = await this.config();
    const pkce = await createPkce();
    const state = randomBase64url(16);
    this.storage.savePending({
      state,
      verifier: pkce.verifier,
      redirectUri: this.redirectUri,
      returnTo: options.returnTo ?? location.href,
      issuer: config.issuer,
      mode: config.mode,
      createdAt: Date.now(),
    });
    const params = new URLSearchParams({
      response_type: "code",
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      scope: this.scope,
      state,
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
    });
    const p = prompt ?? options.prompt;
    if (p) params.set("prompt", p);
    if (options.loginHint) params.set("login_hint", options.loginHint);
    location.assign(`${config.authorization_endpoint}?${params}`);
  }

  private isRedirect(url: URL): boolean {
    const target = new URL(this.redirectUri);
    return url.origin === target.origin && url.pathname === target.pathname && url.searchParams.has("state") && (url.searchParams.has("code") || url.searchParams.has("error"));
  }

  private async complete(url: URL): Promise<RedirectResult> {
    const q = url.searchParams;
    const pending = this.storage.takePending();
    this.cleanUrl(url);
    if (!pending || pending.state !== q.get("state")) throw new LatchError("state_mismatch", "This redirect does not answer a sign-in this tab started.");
    const error = q.get("error");
    if (error) throw new LatchError("authorization_error", q.get("error_description") ?? error, undefined, error);
    const config = await this.config();
    // RFC 9207: the redirect names its issuer; a sign-in started under another one is not ours.
    const iss = q.get("iss");
    if (pending.issuer !== config.issuer || pending.mode !== config.mode || (iss !== null && iss !== config.issuer)) {
      throw new LatchError("state_mismatch", "The sign-in was started against another issuer or mode; sign in again.");
    }
    const generation = ++this.generation;
    this.knownSignedOut = false;
    if (config.mode === "exchange") {
      const started = this.now();
      let res: Response;
      try {
        res = await this.fetcher(config.token_endpoint, {
          method: "POST",
          credentials: "include",
          body: new URLSearchParams({ grant_type: "authorization_code", code: q.get("code") ?? "", redirect_uri: pending.redirectUri, code_verifier: pending.verifier, client_id: this.clientId }),
        });
      } catch (err) {
        throw new LatchError("network", `The code exchange could not reach Latch: ${String(err)}`);
      }
      const body = await this.body(res);
      if (!res.ok) throw new LatchError("exchange_failed", String(body.error_description ?? `The code exchange answered ${res.status}.`), res.status, typeof body.error === "string" ? body.error : undefined);
      if (typeof body.access_token !== "string" || typeof body.expires_in !== "number") throw new LatchError("invalid_response", "The token response has no access_token or expires_in.");
      if (body.refresh_token !== undefined) {
        // A body-delivery client: the SDK never stores refresh tokens where script can read them.
        console.warn(`@latch/browser: client ${this.clientId} received its refresh token in the response body; create it with refresh_token_delivery "cookie" so exchange mode can refresh.`);
      }
      this.save(generation, { issuer: config.issuer, mode: config.mode, accessToken: body.access_token, expiresAt: expiryOf(started, body.expires_in), ...(typeof body.id_token === "string" ? { idToken: body.id_token } : {}) });
      this.emit("SIGNED_IN");
    } else {
      // Cookie mode: the hosted page already set the session cookie; no code exchange.
      const token = await this.refresh(config);
      if (!token) throw new LatchError("authorization_error", "The hosted sign-in left no session cookie (is the app on the custom domain?).", 401);
    }
    return { returnTo: pending.returnTo };
  }

  private cleanUrl(url: URL): void {
    if (typeof history === "undefined" || typeof location === "undefined" || url.href !== location.href) return;
    const clean = new URL(url.href);
    for (const name of REDIRECT_PARAMS) clean.searchParams.delete(name);
    history.replaceState(history.state, "", clean.href);
  }

  // --- tokens

  private async settle(): Promise<void> {
    if (this.redirect) await this.redirect.catch(() => null);
  }

  private refresh(config: KiaviAuthConfig): Promise<string | null> {
    if (!this.inflight) {
      this.inflight = this.refreshOnce(config).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async refreshOnce(config: KiaviAuthConfig): Promise<string | null> {
    const generation = this.generation;
    const before = this.load(config);
    const exchange = config.mode === "exchange";
    const url = exchange ? config.refresh_endpoint : `${config.session_token_endpoint}?${new URLSearchParams({ client_id: this.clientId })}`;
    const started = this.now();
    let res: Response;
    try {
      // No body and no custom header on /refresh: a simple request, so no preflight either.
      res = await this.fetcher(url, exchange ? { method: "POST", credentials: "include" } : { credentials: "include" });
    } catch (err) {
      throw new LatchError("network", `${exchange ? "/refresh" : "/session/token"} could not reach Latch: ${String(err)}`);
    }
    if (!res.ok) {
      const body = await this.body(res).catch(() => ({}) as Record<string, unknown>);
      if (afterRefreshFailure(res.status) === "clear") {
        if (generation === this.generation) this.clear();
        return null;
      }
      const code = res.status === 429 ? "rate_limited" : "server";
      throw new LatchError(code, String(body.error_description ?? `Refresh answered ${res.status}.`), res.status, typeof body.error === "string" ? body.error : undefined);
    }
    const body = await this.body(res);
    if (typeof body.access_token !== "string" || typeof body.expires_in !== "number") throw new LatchError("invalid_response", "The refresh answer has no access_token or expires_in.");
    if (generation !== this.generation) return this.load(config)?.accessToken ?? null;
    this.save(generation, { issuer: config.issuer, mode: config.mode, accessToken: body.access_token, expiresAt: expiryOf(started, body.expires_in), ...(before?.idToken ? { idToken: before.idToken } : {}) });
    this.emit(before ? "TOKEN_REFRESHED" : "SIGNED_IN");
    return body.access_token;
  }

  // --- state

  /** The saved session, if it was made under the current issuer and mode (a flip discards it). */
  private load(config: KiaviAuthConfig): SavedSession | null {
    const saved = this.storage.session();
    if (!saved) return null;
    if (saved.issuer !== config.issuer || saved.mode !== config.mode) {
      this.storage.clearSession();
      return null;
    }
    return saved;
  }

  private save(generation: number, session: SavedSession): void {
    if (generation !== this.generation) return;
    this.knownSignedOut = false;
    this.storage.saveSession(session);
  }

  /** Forgets the session (SIGNED_OUT when there was one) and stops asking the server until a sign-in. */
  private clear(): void {
    this.generation += 1;
    const had = this.storage.session() !== null;
    this.storage.clearSession();
    this.verified = null;
    this.knownSignedOut = true;
    if (had) this.emit("SIGNED_OUT");
  }

  private emit(event: AuthChangeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        console.error("@latch/browser: an onAuthStateChange listener threw", err);
      }
    }
  }

  // --- http

  private async json(url: string, init: RequestInit): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetcher(url, init);
    } catch (err) {
      throw new LatchError("network", `${url} could not be fetched: ${String(err)}`);
    }
    if (!res.ok) throw new LatchError(res.status === 429 ? "rate_limited" : "server", `${url} answered ${res.status}.`, res.status);
    try {
      return await res.json();
    } catch {
      throw new LatchError("invalid_response", `${url} did not answer JSON.`);
    }
  }

  private async body(res: Response): Promise<Record<string, unknown>> {
    try {
      const value = (await res.json()) as unknown;
      return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
    } catch {
      if (res.ok) throw new LatchError("invalid_response", `Latch answered ${res.status} without JSON.`, res.status);
      return {};
    }
  }
}
