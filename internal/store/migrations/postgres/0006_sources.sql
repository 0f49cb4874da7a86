-- 0006_sources: what git sources outside Slipway need: connections (a
-- remote git URL and its credentials, the CodeStarSourceConnection
-- action's ConnectionArn), webhooks (PutWebhook) and the poller's last
-- seen commit of every watched ref. PostgreSQL dialect; the twin of
-- migrations/sqlite/0006_sources.sql: same tables, columns and keys.
--
-- Conventions of 0001_init (text keys COLLATE "C"). sealed_password and
-- sealed_secret are sealed with the master key by the caller, as
-- access-key secrets are; empty when there is none. A webhook's definition
-- is the WebhookDefinition as JSON without its SecretToken;
-- last_triggered_ms is 0 until the first successful delivery.
-- source_poll_state is keyed by the remote URL (never holding
-- credentials) and the full ref name; the row with the empty ref marks a
-- remote that has been listed once.

CREATE TABLE connections (
    arn             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name            TEXT COLLATE "C" NOT NULL,
    remote_url      TEXT             NOT NULL,
    username        TEXT             NOT NULL,
    sealed_password BYTEA            NOT NULL,
    created_ms      BIGINT           NOT NULL,
    updated_ms      BIGINT           NOT NULL
);

CREATE TABLE webhooks (
    name              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    definition        BYTEA            NOT NULL,
    sealed_secret     BYTEA            NOT NULL,
    last_triggered_ms BIGINT           NOT NULL,
    created_ms        BIGINT           NOT NULL,
    updated_ms        BIGINT           NOT NULL
);

CREATE TABLE source_poll_state (
    remote     TEXT COLLATE "C" NOT NULL,
    ref        TEXT COLLATE "C" NOT NULL,
    commit_id  TEXT             NOT NULL,
    updated_ms BIGINT           NOT NULL,
    PRIMARY KEY (remote, ref)
);
