/** The app's JWKS (SPEC §4): next, active and not-yet-expired retired keys; cacheable. */
import type { Handler } from "hono";
import { jwks } from "../keys/sign";
import type { OAuthEnv } from "./context";

/** Short enough that a rotation's next key is in every cache before it signs. */
export const JWKS_MAX_AGE = 300;

export const jwksEndpoint: Handler<OAuthEnv> = async (c) =>
  c.json(await jwks(c.env, c.var.app), 200, { "Cache-Control": `public, max-age=${JWKS_MAX_AGE}` });
