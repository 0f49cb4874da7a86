-- 0003_notify: notification targets, the HTTP endpoints that receive
-- Slipway's notifications (manual approval messages). PostgreSQL dialect;
-- the twin of migrations/sqlite/0003_notify.sql: same table, columns and
-- key.
--
-- Conventions of 0001_init. sealed_secret is the HMAC key of a target's
-- deliveries, sealed with the master key by the caller (as access-key
-- secrets are); empty when deliveries are unsigned. The notifier's cursor
-- into the event log is the setting notify_cursor (settings table).

CREATE TABLE notification_targets (
    name          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    url           TEXT             NOT NULL,
    sealed_secret BYTEA            NOT NULL,
    created_ms    BIGINT           NOT NULL,
    updated_ms    BIGINT           NOT NULL
);
