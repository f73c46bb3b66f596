/** PKCE (RFC 7636), S256 only: a 256-bit verifier and its SHA-256 challenge. */
import { randomBase64url, toBase64url } from "./base64url.js";

export interface Pkce {
  verifier: string;
  challenge: string;
}

export async function createPkce(): Promise<Pkce> {
  const verifier = randomBase64url(32);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: toBase64url(new Uint8Array(digest)) };
}
