/**
 * The retention purge (docs/storage.md "Retention"): what can no longer be used, by the
 * rules of ops/rules.ts. Each rule is one DELETE of at most PURGE_BATCH rows, walking an
 * index (migration 0008), so a run never reads a table whole and never holds D1 long; a
 * backlog drains over the following runs. Rules with a per-app setting join `apps` first
 * (CROSS JOIN keeps it the outer loop), so each app's rows are one index range.
 */
import type { Env } from "../env";
import { unusedDynamicClientRows } from "../identity/clients";
import { EXPIRED_SESSION_ROWS, idleKinveySessionRows } from "../identity/sessions";
import { DEFAULT_SETTINGS } from "../tenancy/settings";
import { runBoundedDelete } from "../util/bounded-delete";
import { DAY_MS, PURGE_BATCH, purgeCutoffs } from "./rules";

interface Rule {
  name: string;
  table: string;
  rows: string;
  params: unknown[];
}

const setting = (key: "event_retention_days" | "refresh_absolute_ttl" | "registration_client_ttl" | "kinvey_session_idle_seconds") => `coalesce(json_extract(a.settings, '$.${key}'), ${DEFAULT_SETTINGS[key]})`;

function rules(now: number): Rule[] {
  const cut = purgeCutoffs(now);
  const simple = (name: string, table: string, where: string, cutoff: number): Rule => ({ name, table, rows: `SELECT rowid FROM ${table} WHERE ${where}`, params: [cutoff] });
  const chainIndex = `?1 - ${setting("refresh_absolute_ttl")} * 1000`;
  const unusedClients = unusedDynamicClientRows(setting("registration_client_ttl"));
  return [
    simple("auth_codes", "auth_codes", "expires_at < ?", cut.authCodes),
    // SQL on sessions and clients stays in identity/, their stores.
    { name: "sessions", table: "sessions", rows: EXPIRED_SESSION_ROWS, params: [cut.sessions] },
    { name: "sessions.kinvey_idle", table: "sessions", rows: idleKinveySessionRows(setting("kinvey_session_idle_seconds")), params: [now] },
    simple("webauthn_challenges", "webauthn_challenges", "expires_at < ?", cut.challenges),
    simple("upstream_states", "upstream_states", "expires_at < ?", cut.challenges),
    simple("one_time_tokens", "one_time_tokens", "expires_at < ?", cut.oneTime),
    simple("rate_limits", "rate_limits", "window_start < ?", cut.rateLimits),
    simple("signing_keys", "signing_keys", "status = 'retired' AND expires_at < ?", cut.retiredKeys),
    simple("webhook_deliveries.delivered", "webhook_deliveries", "status = 'delivered' AND updated_at < ?", cut.delivered),
    simple("webhook_deliveries.dead", "webhook_deliveries", "status = 'dead' AND updated_at < ?", cut.dead),
    {
      name: "chains.ended",
      table: "chains",
      rows: `SELECT c.rowid FROM apps a CROSS JOIN chains c WHERE c.app_id = a.id AND c.ended_at < ${chainIndex}`,
      params: [now],
    },
    {
      name: "chains.expired",
      table: "chains",
      rows: `SELECT c.rowid FROM apps a CROSS JOIN chains c WHERE c.app_id = a.id AND c.ended_at IS NULL AND c.expires_at < ${chainIndex}`,
      params: [now],
    },
    { name: "consents.unused_clients", table: "consents", rows: unusedClients.consents, params: [now] },
    { name: "clients.unused_dynamic", table: "clients", rows: unusedClients.clients, params: [now] },
    {
      name: "events",
      table: "events",
      rows: `SELECT e.rowid FROM apps a CROSS JOIN events e WHERE e.app_id = a.id AND e.created_at < ?1 - ${setting("event_retention_days")} * ${DAY_MS}`,
      params: [now],
    },
  ];
}

export interface PurgeRun {
  /** Rows removed, by rule. */
  deleted: Record<string, number>;
  /** Rows D1 read to find them, by rule (what a run costs; never a whole table). */
  read: Record<string, number>;
  failed: { rule: string; error: string }[];
}

/** One bounded pass over every rule at `now`; a failing rule does not stop the others. */
export async function purge(env: Env, now: number, limit = PURGE_BATCH): Promise<PurgeRun> {
  const run: PurgeRun = { deleted: {}, read: {}, failed: [] };
  for (const rule of rules(now)) {
    try {
      const { deleted, read } = await runBoundedDelete(env.DB, rule.table, rule.rows, rule.params, limit);
      run.deleted[rule.name] = deleted;
      run.read[rule.name] = read;
    } catch (err) {
      run.failed.push({ rule: rule.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return run;
}
