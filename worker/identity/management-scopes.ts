/**
 * The management API's scopes (SPEC §7), Kinde's catalogue: each endpoint requires the
 * scope Kinde documents for it (management-scopes.json, whose `endpoints` list is the
 * README's table). Pure.
 *
 * Older names stay accepted. Most are not Kinde names (`read:sessions`), so they simply
 * pass the endpoints they always passed. A few are Kinde names that Latch once gave a
 * wider meaning (`update:users` also allowed password changes, which Kinde puts under
 * `update:user_passwords`); they keep that wider meaning only for clients created before
 * Kinde's catalogue was adopted (migration 0004 marks them `legacy_scopes`), so a client
 * set up from Kinde's documentation gets exactly what Kinde would give it.
 */
import catalogue from "./management-scopes.json";

export interface EndpointScope {
  method: string;
  path: string;
  scope: string;
  aliases?: string[];
}

const KINDE: ReadonlySet<string> = new Set(catalogue.kinde);

/** Every scope some management endpoint requires (an m2m client holding all of them may call everything). */
export const MANAGEMENT_SCOPES: readonly string[] = [...new Set(catalogue.endpoints.map((e) => e.scope))];

/** Every name an m2m client may be given: all of Kinde's, Latch's own, and the older aliases. */
export const ACCEPTED_SCOPES: ReadonlySet<string> = new Set([...catalogue.kinde, ...catalogue.latch, ...catalogue.aliases]);

export const ENDPOINT_SCOPES: readonly EndpointScope[] = catalogue.endpoints;

export function isKindeScope(name: string): boolean {
  return KINDE.has(name);
}

/**
 * Whether `held` passes an endpoint that requires `scope` and also accepts `aliases`;
 * `legacy` says whether the client predates Kinde's catalogue, and is asked only when an
 * alias that is itself a Kinde name is what would decide.
 */
export async function scopePasses(held: ReadonlySet<string>, scope: string, aliases: readonly string[], legacy: () => Promise<boolean>): Promise<boolean> {
  if (held.has(scope)) return true;
  const present = aliases.filter((a) => held.has(a));
  if (present.length === 0) return false;
  if (present.some((a) => !isKindeScope(a))) return true;
  return legacy();
}

/** The README's table of endpoint → scope, rendered from the catalogue (test/unit/management-scopes.test.ts keeps it in step). */
export function scopesTable(): string {
  const rows = ENDPOINT_SCOPES.map((e) => {
    const also = (e.aliases ?? []).map((a) => `\`${a}\`${isKindeScope(a) ? " (clients before 0004)" : ""}`).join(", ");
    const own = isKindeScope(e.scope) ? "" : " (Latch's own)";
    return `| \`${e.method} /api/v1${e.path}\` | \`${e.scope}\`${own} | ${also || "–"} |`;
  });
  return ["| endpoint | scope | also accepted (older names) |", "|---|---|---|", ...rows].join("\n");
}
