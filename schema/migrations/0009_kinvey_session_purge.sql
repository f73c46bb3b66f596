-- Kinvey auth tokens have no expires_at: they die by kinvey_session_idle_seconds (their
-- last_seen_at) and kinvey_session_absolute_seconds. The purge walks this index per app to
-- remove the idle ones (an absolutely expired token is no longer touched, so it goes idle too).
CREATE INDEX `sessions_kind_seen` ON `sessions` (`app_id`,`kind`,`last_seen_at`);
