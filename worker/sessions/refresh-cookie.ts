/**
 * Exchange mode inside `/oauth2/token` (SPEC §6): a browser (an allow-listed `Origin`) gets
 * its refresh token in the partitioned refresh cookie instead of the JSON body, and may
 * refresh with that cookie and no `refresh_token` in the body, which is Kinde's cookie
 * refresh (its browser SDKs look for the `_kbrte` marker first). Native clients send no
 * `Origin` and keep the token in the body.
 */
import type { Context } from "hono";
import type { App } from "../tenancy/apps";
import { kindeMarkerCookie, parseRefreshCookieValue, readCookie, refreshCookie, refreshCookieName, refreshCookieValue, type CookieSite } from "./cookies";

/** The refresh token in the request's refresh cookie, or null. */
export function refreshTokenFromCookie(cookieHeader: string | undefined, site: CookieSite): string | null {
  const raw = readCookie(cookieHeader, refreshCookieName(site));
  return raw ? (parseRefreshCookieValue(raw)?.refreshToken ?? null) : null;
}

/**
 * Puts `refresh_token` of a token response into the cookie and sets Kinde's marker; `keep`
 * leaves it in the body as well. A cookie-delivery client's token moves (the page never
 * sees it); a body-delivery client's is copied, because Kinde's SPA SDK, everywhere but on
 * localhost, reads the token from the body after the code exchange and then refreshes with
 * `credentials: "include"` and no `refresh_token`, expecting the cookie. The copy exposes
 * nothing the body did not already give the page, and a fetch without credentials (as
 * oidc-client-ts makes) does not store it at all.
 */
export function putRefreshTokenInCookie(c: Context, app: App, host: string, clientId: string, body: Record<string, unknown>, keep: boolean): void {
  if (typeof body.refresh_token !== "string") return;
  const site: CookieSite = { app, host };
  const ttl = app.settings.refresh_token_ttl;
  c.header("Set-Cookie", refreshCookie(site, refreshCookieValue(clientId, body.refresh_token), ttl), { append: true });
  c.header("Set-Cookie", kindeMarkerCookie(site, ttl), { append: true });
  if (!keep) delete body.refresh_token;
}
