-- Upstream identity providers (issue 15): connections per app, users' identities at them, and
-- the upstream sign-ins under way (schema/tables.ts documents each).
CREATE TABLE `connections` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`name` text NOT NULL,
	`display_name` text NOT NULL,
	`strategy` text NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`client_id` text NOT NULL,
	`secret` text,
	`options` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `connections_app_name` ON `connections` (`app_id`,`name`);--> statement-breakpoint
CREATE TABLE `upstream_states` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`binding_hash` text NOT NULL,
	`fields` text DEFAULT '[]' NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `upstream_states_app_expiry` ON `upstream_states` (`app_id`,`expires_at`);--> statement-breakpoint
CREATE TABLE `user_identities` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`connection_id` text NOT NULL,
	`subject` text,
	`email` text,
	`total_logins` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`last_login_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `user_identities_subject` ON `user_identities` (`app_id`,`connection_id`,`subject`);--> statement-breakpoint
CREATE INDEX `user_identities_user` ON `user_identities` (`app_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `user_identities_email` ON `user_identities` (`app_id`,`connection_id`,`email`);