-- Account mail (issue 14): one-time links and codes, the events' sealed private part (the
-- mail message), and mail rows in the outbox beside webhook deliveries.
CREATE TABLE `one_time_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`kind` text NOT NULL,
	`user_id` text,
	`secret_hash` text NOT NULL,
	`binding` text NOT NULL,
	`subject` text NOT NULL,
	`address` text NOT NULL,
	`continue` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`consumed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `one_time_tokens_secret` ON `one_time_tokens` (`secret_hash`);--> statement-breakpoint
CREATE INDEX `one_time_tokens_subject` ON `one_time_tokens` (`app_id`,`kind`,`subject`,`created_at`);--> statement-breakpoint
CREATE INDEX `one_time_tokens_address` ON `one_time_tokens` (`app_id`,`kind`,`address`,`created_at`);--> statement-breakpoint
CREATE INDEX `one_time_tokens_user` ON `one_time_tokens` (`app_id`,`user_id`);--> statement-breakpoint
ALTER TABLE `events` ADD `sealed` text;--> statement-breakpoint
-- Existing rows (and every row the webhook trigger writes) are webhook deliveries.
ALTER TABLE `webhook_deliveries` ADD `channel` text DEFAULT 'webhook' NOT NULL;
