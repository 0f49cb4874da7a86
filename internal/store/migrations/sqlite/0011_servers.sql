-- 0011_servers: the registry of running servers, which lets servers sharing
-- one database check that they also share their --shared-dir and artifact
-- store. SQLite dialect; the postgres twin has the same table, columns and
-- key.
--
-- Conventions of 0001_init. A server puts its row at start, refreshes
-- heartbeat_ms every few seconds and deletes it when it stops; rows whose
-- heartbeat is a minute old belong to servers that are gone and are
-- ignored, then deleted. marker is the random token the server wrote to
-- <shared-dir>/servers/<id>; artifact_store names its artifact store
-- ("filesystem", or "s3 <endpoint> <bucket>").

CREATE TABLE servers (
    id             TEXT    NOT NULL PRIMARY KEY,
    hostname       TEXT    NOT NULL,
    pid            INTEGER NOT NULL,
    url            TEXT    NOT NULL,
    artifact_store TEXT    NOT NULL,
    shared_dir     TEXT    NOT NULL,
    marker         TEXT    NOT NULL,
    started_ms     INTEGER NOT NULL,
    heartbeat_ms   INTEGER NOT NULL
) STRICT;
