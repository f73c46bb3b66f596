/**
 * Scheduled key rotation (worker/keys/rotation.ts through the exported `scheduled` handler),
 * driven by an injected clock: the cron's scheduledTime.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { clearKeyCache, retirementMs } from "../../worker/keys/store";
import { ROTATIONS_PER_RUN } from "../../worker/keys/rotation";
import { DEFAULT_SETTINGS } from "../../worker/tenancy/settings";
import type { App } from "../../worker/tenancy/apps";
import { createApp } from "../helpers";
import { addClient, decodeJwt, newUser, oauthApp, tokensFor, type OAuthTestApp } from "../oauth/helpers";
import { DAY, runCron } from "./helpers";

type Jwk = Record<string, string>;
const jwksOf = async (origin: string) => {
  const { keys } = await (await SELF.fetch(`${origin}/.well-known/jwks.json`)).json<{ keys: Jwk[] }>();
  return keys.map((k) => k.kid).sort();
};
const userinfo = (app: OAuthTestApp, token: string) => SELF.fetch(`${app.origin}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${token}` } });

interface KeyRow {
  kid: string;
  status: string;
  activated_at: number | null;
  expires_at: number | null;
}
const keysOf = async (appId: string) =>
  (await env.DB.prepare("SELECT kid, status, activated_at, expires_at FROM signing_keys WHERE app_id = ? ORDER BY created_at").bind(appId).all<KeyRow>()).results;
const activeOf = async (appId: string) => (await keysOf(appId)).find((k) => k.status === "active")!;

describe("scheduled key rotation", () => {
  it("rotates each app on its own schedule and keeps the retired key in the JWKS until its last token has expired", async () => {
    const app = await oauthApp(); // default: every 90 days
    const weekly = await oauthApp({ settings: { signing_key_rotation_days: 7 } });
    const never = await oauthApp({ settings: { signing_key_rotation_days: 0 } });
    const client = await addClient(app);
    const user = await newUser(app);
    const before = await tokensFor(app, client, user);
    const oldKid = decodeJwt(before.access_token).header.kid as string;
    const published = await jwksOf(app.origin);
    const nextKid = published.find((k) => k !== oldKid)!;
    await jwksOf(weekly.origin);
    await jwksOf(never.origin);
    const activated = (await activeOf(app.id)).activated_at!;
    expect(activated).toBeGreaterThan(Date.now() - 60_000);
    const weeklyKid = (await activeOf(weekly.id)).kid;
    const neverKid = (await activeOf(never.id)).kid;

    // A millisecond before the 90 days: only the weekly app rotates.
    const due = activated + DEFAULT_SETTINGS.signing_key_rotation_days * DAY;
    await runCron(due - 1);
    expect((await activeOf(app.id)).kid).toBe(oldKid);
    expect((await activeOf(weekly.id)).kid).not.toBe(weeklyKid);
    expect(await jwksOf(app.origin)).toEqual(published);

    // At 90 days the published next key signs, a new next is published, the old one retires.
    await runCron(due);
    const keys = await keysOf(app.id);
    const active = keys.find((k) => k.status === "active")!;
    const retired = keys.find((k) => k.status === "retired")!;
    const fresh = keys.find((k) => k.status === "next")!;
    expect(active).toMatchObject({ kid: nextKid, activated_at: due });
    expect(retired.kid).toBe(oldKid);
    expect(fresh.kid).not.toBe(oldKid);
    expect(fresh.kid).not.toBe(nextKid);
    const appRecord = { settings: DEFAULT_SETTINGS } as App;
    expect(retired.expires_at).toBe(due + retirementMs(appRecord));
    expect(retired.expires_at! - due).toBeGreaterThan(DEFAULT_SETTINGS.access_token_ttl * 1000);
    expect(await jwksOf(app.origin)).toEqual([oldKid, nextKid, fresh.kid].sort());
    expect((await activeOf(never.id)).kid).toBe(neverKid);

    // New tokens carry the promoted key; tokens of the retired key still verify.
    const after = await tokensFor(app, client, user);
    expect(decodeJwt(after.access_token).header.kid).toBe(nextKid);
    expect((await userinfo(app, before.access_token)).status).toBe(200);
    expect((await userinfo(app, after.access_token)).status).toBe(200);

    // The retired key is kept by every run until its last token has expired…
    await runCron(retired.expires_at! - 1);
    clearKeyCache(app.id);
    expect(await jwksOf(app.origin)).toContain(oldKid);

    // …and dropped by the first run after; no second rotation is due yet.
    await runCron(retired.expires_at! + 1);
    clearKeyCache(app.id);
    expect(await jwksOf(app.origin)).toEqual([nextKid, fresh.kid].sort());
    expect((await keysOf(app.id)).map((k) => k.kid)).not.toContain(oldKid);
    expect((await activeOf(app.id)).kid).toBe(nextKid);
  });

  it(`rotates at most ${ROTATIONS_PER_RUN} apps per run, oldest key first; the rest on the next run`, async () => {
    const apps = [];
    for (let i = 0; i <= ROTATIONS_PER_RUN; i++) {
      const app = await createApp({ settings: { signing_key_rotation_days: 1 } });
      await jwksOf(`http://${app.slug}.localhost:8787`);
      apps.push(app);
    }
    const ids = apps.map((a) => a.id);
    const retiredCount = async () =>
      (await env.DB.prepare(`SELECT count(*) AS n FROM signing_keys WHERE status = 'retired' AND app_id IN (${ids.map(() => "?").join(",")})`).bind(...ids).first<{ n: number }>())!.n;
    const last = (await activeOf(apps.at(-1)!.id)).activated_at!;
    const at = last + 2 * DAY;

    await runCron(at);
    expect(await retiredCount()).toBe(ROTATIONS_PER_RUN);
    expect((await keysOf(apps.at(-1)!.id)).some((k) => k.status === "retired")).toBe(false);

    await runCron(at + 1);
    expect(await retiredCount()).toBe(ROTATIONS_PER_RUN + 1);
    expect((await activeOf(apps.at(-1)!.id)).activated_at).toBe(at + 1);
  });
});
