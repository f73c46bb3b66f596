/** Scope rules (SPEC §4): pure. */

export const USER_SCOPES = ["openid", "profile", "email", "offline", "offline_access"] as const;

/** Splits a scope string; repeated and empty entries collapse. */
export function parseScope(value: string | null | undefined): string[] {
  if (!value) return [];
  return [...new Set(value.split(" ").filter(Boolean))];
}

/** Scopes outside what user-facing flows can grant, or null when every scope is known. */
export function unknownUserScopes(scopes: string[]): string[] {
  return scopes.filter((s) => !(USER_SCOPES as readonly string[]).includes(s));
}

/** A refresh token is issued only with `offline` (or its synonym `offline_access`). */
export function wantsOffline(scopes: string[]): boolean {
  return scopes.includes("offline") || scopes.includes("offline_access");
}

/** `requested` when it is a subset of `granted`; null otherwise. Empty request = everything granted. */
export function narrowScope(granted: string[], requested: string[]): string[] | null {
  if (requested.length === 0) return granted;
  return requested.every((s) => granted.includes(s)) ? requested : null;
}
