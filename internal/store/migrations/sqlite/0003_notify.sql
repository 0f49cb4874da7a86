-- 0003_notify: notification targets, the HTTP endpoints that receive
-- Slipway's notifications (manual approval messages). SQLite dialect; the
-- postgres twin has the same table, columns and key.
--
-- Conventions of 0001_init. sealed_secret is the HMAC key of a target's
-- deliveries, sealed with the master key by the caller (as access-key
-- secrets are); empty when deliveries are unsigned. The notifier's cursor
-- into the event log is the setting notify_cursor (settings table).

CREATE TABLE notification_targets (
    name          TEXT    NOT NULL PRIMARY KEY,
    url           TEXT    NOT NULL,
    sealed_secret BLOB    NOT NULL,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
) STRICT;
