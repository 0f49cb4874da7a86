package store

import "context"

// NotifyQueries, implemented once for every dialect on the queries of
// queries.go (table in migrations/*/0003_notify.sql). Conventions as in
// runs_sql.go: a nil secret is stored as an empty BLOB/BYTEA and reads
// back as nil; listings return an empty, non-nil slice when nothing
// matches. Errors name the target, never its secret.

const selectNotificationTarget = `SELECT name, url, sealed_secret, created_ms, updated_ms FROM notification_targets`

func scanNotificationTarget(s scanner) (*NotificationTarget, error) {
	var t NotificationTarget
	var created, updated int64
	if err := s.Scan(&t.Name, &t.URL, &t.SealedSecret, &created, &updated); err != nil {
		return nil, err
	}
	t.SealedSecret = unblob(t.SealedSecret)
	t.Created, t.Updated = fromMillis(created), fromMillis(updated)
	return &t, nil
}

// PutNotificationTarget implements NotifyQueries with one upsert, which
// leaves created_ms of an existing row alone and returns the stored one.
func (q *queries) PutNotificationTarget(ctx context.Context, t *NotificationTarget) error {
	n := now()
	if t.Created.IsZero() {
		t.Created = n
	}
	if t.Updated.IsZero() {
		t.Updated = n
	}
	var created int64
	if err := q.writeRow(ctx, []any{&created}, `INSERT INTO notification_targets (name, url, sealed_secret, created_ms, updated_ms)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET url = excluded.url, sealed_secret = excluded.sealed_secret, updated_ms = excluded.updated_ms
RETURNING created_ms`, t.Name, t.URL, blob(t.SealedSecret), toMillis(t.Created), toMillis(t.Updated)); err != nil {
		return q.interpretError(err, "put notification target %q", t.Name)
	}
	t.Created = fromMillis(created)
	return nil
}

// GetNotificationTarget implements NotifyQueries.
func (q *queries) GetNotificationTarget(ctx context.Context, name string) (*NotificationTarget, error) {
	t, err := scanNotificationTarget(q.queryRow(ctx, selectNotificationTarget+` WHERE name = ?`, name))
	if err != nil {
		return nil, q.interpretError(err, "get notification target %q", name)
	}
	return t, nil
}

// ListNotificationTargets implements NotifyQueries.
func (q *queries) ListNotificationTargets(ctx context.Context) ([]*NotificationTarget, error) {
	ts, err := queryAll(ctx, q, scanNotificationTarget, selectNotificationTarget+` ORDER BY name`)
	if err != nil {
		return nil, q.interpretError(err, "list notification targets")
	}
	return ts, nil
}

// DeleteNotificationTarget implements NotifyQueries.
func (q *queries) DeleteNotificationTarget(ctx context.Context, name string) error {
	if err := q.execOne(ctx, `DELETE FROM notification_targets WHERE name = ?`, name); err != nil {
		return q.interpretError(err, "delete notification target %q", name)
	}
	return nil
}

// LastEventID implements NotifyQueries.
func (q *queries) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := q.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&id); err != nil {
		return 0, q.interpretError(err, "read the last event id")
	}
	return id, nil
}
