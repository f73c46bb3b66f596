/**
 * WebhookOutbox: one Durable Object per app that drains the app's webhook outbox.
 *
 * Why a Durable Object alarm and not Cloudflare Queues: the outbox itself is D1 (rows
 * written by a trigger in the event's own transaction), so all delivery needs is a
 * durable timer. An alarm is that timer with no extra product to provision, it runs the
 * same in `wrangler dev` and in workerd tests (no local queue emulation to wire), and it
 * survives restarts: a scheduled alarm fires after eviction or a deploy, and a failed
 * alarm is retried by the runtime. One object per app also serialises an app's deliveries
 * so two wakes never send the same row twice at the same moment.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { deliverDue } from "./delivery";

export class WebhookOutbox extends DurableObject<Env> {
  /** Delivers now (via the alarm, so failures are retried by the runtime). */
  async wake(appId: string): Promise<void> {
    if ((await this.ctx.storage.get<string>("appId")) !== appId) await this.ctx.storage.put("appId", appId);
    const current = await this.ctx.storage.getAlarm();
    const now = Date.now();
    if (current === null || current > now) await this.ctx.storage.setAlarm(now);
  }

  override async alarm(): Promise<void> {
    const appId = await this.ctx.storage.get<string>("appId");
    if (!appId) return;
    const next = await deliverDue(this.env, appId);
    // Never sooner than a second from now: a row that is due again at once must not spin.
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now() + 1000));
  }
}
