/**
 * Validation of app settings (SPEC §9): a pure function so the operator API and the
 * seed script share one rule book.
 */
import { AUTH_POLICIES, DEFAULT_SETTINGS, SIGNING_ALGS, type AppSettings } from "../env";

export class SettingsError extends Error {}

const MAX_DURATION = 10 * 365 * 24 * 3600;

/** Merges `patch` over `current`, refusing unknown keys and out-of-range values. */
export function mergeSettings(current: AppSettings, patch: unknown): AppSettings {
  if (patch === undefined || patch === null) return current;
  if (typeof patch !== "object" || Array.isArray(patch)) throw new SettingsError("settings must be an object");
  const next: AppSettings = { ...current, allowed_origins: [...current.allowed_origins] };
  for (const [key, value] of Object.entries(patch)) {
    switch (key) {
      case "access_token_ttl":
      case "refresh_token_ttl":
      case "refresh_absolute_ttl":
      case "refresh_overlap":
        next[key] = wholeNumber(key, value, 0, MAX_DURATION);
        break;
      case "max_chains_per_user":
        next[key] = wholeNumber(key, value, 1, 1000);
        break;
      case "password_min_length":
        next[key] = wholeNumber(key, value, 1, 256);
        break;
      case "auth_policy":
        next[key] = oneOf(key, value, AUTH_POLICIES);
        break;
      case "signing_alg":
        next[key] = oneOf(key, value, SIGNING_ALGS);
        break;
      case "allowed_origins":
        next[key] = origins(value);
        break;
      default:
        throw new SettingsError(`unknown setting: ${key}`);
    }
  }
  if (next.access_token_ttl < 5) throw new SettingsError("access_token_ttl must be at least 5 seconds");
  if (next.refresh_token_ttl <= next.access_token_ttl) throw new SettingsError("refresh_token_ttl must exceed access_token_ttl");
  if (next.refresh_absolute_ttl < next.refresh_token_ttl) throw new SettingsError("refresh_absolute_ttl must be at least refresh_token_ttl");
  return next;
}

/** Settings as stored (possibly partial, possibly from an older version) → complete settings. */
export function parseStoredSettings(json: string): AppSettings {
  const stored = JSON.parse(json) as Partial<AppSettings>;
  return { ...DEFAULT_SETTINGS, ...stored, allowed_origins: stored.allowed_origins ?? [] };
}


function wholeNumber(key: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(`${key} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new SettingsError(`${key} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

/** An origin is scheme://host[:port] with nothing after it. */
export function normalizeOrigin(value: unknown): string | null {
  if (typeof value !== "string" || value.length > 255) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.origin !== value.replace(/\/$/, "")) return null;
  return url.origin;
}

function origins(value: unknown): string[] {
  if (!Array.isArray(value)) throw new SettingsError("allowed_origins must be an array of origins");
  return value.map((v) => {
    const origin = normalizeOrigin(v);
    if (!origin) throw new SettingsError(`not an origin: ${String(v)}`);
    return origin;
  });
}
