/**
 * The WebAuthn ceremonies (SPEC §8) on top of @simplewebauthn/server: the relying party of
 * a request, options to hand the browser, and verification that never throws (a bad
 * response is a refusal with a reason, not a 500).
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { App } from "../tenancy/apps";
import { hostName } from "../tenancy/apps";
import { base64url, fromBase64url } from "../util/crypto";
import type { PasskeyRow } from "../identity/passkeys";

/** Ed25519, ES256, RS256 (COSE algorithm ids), in order of preference. */
export const SUPPORTED_ALGORITHMS = [-8, -7, -257];
const TIMEOUT_MS = 5 * 60_000;

export interface RelyingParty {
  /** The auth host's name: `auth.{custom domain}` in cookie mode, else the request's host name. */
  id: string;
  name: string;
  /** The issuer origin: where the ceremony must have happened. */
  origin: string;
}

export function relyingParty(app: App, host: string, issuer: string): RelyingParty {
  return { id: app.customDomain ? `auth.${app.customDomain}` : hostName(host), name: app.name, origin: issuer };
}

/** The WebAuthn user handle of a user: the UTF-8 bytes of its id (no personal data). */
export function userHandle(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new TextEncoder().encode(userId));
}

export function registrationOptions(
  rp: RelyingParty,
  user: { id: string; username: string; email: string | null },
  existing: Pick<PasskeyRow, "id" | "transports">[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.username,
    userDisplayName: user.email ?? user.username,
    userID: userHandle(user.id),
    timeout: TIMEOUT_MS,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.id, transports: JSON.parse(p.transports) as string[] })),
    // Discoverable, so the login page can ask "any passkey of this site" without a username.
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
  });
}

export function authenticationOptions(rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({ rpID: rp.id, timeout: TIMEOUT_MS, userVerification: "required" });
}

export type Verified<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface NewCredential {
  id: string;
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
}

export async function verifyRegistration(rp: RelyingParty, challenge: string, response: RegistrationResponseJSON): Promise<Verified<NewCredential>> {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
    if (!result.verified) return { ok: false, reason: "The registration could not be verified." };
    const info = result.registrationInfo;
    return {
      ok: true,
      value: {
        id: info.credential.id,
        publicKey: base64url(info.credential.publicKey),
        counter: info.credential.counter,
        transports: cleanTransports(response.response.transports),
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
      },
    };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : "The registration could not be verified." };
  }
}

export interface Assertion {
  newCounter: number;
  backedUp: boolean;
}

export async function verifyAuthentication(
  rp: RelyingParty,
  challenge: string,
  response: AuthenticationResponseJSON,
  passkey: PasskeyRow,
): Promise<Verified<Assertion>> {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      credential: {
        id: passkey.id,
        publicKey: fromBase64url(passkey.public_key) as Uint8Array<ArrayBuffer>,
        counter: passkey.counter,
        transports: JSON.parse(passkey.transports) as string[],
      },
    });
    if (!result.verified) return { ok: false, reason: "The signature could not be verified." };
    return { ok: true, value: { newCounter: result.authenticationInfo.newCounter, backedUp: result.authenticationInfo.credentialBackedUp } };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : "The assertion could not be verified." };
  }
}

const TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);

function cleanTransports(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === "string" && TRANSPORTS.has(t)).slice(0, 8) : [];
}

/** Shape checks on untrusted JSON before it reaches the library. */
export function asRegistrationResponse(value: unknown): RegistrationResponseJSON | null {
  if (!isCredential(value)) return null;
  const r = (value as { response: Record<string, unknown> }).response;
  return typeof r.clientDataJSON === "string" && typeof r.attestationObject === "string" ? (value as unknown as RegistrationResponseJSON) : null;
}

export function asAuthenticationResponse(value: unknown): AuthenticationResponseJSON | null {
  if (!isCredential(value)) return null;
  const r = (value as { response: Record<string, unknown> }).response;
  const handleOk = r.userHandle === undefined || r.userHandle === null || typeof r.userHandle === "string";
  return typeof r.clientDataJSON === "string" && typeof r.authenticatorData === "string" && typeof r.signature === "string" && handleOk
    ? (value as unknown as AuthenticationResponseJSON)
    : null;
}

const B64URL = /^[A-Za-z0-9_-]{1,1400}$/;

function isCredential(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === "string" &&
    B64URL.test(v.id) &&
    v.rawId === v.id &&
    v.type === "public-key" &&
    typeof v.response === "object" &&
    v.response !== null &&
    !Array.isArray(v.response) &&
    (v.clientExtensionResults === undefined || (typeof v.clientExtensionResults === "object" && v.clientExtensionResults !== null))
  );
}
