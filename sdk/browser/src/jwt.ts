/**
 * Verifies Latch access tokens in the browser with WebCrypto only (no dependency): the
 * signature against the issuer's JWKS (RS256, ES256 or EdDSA, Latch's algorithms), then
 * `typ: at+jwt`, `iss`, `aud` and `exp`. The key set is cached; an unknown `kid` (a key
 * rotated in since) refetches it, at most once per cooldown.
 */
import { fromBase64url } from "./base64url.js";
import type { LatchUser } from "./claims.js";
import { LatchError } from "./errors.js";

type Jwk = JsonWebKey & { kid?: string };

const ALGORITHMS: Record<string, { import: RsaHashedImportParams | EcKeyImportParams | Algorithm; verify: Algorithm | EcdsaParams }> = {
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, verify: { name: "RSASSA-PKCS1-v1_5" } },
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, verify: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams },
  EdDSA: { import: { name: "Ed25519" }, verify: { name: "Ed25519" } },
};

const REFETCH_COOLDOWN_MS = 30_000;
/** Tolerated difference between this device's clock and Latch's, for `exp` and `iat`. */
const CLOCK_TOLERANCE_S = 60;

const invalid = (why: string) => new LatchError("invalid_token", `The access token is not valid: ${why}.`);

export class KeySet {
  private keys: Promise<Jwk[]> | null = null;
  private fetchedAt = 0;
  private readonly imported = new Map<string, Promise<CryptoKey>>();

  constructor(
    private readonly uri: string,
    private readonly fetcher: typeof fetch,
  ) {}

  private load(reload: boolean): Promise<Jwk[]> {
    if (this.keys && !reload) return this.keys;
    this.fetchedAt = Date.now();
    const keys = this.fetcher(this.uri, { cache: reload ? "reload" : "default" })
      .then(async (res) => {
        if (!res.ok) throw new LatchError("server", `The JWKS answered ${res.status}.`, res.status);
        const body = (await res.json()) as { keys?: Jwk[] };
        return Array.isArray(body.keys) ? body.keys : [];
      })
      .catch((err) => {
        this.keys = null;
        throw err instanceof LatchError ? err : new LatchError("network", `The JWKS could not be fetched: ${String(err)}`);
      });
    this.keys = keys;
    return keys;
  }

  async key(kid: string, alg: string): Promise<CryptoKey> {
    let jwk = (await this.load(false)).find((k) => k.kid === kid);
    if (!jwk && Date.now() - this.fetchedAt >= REFETCH_COOLDOWN_MS) jwk = (await this.load(true)).find((k) => k.kid === kid);
    if (!jwk) throw invalid(`no key ${kid} in the issuer's JWKS`);
    if (jwk.alg !== undefined && jwk.alg !== alg) throw invalid("the key's algorithm is not the token's");
    const cacheKey = `${kid}:${alg}`;
    let key = this.imported.get(cacheKey);
    if (!key) {
      key = crypto.subtle.importKey("jwk", jwk, ALGORITHMS[alg]!.import, false, ["verify"]);
      this.imported.set(cacheKey, key);
      key.catch(() => this.imported.delete(cacheKey));
    }
    return key;
  }
}

function decodeJson(part: string): Record<string, unknown> {
  try {
    const value = JSON.parse(new TextDecoder().decode(fromBase64url(part))) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw invalid("it is not a JWT");
}

export interface Expected {
  issuer: string;
  audience: string;
  /** Seconds since the epoch. */
  now: number;
}

export async function verifyAccessToken(token: string, keys: KeySet, expected: Expected): Promise<LatchUser> {
  const parts = token.split(".");
  if (parts.length !== 3) throw invalid("it is not a signed JWT");
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  const alg = typeof header.alg === "string" ? header.alg : "";
  if (!(alg in ALGORITHMS)) throw invalid(`algorithm ${alg || "none"} is not accepted`);
  if (header.typ !== "at+jwt" && header.typ !== "application/at+jwt") throw invalid("it is not an access token (typ at+jwt)");
  if (typeof header.kid !== "string") throw invalid("it names no key");
  const key = await keys.key(header.kid, alg);
  const ok = await crypto.subtle.verify(ALGORITHMS[alg]!.verify, key, fromBase64url(s), new TextEncoder().encode(`${h}.${p}`));
  if (!ok) throw invalid("its signature does not verify");
  const claims = decodeJson(p);
  if (claims.iss !== expected.issuer) throw invalid(`its issuer is not ${expected.issuer}`);
  const aud = claims.aud;
  if (!(aud === expected.audience || (Array.isArray(aud) && aud.includes(expected.audience)))) throw invalid(`its audience is not ${expected.audience}`);
  if (typeof claims.exp !== "number" || claims.exp + CLOCK_TOLERANCE_S <= expected.now) throw invalid("it has expired");
  if (typeof claims.sub !== "string") throw invalid("it has no subject");
  return {
    ...claims,
    permissions: Array.isArray(claims.permissions) ? (claims.permissions as string[]) : [],
    roles: Array.isArray(claims.roles) ? (claims.roles as LatchUser["roles"]) : [],
    feature_flags: typeof claims.feature_flags === "object" && claims.feature_flags !== null ? (claims.feature_flags as LatchUser["feature_flags"]) : {},
  } as LatchUser;
}
