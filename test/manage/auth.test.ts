import { describe, expect, it } from "vitest";
import { appAuth, basic, createApp } from "../helpers";
import { api, apiError } from "./helpers";

describe("management API authentication", () => {
  it("refuses a request without credentials with 401 in Kinde's envelope", async () => {
    const app = await createApp();
    expect(await apiError(api(app, "/users", { auth: null }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });

  it("refuses app credentials, a wrong master secret and another app's master secret", async () => {
    const app = await createApp();
    const other = await createApp();
    expect(await apiError(api(app, "/users", { auth: appAuth(app) }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(await apiError(api(app, "/users", { auth: basic(app.id, "wrong") }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(await apiError(api(app, "/users", { auth: basic(other.id, other.master_secret) }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(await apiError(api(app, "/users", { auth: "Basic !!!" }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });

  it("refuses a bearer token that is not a valid access token", async () => {
    const app = await createApp();
    expect(await apiError(api(app, "/users", { auth: "Bearer not-a-jwt" }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(await apiError(api(app, "/users", { auth: "Token abc" }))).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
  });

  it("accepts master credentials and answers unknown routes with ROUTE_NOT_FOUND", async () => {
    const app = await createApp();
    expect((await api(app, "/users")).status).toBe(200);
    expect(await apiError(api(app, "/nope"))).toMatchObject({ status: 404, code: "ROUTE_NOT_FOUND" });
  });
});
