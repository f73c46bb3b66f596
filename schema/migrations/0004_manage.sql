-- Management API and webhook outbox (issue 7).
-- Who caused an event: 'api' (management API), 'user' (sign-in, self-service), 'admin'.
ALTER TABLE `events` ADD `source` text DEFAULT 'user' NOT NULL;--> statement-breakpoint
CREATE INDEX `webhook_deliveries_app_due` ON `webhook_deliveries` (`app_id`,`status`,`next_attempt_at`);--> statement-breakpoint
-- The outbox: every event enqueues one delivery per subscribed webhook inside the same
-- statement (hence the same D1 batch/transaction) as the event itself, whoever wrote it.
-- Hand-written on purpose: drizzle cannot express triggers, keep it when squashing.
CREATE TRIGGER `events_webhook_outbox` AFTER INSERT ON `events`
BEGIN
  INSERT INTO `webhook_deliveries` (`id`, `app_id`, `webhook_id`, `event_id`, `status`, `attempts`, `next_attempt_at`, `created_at`, `updated_at`)
  SELECT 'whd_' || lower(hex(randomblob(12))), NEW.`app_id`, w.`id`, NEW.`id`, 'pending', 0, NEW.`created_at`, NEW.`created_at`, NEW.`created_at`
    FROM `webhooks` w
   WHERE w.`app_id` = NEW.`app_id`
     AND EXISTS (SELECT 1 FROM json_each(w.`event_types`) WHERE json_each.`value` = NEW.`type`);
END;
