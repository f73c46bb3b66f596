/** PKCE (RFC 7636), S256 only (SPEC §4: `plain` refused). */
import { base64url, timingSafeEqual } from "../util/crypto";

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** S256 challenges are the base64url SHA-256 of a verifier: exactly 43 characters. */
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export function validChallenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

export function validVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

export async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

export async function verifierMatches(verifier: string, challenge: string): Promise<boolean> {
  return validVerifier(verifier) && timingSafeEqual(await s256(verifier), challenge);
}
