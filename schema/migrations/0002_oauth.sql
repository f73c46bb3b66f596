-- oauth: the audience an authorization request asked for travels with its code.
ALTER TABLE `auth_codes` ADD `audience` text DEFAULT '[]' NOT NULL;
