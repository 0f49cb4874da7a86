package store

import (
	"context"
	"time"
)

// ServerQueries, implemented once for every dialect on the queries of
// queries.go (table in migrations/*/0011_servers.sql).

const selectServer = `SELECT id, hostname, pid, url, artifact_store, shared_dir, marker, started_ms, heartbeat_ms FROM servers`

func scanServer(s scanner) (*RegisteredServer, error) {
	var r RegisteredServer
	var started, heartbeat int64
	if err := s.Scan(&r.ID, &r.Hostname, &r.PID, &r.URL, &r.ArtifactStore, &r.SharedDir, &r.Marker, &started, &heartbeat); err != nil {
		return nil, err
	}
	r.Started, r.Heartbeat = fromMillis(started), fromMillis(heartbeat)
	return &r, nil
}

// PutServer implements ServerQueries.
func (q *queries) PutServer(ctx context.Context, s *RegisteredServer) error {
	if _, err := q.exec(ctx, `INSERT INTO servers (id, hostname, pid, url, artifact_store, shared_dir, marker, started_ms, heartbeat_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET hostname = excluded.hostname, pid = excluded.pid, url = excluded.url,
	artifact_store = excluded.artifact_store, shared_dir = excluded.shared_dir, marker = excluded.marker,
	started_ms = excluded.started_ms, heartbeat_ms = excluded.heartbeat_ms`,
		s.ID, s.Hostname, s.PID, s.URL, s.ArtifactStore, s.SharedDir, s.Marker, toMillis(s.Started), toMillis(s.Heartbeat)); err != nil {
		return q.interpretError(err, "put server %q", s.ID)
	}
	return nil
}

// TouchServer implements ServerQueries.
func (q *queries) TouchServer(ctx context.Context, id, marker string, at time.Time) error {
	if err := q.execOne(ctx, `UPDATE servers SET heartbeat_ms = ? WHERE id = ? AND marker = ?`, toMillis(at), id, marker); err != nil {
		return q.interpretError(err, "touch server %q", id)
	}
	return nil
}

// ListServers implements ServerQueries.
func (q *queries) ListServers(ctx context.Context) ([]*RegisteredServer, error) {
	rs, err := queryAll(ctx, q, scanServer, selectServer+` ORDER BY id`)
	if err != nil {
		return nil, q.interpretError(err, "list servers")
	}
	return rs, nil
}

// DeleteServer implements ServerQueries.
func (q *queries) DeleteServer(ctx context.Context, id string) error {
	if err := q.execOne(ctx, `DELETE FROM servers WHERE id = ?`, id); err != nil {
		return q.interpretError(err, "delete server %q", id)
	}
	return nil
}

// DeleteServersBefore implements ServerQueries.
func (q *queries) DeleteServersBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := q.exec(ctx, `DELETE FROM servers WHERE heartbeat_ms < ?`, toMillis(t))
	if err != nil {
		return 0, q.interpretError(err, "delete stale servers")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, q.interpretError(err, "delete stale servers")
	}
	return int(n), nil
}
