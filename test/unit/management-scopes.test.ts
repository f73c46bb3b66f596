/** Kinde's management scope catalogue (worker/identity/management-scopes.ts): the rules and the README table. */
import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import catalogue from "../../worker/identity/management-scopes.json";
import { ACCEPTED_SCOPES, ENDPOINT_SCOPES, isKindeScope, MANAGEMENT_SCOPES, scopePasses, scopesTable } from "../../worker/identity/management-scopes";

const never = async () => {
  throw new Error("the client's age was asked for when it could not matter");
};

describe("management scopes", () => {
  it("Kinde's documented names for the scopes the issue names, each on its endpoint", () => {
    const scopeOf = (method: string, path: string) => ENDPOINT_SCOPES.find((e) => e.method === method && e.path === path)?.scope;
    expect(scopeOf("POST", "/users/{user_id}/refresh_claims")).toBe("update:user_refresh_claims");
    expect(scopeOf("GET", "/users/{user_id}/sessions")).toBe("read:user_sessions");
    expect(scopeOf("DELETE", "/users/{user_id}/sessions")).toBe("delete:user_sessions");
    expect(scopeOf("PUT", "/users/{user_id}/password")).toBe("update:user_passwords");
    for (const name of ["read:user_identities", "create:user_identities", "update:identities", "delete:identities", "update:user_refresh_claims"]) {
      expect(isKindeScope(name), name).toBe(true);
      expect(ACCEPTED_SCOPES.has(name), name).toBe(true);
    }
  });

  it("every endpoint's scope is Kinde's or listed as Latch's own; aliases are accepted names", () => {
    for (const e of ENDPOINT_SCOPES) {
      expect(isKindeScope(e.scope) || catalogue.latch.includes(e.scope), e.scope).toBe(true);
      for (const a of e.aliases ?? []) expect(ACCEPTED_SCOPES.has(a), a).toBe(true);
    }
    expect(new Set(MANAGEMENT_SCOPES)).toEqual(new Set(ENDPOINT_SCOPES.map((e) => e.scope)));
  });

  it("the scope passes; a non-Kinde alias passes for any client; a Kinde-name alias only for a legacy client", async () => {
    expect(await scopePasses(new Set(["update:user_passwords"]), "update:user_passwords", ["update:users"], never)).toBe(true);
    expect(await scopePasses(new Set(["read:sessions"]), "read:user_sessions", ["read:sessions"], never)).toBe(true);
    expect(await scopePasses(new Set(["read:users"]), "read:user_sessions", ["read:sessions"], never)).toBe(false);
    expect(await scopePasses(new Set(["update:users"]), "update:user_passwords", ["update:users"], async () => false)).toBe(false);
    expect(await scopePasses(new Set(["update:users"]), "update:user_passwords", ["update:users"], async () => true)).toBe(true);
    expect(await scopePasses(new Set(), "read:users", [], never)).toBe(false);
  });

  it("the README's scope table is the one the catalogue renders", () => {
    expect(readme).toContain(scopesTable());
  });
});
