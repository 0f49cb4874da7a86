package store

import "context"

// BuildQueries, implemented once for every dialect on the queries of
// queries.go (tables in migrations/*/0005_builds.sql). Conventions as in
// runs_sql.go and notify_sql.go: documents and sealed values are never
// stored as NULL; listings return an empty, non-nil slice when nothing
// matches. Errors name the project, secret or action run, never a value.

// Build projects.

const selectBuildProject = `SELECT name, declaration, created_ms, updated_ms FROM build_projects`

func scanBuildProject(s scanner) (*BuildProject, error) {
	var p BuildProject
	var created, updated int64
	if err := s.Scan(&p.Name, &p.Declaration, &created, &updated); err != nil {
		return nil, err
	}
	p.Declaration = unblob(p.Declaration)
	p.Created, p.Updated = fromMillis(created), fromMillis(updated)
	return &p, nil
}

// CreateBuildProject implements BuildQueries.
func (q *queries) CreateBuildProject(ctx context.Context, p *BuildProject) error {
	n := now()
	if p.Created.IsZero() {
		p.Created = n
	}
	if p.Updated.IsZero() {
		p.Updated = n
	}
	if err := q.insertNew(ctx, `INSERT INTO build_projects (name, declaration, created_ms, updated_ms) VALUES (?, ?, ?, ?)`,
		p.Name, blob(p.Declaration), toMillis(p.Created), toMillis(p.Updated)); err != nil {
		return q.interpretError(err, "create build project %q", p.Name)
	}
	return nil
}

// UpdateBuildProject implements BuildQueries with one UPDATE that returns
// the stored creation time (no row: ErrNotFound).
func (q *queries) UpdateBuildProject(ctx context.Context, p *BuildProject) error {
	if p.Updated.IsZero() {
		p.Updated = now()
	}
	var created int64
	if err := q.writeRow(ctx, []any{&created}, `UPDATE build_projects SET declaration = ?, updated_ms = ? WHERE name = ?
RETURNING created_ms`, blob(p.Declaration), toMillis(p.Updated), p.Name); err != nil {
		return q.interpretError(err, "update build project %q", p.Name)
	}
	p.Created = fromMillis(created)
	return nil
}

// GetBuildProject implements BuildQueries.
func (q *queries) GetBuildProject(ctx context.Context, name string) (*BuildProject, error) {
	p, err := scanBuildProject(q.queryRow(ctx, selectBuildProject+` WHERE name = ?`, name))
	if err != nil {
		return nil, q.interpretError(err, "get build project %q", name)
	}
	return p, nil
}

// ListBuildProjects implements BuildQueries.
func (q *queries) ListBuildProjects(ctx context.Context) ([]*BuildProject, error) {
	ps, err := queryAll(ctx, q, scanBuildProject, selectBuildProject+` ORDER BY name`)
	if err != nil {
		return nil, q.interpretError(err, "list build projects")
	}
	return ps, nil
}

// DeleteBuildProject implements BuildQueries.
func (q *queries) DeleteBuildProject(ctx context.Context, name string) error {
	if err := q.execOne(ctx, `DELETE FROM build_projects WHERE name = ?`, name); err != nil {
		return q.interpretError(err, "delete build project %q", name)
	}
	return nil
}

// Secrets.

const selectSecret = `SELECT name, sealed_value, created_ms, updated_ms FROM secrets`

func scanSecret(s scanner) (*Secret, error) {
	var x Secret
	var created, updated int64
	if err := s.Scan(&x.Name, &x.SealedValue, &created, &updated); err != nil {
		return nil, err
	}
	x.SealedValue = unblob(x.SealedValue)
	x.Created, x.Updated = fromMillis(created), fromMillis(updated)
	return &x, nil
}

// PutSecret implements BuildQueries with one upsert, which leaves
// created_ms of an existing row alone and returns the stored one.
func (q *queries) PutSecret(ctx context.Context, s *Secret) error {
	n := now()
	if s.Created.IsZero() {
		s.Created = n
	}
	if s.Updated.IsZero() {
		s.Updated = n
	}
	var created int64
	if err := q.writeRow(ctx, []any{&created}, `INSERT INTO secrets (name, sealed_value, created_ms, updated_ms)
VALUES (?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET sealed_value = excluded.sealed_value, updated_ms = excluded.updated_ms
RETURNING created_ms`, s.Name, blob(s.SealedValue), toMillis(s.Created), toMillis(s.Updated)); err != nil {
		return q.interpretError(err, "put secret %q", s.Name)
	}
	s.Created = fromMillis(created)
	return nil
}

// GetSecret implements BuildQueries.
func (q *queries) GetSecret(ctx context.Context, name string) (*Secret, error) {
	s, err := scanSecret(q.queryRow(ctx, selectSecret+` WHERE name = ?`, name))
	if err != nil {
		return nil, q.interpretError(err, "get secret %q", name)
	}
	return s, nil
}

// ListSecrets implements BuildQueries.
func (q *queries) ListSecrets(ctx context.Context) ([]*Secret, error) {
	ss, err := queryAll(ctx, q, scanSecret, selectSecret+` ORDER BY name`)
	if err != nil {
		return nil, q.interpretError(err, "list secrets")
	}
	return ss, nil
}

// DeleteSecret implements BuildQueries.
func (q *queries) DeleteSecret(ctx context.Context, name string) error {
	if err := q.execOne(ctx, `DELETE FROM secrets WHERE name = ?`, name); err != nil {
		return q.interpretError(err, "delete secret %q", name)
	}
	return nil
}

// Action logs.

// AppendActionLog implements BuildQueries: one INSERT numbers the chunk
// after the run's last one. Every write holds the writer lock (see
// dialect.lockWriter), so two appends never compute the same number.
func (q *queries) AppendActionLog(ctx context.Context, actionRunID string, data []byte) (int64, error) {
	var seq int64
	if err := q.writeRow(ctx, []any{&seq}, `INSERT INTO action_logs (action_run_id, seq, time_ms, data)
VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM action_logs WHERE action_run_id = ?), ?, ?)
RETURNING seq`, actionRunID, actionRunID, toMillis(now()), blob(data)); err != nil {
		return 0, q.interpretError(err, "append to the log of action run %q", actionRunID)
	}
	return seq, nil
}

// ReadActionLog implements BuildQueries.
func (q *queries) ReadActionLog(ctx context.Context, actionRunID string, afterSeq int64, limit int) ([]LogChunk, error) {
	query, args := withLimit(`SELECT seq, time_ms, data FROM action_logs WHERE action_run_id = ? AND seq > ? ORDER BY seq`,
		[]any{actionRunID, afterSeq}, limit)
	cs, err := queryAll(ctx, q, func(s scanner) (LogChunk, error) {
		var c LogChunk
		var at int64
		if err := s.Scan(&c.Seq, &at, &c.Data); err != nil {
			return c, err
		}
		c.Time = fromMillis(at)
		if c.Data == nil {
			c.Data = []byte{}
		}
		return c, nil
	}, query, args...)
	if err != nil {
		return nil, q.interpretError(err, "read the log of action run %q", actionRunID)
	}
	return cs, nil
}
