/** The settings spec (worker/tenancy/settings.ts) is the one source of defaults, validation and the README table. */
import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { DEFAULT_SETTINGS, mergeSettings, parseStoredSettings, SETTINGS, SettingsError, settingsTable } from "../../worker/tenancy/settings";

describe("settings", () => {
  it("every setting has a default that its own rule accepts", () => {
    for (const [key, spec] of Object.entries(SETTINGS)) {
      expect(DEFAULT_SETTINGS[key as keyof typeof DEFAULT_SETTINGS]).toEqual(spec.default);
      expect(mergeSettings(DEFAULT_SETTINGS, { [key]: spec.default })).toEqual(DEFAULT_SETTINGS);
      expect(spec.description.length).toBeGreaterThan(10);
      expect(spec.affects.length).toBeGreaterThan(3);
    }
  });

  it("refuses unknown keys, wrong types and out-of-range values, naming the setting", () => {
    expect(() => mergeSettings(DEFAULT_SETTINGS, { nope: 1 })).toThrow(/unknown setting: nope/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { access_token_ttl: "900" })).toThrow(/access_token_ttl/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { max_chains_per_user: 0 })).toThrow(SettingsError);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { auth_policy: "sometimes" })).toThrow(/auth_policy must be one of/);
    expect(() => mergeSettings(DEFAULT_SETTINGS, { allowed_origins: ["https://a.example/path"] })).toThrow(/not an origin/);
  });

  it("stored settings from an older version get today's defaults for what they lack", () => {
    expect(parseStoredSettings('{"access_token_ttl": 60}')).toEqual({ ...DEFAULT_SETTINGS, access_token_ttl: 60 });
  });

  it("the README's settings table is the one the spec renders", () => {
    expect(readme).toContain(settingsTable());
  });
});
