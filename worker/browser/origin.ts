/**
 * The pure rules that decide a browser request from its `Origin` (classified against the
 * app's allow-list, tenancy/origins.ts) and Fetch Metadata (`Sec-Fetch-Site`).
 */
/** How the request's origin relates to the app. */
export type OriginKind =
  /** No `Origin` header: a same-origin GET, or not a browser. */
  | "absent"
  /** The auth host itself (its own hosted pages). */
  | "issuer"
  /** An exact entry of the allow-list. */
  | "allowed"
  /** Anything else, including the opaque `null`. */
  | "foreign";

export interface RequestFacts {
  method: string;
  origin: OriginKind;
  /** `Sec-Fetch-Site`, when the browser sent it. */
  fetchSite: string | null;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The admission rule of the session, token and refresh endpoints:
 * - a state-changing request needs an `Origin` that is the issuer or allow-listed;
 * - any request with a foreign `Origin` is refused (it could only be a page we do not trust);
 * - when Fetch Metadata says another site's or sibling origin's page sent the request, it must
 *   carry an allow-listed `Origin`. Browsers omit `Origin` on `no-cors` GETs (`<script>`,
 *   `<img>`) and on navigations, so this refuses those loads of these endpoints by other pages.
 */
export function admit(f: RequestFacts): Verdict {
  if (f.origin === "foreign") return { ok: false, reason: "The request's Origin is not allowed for this app." };
  if (!SAFE_METHODS.has(f.method) && f.origin === "absent") {
    return { ok: false, reason: "A state-changing request needs an Origin header." };
  }
  if (f.fetchSite === "same-site" || f.fetchSite === "cross-site") {
    if (f.origin !== "allowed" && f.origin !== "issuer") return { ok: false, reason: "Requests from another page must come from an allowed Origin." };
  }
  return { ok: true };
}
