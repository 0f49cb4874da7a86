-- 0009_enroll: enrollment tokens, which let an agent register its own
-- on-premises instance (POST /enroll). SQLite dialect; the postgres twin
-- has the same table, columns and key.
--
-- Conventions of 0001_init. token_hash is the hex SHA-256 of the whole
-- token; the token itself is shown once and never stored. tags is the JSON
-- array of the tags the enrolled instances get ([{"Key":..,"Value":..}]).

CREATE TABLE enrollment_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    token_hash TEXT    NOT NULL,
    tags       TEXT    NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;
