CREATE TABLE `apps` (
	`id` text PRIMARY KEY NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`custom_domain` text,
	`app_secret_hash` text NOT NULL,
	`master_secret_hash` text NOT NULL,
	`settings` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `apps_slug` ON `apps` (`slug`);--> statement-breakpoint
CREATE UNIQUE INDEX `apps_custom_domain` ON `apps` (`custom_domain`);--> statement-breakpoint
CREATE TABLE `auth_codes` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`client_id` text NOT NULL,
	`user_id` text NOT NULL,
	`session_id` text NOT NULL,
	`redirect_uri` text NOT NULL,
	`code_challenge` text,
	`scope` text NOT NULL,
	`nonce` text,
	`audience` text DEFAULT '[]' NOT NULL,
	`auth_time` integer NOT NULL,
	`auth_method` text NOT NULL,
	`issued` text,
	`expires_at` integer NOT NULL,
	`consumed_at` integer
);
--> statement-breakpoint
CREATE TABLE `chains` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`client_id` text NOT NULL,
	`session_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer
);
--> statement-breakpoint
CREATE INDEX `chains_user` ON `chains` (`app_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `chains_session` ON `chains` (`session_id`);--> statement-breakpoint
CREATE TABLE `clients` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`secret_hash` text,
	`redirect_uris` text DEFAULT '[]' NOT NULL,
	`post_logout_redirect_uris` text DEFAULT '[]' NOT NULL,
	`allowed_origins` text DEFAULT '[]' NOT NULL,
	`scopes` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `clients_app` ON `clients` (`app_id`);--> statement-breakpoint
CREATE TABLE `collections` (
	`app_id` text NOT NULL,
	`name` text NOT NULL,
	`level` text DEFAULT 'shared' NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `name`)
);
--> statement-breakpoint
CREATE TABLE `entities` (
	`app_id` text NOT NULL,
	`collection` text NOT NULL,
	`id` text NOT NULL,
	`creator` text NOT NULL,
	`gr` integer,
	`gw` integer,
	`acl` text DEFAULT '{}' NOT NULL,
	`data` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `collection`, `id`)
);
--> statement-breakpoint
CREATE INDEX `entities_creator` ON `entities` (`app_id`,`collection`,`creator`);--> statement-breakpoint
CREATE INDEX `entities_gr` ON `entities` (`app_id`,`collection`,`gr`);--> statement-breakpoint
CREATE INDEX `entities_gw` ON `entities` (`app_id`,`collection`,`gw`);--> statement-breakpoint
CREATE TABLE `entity_grants` (
	`app_id` text NOT NULL,
	`collection` text NOT NULL,
	`entity_id` text NOT NULL,
	`kind` text NOT NULL,
	`right` text NOT NULL,
	`principal_id` text NOT NULL,
	PRIMARY KEY(`app_id`, `collection`, `kind`, `right`, `principal_id`, `entity_id`)
);
--> statement-breakpoint
CREATE INDEX `entity_grants_entity` ON `entity_grants` (`app_id`,`collection`,`entity_id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`type` text NOT NULL,
	`user_id` text,
	`data` text DEFAULT '{}' NOT NULL,
	`source` text DEFAULT 'user' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_app_time` ON `events` (`app_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `events_app_type` ON `events` (`app_id`,`type`,`created_at`);--> statement-breakpoint
CREATE INDEX `events_app_user` ON `events` (`app_id`,`user_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `feature_flags` (
	`app_id` text NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`default_value` text NOT NULL,
	`description` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `group_children` (
	`app_id` text NOT NULL,
	`parent_id` text NOT NULL,
	`child_id` text NOT NULL,
	PRIMARY KEY(`app_id`, `parent_id`, `child_id`)
);
--> statement-breakpoint
CREATE INDEX `group_children_child` ON `group_children` (`app_id`,`child_id`);--> statement-breakpoint
CREATE TABLE `group_users` (
	`app_id` text NOT NULL,
	`group_id` text NOT NULL,
	`user_id` text NOT NULL,
	PRIMARY KEY(`app_id`, `group_id`, `user_id`)
);
--> statement-breakpoint
CREATE INDEX `group_users_user` ON `group_users` (`app_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `groups` (
	`app_id` text NOT NULL,
	`id` text NOT NULL,
	`all_users` integer DEFAULT false NOT NULL,
	`doc` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`app_id`, `id`)
);
--> statement-breakpoint
CREATE INDEX `groups_all_users` ON `groups` (`app_id`,`all_users`);--> statement-breakpoint
CREATE TABLE `passkeys` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`public_key` text NOT NULL,
	`counter` integer DEFAULT 0 NOT NULL,
	`transports` text DEFAULT '[]' NOT NULL,
	`device_type` text,
	`backed_up` integer DEFAULT false NOT NULL,
	`name` text,
	`created_at` integer NOT NULL,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE INDEX `passkeys_user` ON `passkeys` (`app_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `permissions` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `permissions_app_key` ON `permissions` (`app_id`,`key`);--> statement-breakpoint
CREATE TABLE `rate_limits` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `role_permissions` (
	`role_id` text NOT NULL,
	`permission_id` text NOT NULL,
	PRIMARY KEY(`role_id`, `permission_id`)
);
--> statement-breakpoint
CREATE TABLE `roles` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `roles_app_key` ON `roles` (`app_id`,`key`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`kind` text NOT NULL,
	`token_hash` text NOT NULL,
	`auth_method` text DEFAULT 'password' NOT NULL,
	`created_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`expires_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_token` ON `sessions` (`token_hash`);--> statement-breakpoint
CREATE INDEX `sessions_user` ON `sessions` (`app_id`,`user_id`);--> statement-breakpoint
CREATE TABLE `signing_keys` (
	`kid` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`alg` text NOT NULL,
	`public_jwk` text NOT NULL,
	`private_jwk` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`retired_at` integer,
	`expires_at` integer
);
--> statement-breakpoint
CREATE INDEX `signing_keys_app` ON `signing_keys` (`app_id`,`status`);--> statement-breakpoint
CREATE TABLE `user_feature_flags` (
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`app_id`, `user_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `user_permissions` (
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`permission_id` text NOT NULL,
	PRIMARY KEY(`app_id`, `user_id`, `permission_id`)
);
--> statement-breakpoint
CREATE TABLE `user_roles` (
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`role_id` text NOT NULL,
	PRIMARY KEY(`app_id`, `user_id`, `role_id`)
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`username` text NOT NULL,
	`email` text,
	`email_verified` integer DEFAULT false NOT NULL,
	`password_hash` text NOT NULL,
	`profile` text DEFAULT '{}' NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`claims_version` integer DEFAULT 1 NOT NULL,
	`password_changed_at` integer,
	`last_login_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_app_username` ON `users` (`app_id`,`username`);--> statement-breakpoint
CREATE INDEX `users_app_email` ON `users` (`app_id`,`email`);--> statement-breakpoint
CREATE INDEX `users_app_created` ON `users` (`app_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `webauthn_challenges` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`binding_hash` text NOT NULL,
	`kind` text NOT NULL,
	`challenge` text NOT NULL,
	`user_id` text,
	`expires_at` integer NOT NULL,
	`consumed_at` integer
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due` ON `webhook_deliveries` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_hook` ON `webhook_deliveries` (`webhook_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_app_due` ON `webhook_deliveries` (`app_id`,`status`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`name` text NOT NULL,
	`endpoint` text NOT NULL,
	`event_types` text DEFAULT '[]' NOT NULL,
	`description` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhooks_app` ON `webhooks` (`app_id`);