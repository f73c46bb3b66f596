/** `/.well-known/kiavi-auth.json` (SPEC §6): what the SDK reads on first use to pick its flow. */
import { LatchError } from "./errors.js";

export type Mode = "cookie" | "exchange";
export type AuthPolicy = "none" | "passkey_preferred" | "passkey_required";

export interface KiaviAuthConfig {
  version: number;
  issuer: string;
  app: { id: string; slug: string };
  mode: Mode;
  session_endpoint: string;
  session_token_endpoint: string;
  authorization_endpoint: string;
  token_endpoint: string;
  refresh_endpoint: string;
  end_session_endpoint: string;
  jwks_uri: string;
  cookie_domain: string | null;
  access_token_lifetime: number;
  refresh_leeway_seconds: number;
  auth_policy: AuthPolicy;
}

const URL_FIELDS = ["issuer", "session_endpoint", "session_token_endpoint", "authorization_endpoint", "token_endpoint", "refresh_endpoint", "end_session_endpoint", "jwks_uri"] as const;

/** Checks the fields the SDK relies on; a document without them is refused rather than half-used. */
export function parseConfig(value: unknown): KiaviAuthConfig {
  const bad = (why: string) => new LatchError("invalid_response", `kiavi-auth.json: ${why}`);
  if (typeof value !== "object" || value === null) throw bad("not a JSON object");
  const v = value as Record<string, unknown>;
  if (v.mode !== "cookie" && v.mode !== "exchange") throw bad("mode must be cookie or exchange");
  for (const field of URL_FIELDS) {
    const url = v[field];
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) throw bad(`${field} must be an http(s) URL`);
  }
  const leeway = typeof v.refresh_leeway_seconds === "number" && v.refresh_leeway_seconds >= 0 ? v.refresh_leeway_seconds : 30;
  const policy = v.auth_policy === "passkey_preferred" || v.auth_policy === "passkey_required" ? v.auth_policy : "none";
  return { ...(v as unknown as KiaviAuthConfig), refresh_leeway_seconds: leeway, auth_policy: policy };
}
