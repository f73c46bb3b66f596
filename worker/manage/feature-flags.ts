/**
 * Feature flags (Kinde paths): app-wide definitions with a default value. Per-user
 * overrides live in user-access.ts. Changing a default does not fan out to every user's
 * refresh chain (Kinde does not either); refresh_claims covers the users that must see it
 * at once. Deleting a flag invalidates the users who had an override of it.
 */
import { Hono } from "hono";
import { readJsonObject } from "../http/body";
import { ApiError } from "../http/errors";
import { bumpClaimsStatement, invalidateClaims } from "../identity/claim-holders";
import { bad, need, ok, onlyKeys, text, type ManageContext, type ManageEnv } from "./context";
import { conflictOnKey, descriptionOf, keyOf } from "./keyed";

export const featureFlagRoutes = new Hono<ManageEnv>();

/** Kinde's wire types and the schema's one-letter codes (also the `t` of the claim). */
export const FLAG_TYPES = { str: "s", int: "i", bool: "b" } as const;
export type WireFlagType = keyof typeof FLAG_TYPES;
const WIRE_OF = { s: "str", i: "int", b: "bool" } as const;

export interface FlagRow {
  app_id: string;
  key: string;
  name: string;
  type: "s" | "i" | "b";
  default_value: string;
  description: string | null;
  created_at: number;
}

/** Validates a flag value for its type; values are stored as text. Pure. */
export function flagValue(type: FlagRow["type"], value: unknown): string {
  const v = typeof value === "boolean" || typeof value === "number" ? String(value) : value;
  if (typeof v !== "string") bad("value must be a string.");
  if (type === "b" && v !== "true" && v !== "false") bad("A bool flag's value must be true or false.");
  if (type === "i" && !/^-?\d{1,15}$/.test(v)) bad("An int flag's value must be an integer.");
  if (type === "s" && v.length > 1024) bad("A str flag's value must be at most 1024 characters.");
  return v;
}

export function wireType(type: FlagRow["type"]): WireFlagType {
  return WIRE_OF[type];
}

function flagType(value: unknown): FlagRow["type"] {
  if (typeof value !== "string" || !Object.hasOwn(FLAG_TYPES, value)) bad("type must be str, int or bool.");
  return FLAG_TYPES[value as WireFlagType];
}

export async function loadFlag(c: ManageContext, key: string): Promise<FlagRow> {
  const row = await c.env.DB.prepare("SELECT * FROM feature_flags WHERE app_id = ? AND key = ?").bind(c.var.app.id, key).first<FlagRow>();
  if (!row) throw new ApiError("FEATURE_FLAG_NOT_FOUND", `No feature flag with key ${key}.`);
  return row;
}

function overrideLevel(value: unknown): void {
  if (value !== undefined && value !== "env" && value !== "usr") bad("allow_override_level must be env or usr (organizations are not supported).");
}

featureFlagRoutes.post("/feature_flags", need("create:feature_flags"), async (c) => {
  const body = await readJsonObject(c);
  onlyKeys(body, ["name", "description", "key", "type", "allow_override_level", "default_value"]);
  overrideLevel(body.allow_override_level);
  const key = keyOf(body, true)!;
  const name = text(body, "name", 256, true)!;
  const type = flagType(body.type);
  const value = flagValue(type, body.default_value);
  const description = descriptionOf(body) ?? null;
  try {
    await c.env.DB.prepare("INSERT INTO feature_flags (app_id, key, name, type, default_value, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(c.var.app.id, key, name, type, value, description, Date.now())
      .run();
  } catch (err) {
    conflictOnKey(err, "feature_flag");
  }
  return ok(c, { feature_flag: { key } }, 201, "FEATURE_FLAG_CREATED", "Feature flag successfully created");
});

/** Kinde sends the whole definition as query parameters. */
featureFlagRoutes.put("/feature_flags/:key", need("update:feature_flags"), async (c) => {
  const row = await loadFlag(c, c.req.param("key"));
  const q = c.req.query();
  onlyKeys(q, ["name", "description", "type", "allow_override_level", "default_value"]);
  overrideLevel(q.allow_override_level);
  const name = text(q, "name", 256) ?? row.name;
  const type = q.type !== undefined ? flagType(q.type) : row.type;
  if (type !== row.type) bad("A flag's type cannot change; delete and recreate it.");
  const value = q.default_value !== undefined ? flagValue(type, q.default_value) : row.default_value;
  const description = q.description !== undefined ? (descriptionOf(q) ?? null) : row.description;
  await c.env.DB.prepare("UPDATE feature_flags SET name = ?, default_value = ?, description = ? WHERE app_id = ? AND key = ?")
    .bind(name, value, description, row.app_id, row.key)
    .run();
  return ok(c, {}, 200, "FEATURE_FLAG_UPDATED", "Feature flag successfully updated");
});

featureFlagRoutes.delete("/feature_flags/:key", need("delete:feature_flags"), async (c) => {
  const row = await loadFlag(c, c.req.param("key"));
  const app = c.var.app;
  const { results } = await c.env.DB.prepare("SELECT user_id FROM user_feature_flags WHERE app_id = ? AND key = ?").bind(app.id, row.key).all<{ user_id: string }>();
  await c.env.DB.batch([
    bumpClaimsStatement(c.env, app.id, "id IN (SELECT user_id FROM user_feature_flags WHERE app_id = ?2 AND key = ?3)", row.key),
    c.env.DB.prepare("DELETE FROM user_feature_flags WHERE app_id = ? AND key = ?").bind(app.id, row.key),
    c.env.DB.prepare("DELETE FROM feature_flags WHERE app_id = ? AND key = ?").bind(app.id, row.key),
  ]);
  await invalidateClaims(c.env, app.id, results.map((r) => r.user_id));
  return ok(c, {}, 200, "FEATURE_FLAG_DELETED", "Feature flag successfully deleted");
});

/** Every flag with its app-wide value (Kinde's environment flags). */
featureFlagRoutes.get("/environment/feature_flags", need("read:environment_feature_flags", "read:feature_flags"), async (c) => {
  const { results } = await c.env.DB.prepare("SELECT * FROM feature_flags WHERE app_id = ? ORDER BY key").bind(c.var.app.id).all<FlagRow>();
  return ok(c, { feature_flags: Object.fromEntries(results.map((f) => [f.key, { type: wireType(f.type), value: f.default_value }])) });
});

/** Latch addition: the definitions themselves. */
featureFlagRoutes.get("/feature_flags", need("read:feature_flags"), async (c) => {
  const { results } = await c.env.DB.prepare("SELECT * FROM feature_flags WHERE app_id = ? ORDER BY key").bind(c.var.app.id).all<FlagRow>();
  return ok(c, {
    feature_flags: results.map((f) => ({ key: f.key, name: f.name, type: wireType(f.type), default_value: f.default_value, description: f.description })),
  });
});
