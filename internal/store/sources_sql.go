package store

import (
	"context"
	"time"
)

// SourceQueries, implemented once for every dialect on the queries of
// queries.go (tables in migrations/*/0006_sources.sql). Conventions as in
// notify_sql.go: a nil secret is stored as an empty BLOB/BYTEA and reads
// back as nil; listings return an empty, non-nil slice when nothing
// matches; a webhook never triggered has last_triggered_ms 0 and reads
// back the zero time. Errors name the row, never a secret.

const selectConnection = `SELECT arn, name, remote_url, username, sealed_password, created_ms, updated_ms FROM connections`

func scanConnection(s scanner) (*Connection, error) {
	var c Connection
	var created, updated int64
	if err := s.Scan(&c.ARN, &c.Name, &c.RemoteURL, &c.Username, &c.SealedPassword, &created, &updated); err != nil {
		return nil, err
	}
	c.SealedPassword = unblob(c.SealedPassword)
	c.Created, c.Updated = fromMillis(created), fromMillis(updated)
	return &c, nil
}

// CreateConnection implements SourceQueries.
func (q *queries) CreateConnection(ctx context.Context, c *Connection) error {
	n := now()
	if c.Created.IsZero() {
		c.Created = n
	}
	if c.Updated.IsZero() {
		c.Updated = n
	}
	if err := q.insertNew(ctx, `INSERT INTO connections (arn, name, remote_url, username, sealed_password, created_ms, updated_ms)
VALUES (?, ?, ?, ?, ?, ?, ?)`, c.ARN, c.Name, c.RemoteURL, c.Username, blob(c.SealedPassword), toMillis(c.Created), toMillis(c.Updated)); err != nil {
		return q.interpretError(err, "create connection %q", c.ARN)
	}
	return nil
}

// GetConnection implements SourceQueries.
func (q *queries) GetConnection(ctx context.Context, arn string) (*Connection, error) {
	c, err := scanConnection(q.queryRow(ctx, selectConnection+` WHERE arn = ?`, arn))
	if err != nil {
		return nil, q.interpretError(err, "get connection %q", arn)
	}
	return c, nil
}

// ListConnections implements SourceQueries.
func (q *queries) ListConnections(ctx context.Context) ([]*Connection, error) {
	cs, err := queryAll(ctx, q, scanConnection, selectConnection+` ORDER BY name, arn`)
	if err != nil {
		return nil, q.interpretError(err, "list connections")
	}
	return cs, nil
}

// DeleteConnection implements SourceQueries.
func (q *queries) DeleteConnection(ctx context.Context, arn string) error {
	if err := q.execOne(ctx, `DELETE FROM connections WHERE arn = ?`, arn); err != nil {
		return q.interpretError(err, "delete connection %q", arn)
	}
	return nil
}

const selectWebhook = `SELECT name, definition, sealed_secret, last_triggered_ms, created_ms, updated_ms FROM webhooks`

func scanWebhook(s scanner) (*Webhook, error) {
	var w Webhook
	var triggered, created, updated int64
	if err := s.Scan(&w.Name, &w.Definition, &w.SealedSecret, &triggered, &created, &updated); err != nil {
		return nil, err
	}
	w.Definition, w.SealedSecret = unblob(w.Definition), unblob(w.SealedSecret)
	w.LastTriggered, w.Created, w.Updated = optTime(triggered), fromMillis(created), fromMillis(updated)
	return &w, nil
}

// PutWebhook implements SourceQueries with one upsert, which leaves
// created_ms and last_triggered_ms of an existing row alone and returns
// the stored ones.
func (q *queries) PutWebhook(ctx context.Context, w *Webhook) error {
	n := now()
	if w.Created.IsZero() {
		w.Created = n
	}
	if w.Updated.IsZero() {
		w.Updated = n
	}
	var created, triggered int64
	if err := q.writeRow(ctx, []any{&created, &triggered}, `INSERT INTO webhooks (name, definition, sealed_secret, last_triggered_ms, created_ms, updated_ms)
VALUES (?, ?, ?, 0, ?, ?)
ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, sealed_secret = excluded.sealed_secret, updated_ms = excluded.updated_ms
RETURNING created_ms, last_triggered_ms`, w.Name, blob(w.Definition), blob(w.SealedSecret), toMillis(w.Created), toMillis(w.Updated)); err != nil {
		return q.interpretError(err, "put webhook %q", w.Name)
	}
	w.Created, w.LastTriggered = fromMillis(created), optTime(triggered)
	return nil
}

// GetWebhook implements SourceQueries.
func (q *queries) GetWebhook(ctx context.Context, name string) (*Webhook, error) {
	w, err := scanWebhook(q.queryRow(ctx, selectWebhook+` WHERE name = ?`, name))
	if err != nil {
		return nil, q.interpretError(err, "get webhook %q", name)
	}
	return w, nil
}

// ListWebhooks implements SourceQueries.
func (q *queries) ListWebhooks(ctx context.Context, page Page) ([]*Webhook, error) {
	query, args := selectWebhook, []any{}
	if page.After != "" {
		query += ` WHERE name > ?`
		args = append(args, page.After)
	}
	query, args = withLimit(query+` ORDER BY name`, args, page.Limit)
	ws, err := queryAll(ctx, q, scanWebhook, query, args...)
	if err != nil {
		return nil, q.interpretError(err, "list webhooks after %q", page.After)
	}
	return ws, nil
}

// DeleteWebhook implements SourceQueries.
func (q *queries) DeleteWebhook(ctx context.Context, name string) error {
	if err := q.execOne(ctx, `DELETE FROM webhooks WHERE name = ?`, name); err != nil {
		return q.interpretError(err, "delete webhook %q", name)
	}
	return nil
}

// SetWebhookTriggered implements SourceQueries.
func (q *queries) SetWebhookTriggered(ctx context.Context, name string, at time.Time) error {
	if err := q.execOne(ctx, `UPDATE webhooks SET last_triggered_ms = ? WHERE name = ?`, optMillis(at), name); err != nil {
		return q.interpretError(err, "record a delivery of webhook %q", name)
	}
	return nil
}

func scanSourcePollState(s scanner) (*SourcePollState, error) {
	var p SourcePollState
	var updated int64
	if err := s.Scan(&p.Remote, &p.Ref, &p.Commit, &updated); err != nil {
		return nil, err
	}
	p.Updated = fromMillis(updated)
	return &p, nil
}

// ListSourcePollStates implements SourceQueries.
func (q *queries) ListSourcePollStates(ctx context.Context, remote string) ([]*SourcePollState, error) {
	ps, err := queryAll(ctx, q, scanSourcePollState,
		`SELECT remote, ref, commit_id, updated_ms FROM source_poll_state WHERE remote = ? ORDER BY ref`, remote)
	if err != nil {
		return nil, q.interpretError(err, "list poll states of %q", remote)
	}
	return ps, nil
}

// PutSourcePollState implements SourceQueries.
func (q *queries) PutSourcePollState(ctx context.Context, s *SourcePollState) error {
	if s.Updated.IsZero() {
		s.Updated = now()
	}
	if _, err := q.exec(ctx, `INSERT INTO source_poll_state (remote, ref, commit_id, updated_ms) VALUES (?, ?, ?, ?)
ON CONFLICT (remote, ref) DO UPDATE SET commit_id = excluded.commit_id, updated_ms = excluded.updated_ms`,
		s.Remote, s.Ref, s.Commit, toMillis(s.Updated)); err != nil {
		return q.interpretError(err, "put poll state of %q %q", s.Remote, s.Ref)
	}
	return nil
}

// DeleteSourcePollState implements SourceQueries.
func (q *queries) DeleteSourcePollState(ctx context.Context, remote, ref string) error {
	if err := q.execOne(ctx, `DELETE FROM source_poll_state WHERE remote = ? AND ref = ?`, remote, ref); err != nil {
		return q.interpretError(err, "delete poll state of %q %q", remote, ref)
	}
	return nil
}
