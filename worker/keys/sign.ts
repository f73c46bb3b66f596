/**
 * Signing and publishing with an app's keys. Every JWT Latch issues (access tokens,
 * ID tokens, webhook bodies) goes through signJwt so the `kid` always names a key the
 * JWKS publishes.
 */
import { CompactSign, type JWK } from "jose";
import type { Env } from "../env";
import type { App } from "../tenancy/apps";
import { activeKey, publishedKeys, signerOf } from "./store";

const encoder = new TextEncoder();

/**
 * Signs `payload` with the app's active key. `header` adds parameters such as `typ`;
 * `alg` and `kid` always come from the key. Header order is fixed (alg, kid, then
 * extras) because the kid was chosen for how that header encodes (store.pickKid).
 */
export async function signJwt(env: Env, app: App, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const key = await activeKey(env, app);
  const { alg: _alg, kid: _kid, ...extras } = header;
  return new CompactSign(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...extras })
    .sign(await signerOf(env, key));
}

/** The JWKS document: public halves with `kty, kid, alg, use: "sig"`. */
export async function jwks(env: Env, app: App): Promise<{ keys: JWK[] }> {
  return { keys: (await publishedKeys(env, app)).map((k) => k.publicJwk) };
}
