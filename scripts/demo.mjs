// The demo app that `npm start` seeds (documented in the README). Local development only:
// these secrets are public.
export const DEMO = {
  app: { id: "kid_demo", slug: "demo", name: "Latch Demo", appSecret: "demoappsecret0000000000000000000000000000", masterSecret: "demomastersecret00000000000000000000000" },
  user: { id: "0000000000000000000demo01", username: "demo", email: "demo@example.com", password: "demo-password", name: "Demo User", given_name: "Demo", family_name: "User" },
  clients: [
    { id: "demopublicclient0000000000000000", name: "Demo SPA / native (public, PKCE)", type: "public", secret: null,
      redirect_uris: ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback", "com.example.demo:/callback"],
      post_logout_redirect_uris: ["http://127.0.0.1:3000/", "http://localhost:3000/"], allowed_origins: ["http://127.0.0.1:3000", "http://localhost:3000"], scopes: [] },
    { id: "democonfidentialclient0000000000", name: "Demo web backend (confidential)", type: "confidential",
      secret: "DemoConfidentialSecret000000000000000000000000000a",
      redirect_uris: ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback"], post_logout_redirect_uris: ["http://127.0.0.1:3000/"], allowed_origins: [], scopes: [] },
    { id: "demom2mclient0000000000000000000", name: "Demo service (m2m)", type: "m2m",
      secret: "DemoMachineSecret00000000000000000000000000000000a", redirect_uris: [], post_logout_redirect_uris: [], allowed_origins: [], scopes: "ALL" },
  ],
};
