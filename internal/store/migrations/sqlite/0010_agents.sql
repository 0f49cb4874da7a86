-- 0010_agents: when each instance's host agent last polled for commands,
-- so that every server sharing the database judges agent liveness alike.
-- SQLite dialect; the twin of migrations/postgres/0010_agents.sql: same
-- table, columns and key.
--
-- Conventions of 0001_init. A row is written (at most every quarter of
-- the agent lease per instance and server) by whichever server the agent
-- polls; seen_ms only moves forward. Rows are not deleted with their
-- instance: a re-registered instance starts from its old time, which is
-- older than any lease.

CREATE TABLE agent_seen (
    instance TEXT    NOT NULL PRIMARY KEY,
    seen_ms  INTEGER NOT NULL
) STRICT;
