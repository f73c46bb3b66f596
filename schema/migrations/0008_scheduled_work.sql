-- Scheduled work (issue 16, worker/ops): when a signing key began signing, for the rotation
-- schedule, and the indexes the retention purge walks so that no purge scans a table.
ALTER TABLE `signing_keys` ADD `activated_at` integer;--> statement-breakpoint
UPDATE `signing_keys` SET `activated_at` = `created_at` WHERE `status` = 'active';--> statement-breakpoint
CREATE INDEX `signing_keys_rotation` ON `signing_keys` (`status`,`activated_at`);--> statement-breakpoint
CREATE INDEX `consents_client` ON `consents` (`app_id`,`client_id`);--> statement-breakpoint
CREATE INDEX `sessions_expiry` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `auth_codes_expiry` ON `auth_codes` (`expires_at`);--> statement-breakpoint
CREATE INDEX `chains_app_ended` ON `chains` (`app_id`,`ended_at`);--> statement-breakpoint
CREATE INDEX `chains_app_expiry` ON `chains` (`app_id`,`expires_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_done` ON `webhook_deliveries` (`status`,`updated_at`);--> statement-breakpoint
CREATE INDEX `webauthn_challenges_expiry` ON `webauthn_challenges` (`expires_at`);--> statement-breakpoint
CREATE INDEX `one_time_tokens_expiry` ON `one_time_tokens` (`expires_at`);--> statement-breakpoint
CREATE INDEX `rate_limits_window` ON `rate_limits` (`window_start`);--> statement-breakpoint
CREATE INDEX `upstream_states_expiry` ON `upstream_states` (`expires_at`);
