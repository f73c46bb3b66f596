/** The issuer kiavi-auth.json names (worker/browser/well-known.ts): what makes the mode flip work for an SDK. */
import { describe, expect, it } from "vitest";
import { documentIssuer } from "../../worker/browser/well-known";

describe("kiavi-auth.json: the issuer it names", () => {
  it("the request's host without a custom domain; auth.{custom domain} with one, wherever it is read", () => {
    expect(documentIssuer({ customDomain: null }, "acme.latch.example")).toBe("https://acme.latch.example");
    expect(documentIssuer({ customDomain: "acme.com" }, "acme.latch.example")).toBe("https://auth.acme.com");
    expect(documentIssuer({ customDomain: "acme.com" }, "auth.acme.com")).toBe("https://auth.acme.com");
    // Locally the port is the one the browser used.
    expect(documentIssuer({ customDomain: "acme.localhost" }, "acme.localhost:8787")).toBe("http://auth.acme.localhost:8787");
    expect(documentIssuer({ customDomain: null }, "demo.localhost:8787")).toBe("http://demo.localhost:8787");
  });
});
