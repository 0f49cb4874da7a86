-- 0006_sources: what git sources outside Slipway need: connections (a
-- remote git URL and its credentials, the CodeStarSourceConnection
-- action's ConnectionArn), webhooks (PutWebhook) and the poller's last
-- seen commit of every watched ref. SQLite dialect; the postgres twin has
-- the same tables, columns and keys.
--
-- Conventions of 0001_init. sealed_password and sealed_secret are sealed
-- with the master key by the caller, as access-key secrets are; empty when
-- there is none. A webhook's definition is the WebhookDefinition as JSON
-- without its SecretToken; last_triggered_ms is 0 until the first
-- successful delivery. source_poll_state is keyed by the remote URL (never
-- holding credentials) and the full ref name; the row with the empty ref
-- marks a remote that has been listed once.

CREATE TABLE connections (
    arn             TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    remote_url      TEXT    NOT NULL,
    username        TEXT    NOT NULL,
    sealed_password BLOB    NOT NULL,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
) STRICT;

CREATE TABLE webhooks (
    name              TEXT    NOT NULL PRIMARY KEY,
    definition        BLOB    NOT NULL,
    sealed_secret     BLOB    NOT NULL,
    last_triggered_ms INTEGER NOT NULL,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL
) STRICT;

CREATE TABLE source_poll_state (
    remote     TEXT    NOT NULL,
    ref        TEXT    NOT NULL,
    commit_id  TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (remote, ref)
) STRICT;
