-- Kinde's management scope catalogue (worker/identity/management-scopes.ts). Clients that
-- exist now keep the wider meaning their older scope names had (update:users also allowed
-- password changes and refresh_claims); clients created from now on get Kinde's meaning.
ALTER TABLE `clients` ADD `legacy_scopes` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE `clients` SET `legacy_scopes` = 1;
