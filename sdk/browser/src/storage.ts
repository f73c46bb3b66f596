/**
 * Where the SDK keeps state: this tab's `sessionStorage` only (never `localStorage`, never a
 * cookie the page can read), under keys scoped to the issuer and client. When a browser
 * refuses sessionStorage (some private modes), state lives in memory for the page's life.
 */
import type { Mode } from "./config.js";

/** A sign-in this tab started: the PKCE verifier and `state` until the redirect comes back. */
export interface PendingSignIn {
  state: string;
  verifier: string;
  redirectUri: string;
  returnTo: string;
  /** The issuer and mode the sign-in was started under (kiavi-auth.json at that moment). */
  issuer: string;
  mode: Mode;
  createdAt: number;
}

/** The signed-in state: the cached access token, and the ID token kept as the logout hint. */
export interface SavedSession {
  issuer: string;
  mode: Mode;
  accessToken: string;
  /** ms, this device's clock. */
  expiresAt: number;
  idToken?: string;
}

export class TabStorage {
  private readonly memory = new Map<string, string>();
  private readonly store: Storage | null;

  constructor(private readonly prefix: string) {
    let store: Storage | null = null;
    try {
      store = globalThis.sessionStorage ?? null;
      store?.getItem(prefix);
    } catch {
      store = null;
    }
    this.store = store;
  }

  private get(name: string): unknown {
    const key = `${this.prefix}:${name}`;
    let raw: string | null | undefined;
    try {
      raw = this.store ? this.store.getItem(key) : this.memory.get(key);
    } catch {
      raw = this.memory.get(key);
    }
    if (!raw) return null;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return null;
    }
  }

  private set(name: string, value: unknown): void {
    const key = `${this.prefix}:${name}`;
    const raw = JSON.stringify(value);
    try {
      if (this.store) return this.store.setItem(key, raw);
    } catch {
      // quota or a refusing browser: fall back to memory
    }
    this.memory.set(key, raw);
  }

  private remove(name: string): void {
    const key = `${this.prefix}:${name}`;
    this.memory.delete(key);
    try {
      this.store?.removeItem(key);
    } catch {
      // nothing to remove
    }
  }

  session(): SavedSession | null {
    const s = this.get("session") as SavedSession | null;
    return s && typeof s.accessToken === "string" && typeof s.expiresAt === "number" ? s : null;
  }

  saveSession(session: SavedSession): void {
    this.set("session", session);
  }

  clearSession(): void {
    this.remove("session");
  }

  savePending(pending: PendingSignIn): void {
    this.set("pending", pending);
  }

  /** The pending sign-in, without consuming it. */
  pending(): PendingSignIn | null {
    const p = this.get("pending") as PendingSignIn | null;
    return p && typeof p.state === "string" && typeof p.verifier === "string" ? p : null;
  }

  /** The pending sign-in, removed: a redirect is completed once. */
  takePending(): PendingSignIn | null {
    const p = this.pending();
    this.remove("pending");
    return p;
  }
}
