-- Per-client refresh-token delivery to browsers (worker/identity/clients.ts). New clients
-- default to `body`; clients that existed before keep the cookie they were getting.
ALTER TABLE `clients` ADD `refresh_token_delivery` text DEFAULT 'body' NOT NULL;--> statement-breakpoint
UPDATE `clients` SET `refresh_token_delivery` = 'cookie';
