/** Shared fixtures for the chain tests: a fresh app (with chosen settings) and a user in it. */
import { env } from "cloudflare:test";
import type { ChainGrant } from "../../worker/chains/api";
import { appById, clearAppCache, type App } from "../../worker/tenancy/apps";
import { createApp, signup, type SignedUp, type TestApp } from "../helpers";

export interface Fixture {
  test: TestApp;
  app: App;
  user: SignedUp;
}

export async function fixture(settings: Record<string, unknown> = {}): Promise<Fixture> {
  const test = await createApp({ settings });
  clearAppCache();
  const app = await appById(env, test.id);
  if (!app) throw new Error("app not found");
  return { test, app, user: await signup(test) };
}

export function grant(overrides: Partial<ChainGrant> = {}): ChainGrant {
  return {
    clientId: "client-a",
    sessionId: null,
    scope: "openid offline",
    authTime: Math.floor(Date.now() / 1000),
    authMethod: "password",
    claims: { email: "a@example.com", roles: [] },
    ...overrides,
  };
}
