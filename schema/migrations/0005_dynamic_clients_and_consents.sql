-- Dynamic client registration (RFC 7591/7592), the audience allow-list, consents and
-- initial access tokens (README "Using Latch as the authorization server of an MCP server").
-- Existing clients were all created by the operator API: first-party, no extra audiences.
ALTER TABLE `clients` ADD `registration` text DEFAULT 'operator' NOT NULL;--> statement-breakpoint
ALTER TABLE `clients` ADD `audiences` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `clients` ADD `metadata` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `clients` ADD `registration_token_hash` text;--> statement-breakpoint
ALTER TABLE `clients` ADD `last_used_at` integer;--> statement-breakpoint
CREATE TABLE `consents` (
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`client_id` text NOT NULL,
	`scopes` text DEFAULT '[]' NOT NULL,
	`resources` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `user_id`, `client_id`)
);--> statement-breakpoint
CREATE TABLE `registration_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`uses_left` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL
);--> statement-breakpoint
CREATE INDEX `registration_tokens_app` ON `registration_tokens` (`app_id`);
