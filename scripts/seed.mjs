// SQL that seeds the demo app idempotently (INSERT OR IGNORE): the app, its clients and
// a demo user. Hashes are made here in the formats the worker reads
// (worker/util/crypto.ts sha256Hex, worker/identity/password.ts scrypt).
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { scrypt } from "@noble/hashes/scrypt.js";
import { DEMO } from "./demo.mjs";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const q = (v) => (v === null || v === undefined ? "NULL" : typeof v === "number" ? String(v) : `'${String(v).replace(/'/g, "''")}'`);

function passwordHash(password) {
  const salt = randomBytes(16);
  const hash = scrypt(new TextEncoder().encode(password.normalize("NFC")), salt, { N: 16384, r: 8, p: 1, dkLen: 32 });
  return `scrypt$N=16384,r=8,p=1$${b64url(salt)}$${b64url(hash)}`;
}

const MANAGEMENT_SCOPES = JSON.parse(readFileSync(new URL("../worker/identity/management-scopes.json", import.meta.url), "utf8"));

export function seedSql(now = Date.now()) {
  const { app, user, clients } = DEMO;
  const lines = [
    `INSERT OR IGNORE INTO apps (id, slug, name, custom_domain, app_secret_hash, master_secret_hash, settings, created_at, updated_at) VALUES (${[app.id, app.slug, app.name, null, sha256(app.appSecret), sha256(app.masterSecret), JSON.stringify({ allowed_origins: ["http://127.0.0.1:3000", "http://localhost:3000"] }), now, now].map(q).join(", ")});`,
    `INSERT OR IGNORE INTO users (id, app_id, username, email, email_verified, password_hash, profile, created_at, updated_at) VALUES (${[user.id, app.id, user.username, user.email, 1, passwordHash(user.password), JSON.stringify({ name: user.name, given_name: user.given_name, family_name: user.family_name }), now, now].map(q).join(", ")});`,
  ];
  for (const c of clients) {
    const scopes = c.scopes === "ALL" ? MANAGEMENT_SCOPES : c.scopes;
    lines.push(
      `INSERT OR IGNORE INTO clients (id, app_id, name, type, secret_hash, redirect_uris, post_logout_redirect_uris, allowed_origins, scopes, created_at) VALUES (${[c.id, app.id, c.name, c.type, c.secret ? sha256(c.secret) : null, JSON.stringify(c.redirect_uris), JSON.stringify(c.post_logout_redirect_uris), JSON.stringify(c.allowed_origins), JSON.stringify(scopes), now].map(q).join(", ")});`,
    );
  }
  return lines.join("\n") + "\n";
}
