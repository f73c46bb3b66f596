-- Identifier keys (worker/identity/identifiers.ts) and operator-owned user attributes.
-- Hand-written: it moves data, which drizzle-kit does not.
ALTER TABLE `users` ADD `username_key` text;--> statement-breakpoint
ALTER TABLE `users` ADD `email_key` text;--> statement-breakpoint
ALTER TABLE `users` ADD `provided_id` text;--> statement-breakpoint
ALTER TABLE `users` ADD `org_code` text;--> statement-breakpoint
ALTER TABLE `users` ADD `password_reset_required` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- Operator-owned attributes leave the self-writable profile. provided_id and the reset flag
-- were written by the management API; org_code never was (only a user's own profile could
-- hold it), so it is dropped, not trusted.
UPDATE `users` SET `provided_id` = json_extract(`profile`, '$.provided_id') WHERE json_type(`profile`, '$.provided_id') = 'text';--> statement-breakpoint
UPDATE `users` SET `password_reset_required` = 1 WHERE json_type(`profile`, '$.is_password_reset_requested') = 'true';--> statement-breakpoint
UPDATE `users` SET `profile` = json_remove(`profile`, '$.provided_id', '$.org_code', '$.is_password_reset_requested', '$.password_reset_required', '$.email_verified', '$.emailVerified', '$.roles', '$.permissions', '$.feature_flags') WHERE json_valid(`profile`);--> statement-breakpoint
-- Keys for printable-ASCII identifiers, where the key is lower(trim(x)), unless that collides
-- within the app; the rest stay null for POST /admin/identifiers/backfill, which reports them.
UPDATE `users` SET `username_key` = lower(trim(`username`))
 WHERE `username` NOT GLOB '*[^ -~]*'
   AND NOT EXISTS (SELECT 1 FROM `users` o WHERE o.`app_id` = `users`.`app_id` AND o.`id` != `users`.`id`
                   AND (lower(trim(o.`username`)) = lower(trim(`users`.`username`)) OR lower(trim(o.`email`)) = lower(trim(`users`.`username`))));--> statement-breakpoint
UPDATE `users` SET `email_key` = lower(trim(`email`))
 WHERE `email` IS NOT NULL AND `email` NOT GLOB '*[^ -~]*'
   AND NOT EXISTS (SELECT 1 FROM `users` o WHERE o.`app_id` = `users`.`app_id` AND o.`id` != `users`.`id`
                   AND (lower(trim(o.`email`)) = lower(trim(`users`.`email`)) OR lower(trim(o.`username`)) = lower(trim(`users`.`email`))));--> statement-breakpoint
CREATE UNIQUE INDEX `users_app_username_key` ON `users` (`app_id`,`username_key`);--> statement-breakpoint
CREATE UNIQUE INDEX `users_app_email_key` ON `users` (`app_id`,`email_key`);--> statement-breakpoint
CREATE TRIGGER `users_identifiers_cross_insert` BEFORE INSERT ON `users`
WHEN EXISTS (SELECT 1 FROM `users` WHERE `app_id` = NEW.`app_id` AND `id` != NEW.`id` AND (`username_key` = NEW.`email_key` OR `email_key` = NEW.`username_key`))
BEGIN
  SELECT RAISE(ABORT, 'identifier taken');
END;--> statement-breakpoint
CREATE TRIGGER `users_identifiers_cross_update` BEFORE UPDATE OF `username_key`, `email_key` ON `users`
WHEN EXISTS (SELECT 1 FROM `users` WHERE `app_id` = NEW.`app_id` AND `id` != NEW.`id` AND (`username_key` = NEW.`email_key` OR `email_key` = NEW.`username_key`))
BEGIN
  SELECT RAISE(ABORT, 'identifier taken');
END;
