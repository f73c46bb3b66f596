-- The webhook outbox: every event enqueues one delivery per subscribed webhook inside the
-- same statement (hence the same D1 batch/transaction) as the event itself, whoever wrote it.
-- Hand-written (a drizzle "custom" migration): drizzle cannot express triggers.
CREATE TRIGGER `events_webhook_outbox` AFTER INSERT ON `events`
BEGIN
  INSERT INTO `webhook_deliveries` (`id`, `app_id`, `webhook_id`, `event_id`, `status`, `attempts`, `next_attempt_at`, `created_at`, `updated_at`)
  SELECT 'whd_' || lower(hex(randomblob(12))), NEW.`app_id`, w.`id`, NEW.`id`, 'pending', 0, NEW.`created_at`, NEW.`created_at`, NEW.`created_at`
    FROM `webhooks` w
   WHERE w.`app_id` = NEW.`app_id`
     AND EXISTS (SELECT 1 FROM json_each(w.`event_types`) WHERE json_each.`value` = NEW.`type`);
END;
