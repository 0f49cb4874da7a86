package store

import (
	"context"
	"time"
)

// FunctionQueries, implemented once for every dialect on the queries of
// queries.go (tables in migrations/*/0007_functions.sql). Conventions as in
// runs_sql.go and notify_sql.go: documents and sealed values are never
// stored as NULL; listings return an empty, non-nil slice when nothing
// matches. Errors name the function, key or object, never a secret.

// Functions.

const selectFunction = `SELECT name, definition, created_ms, updated_ms FROM functions`

func scanFunction(s scanner) (*Function, error) {
	var f Function
	var created, updated int64
	if err := s.Scan(&f.Name, &f.Definition, &created, &updated); err != nil {
		return nil, err
	}
	f.Definition = unblob(f.Definition)
	f.Created, f.Updated = fromMillis(created), fromMillis(updated)
	return &f, nil
}

// CreateFunction implements FunctionQueries.
func (q *queries) CreateFunction(ctx context.Context, f *Function) error {
	n := now()
	if f.Created.IsZero() {
		f.Created = n
	}
	if f.Updated.IsZero() {
		f.Updated = n
	}
	if err := q.insertNew(ctx, `INSERT INTO functions (name, definition, created_ms, updated_ms) VALUES (?, ?, ?, ?)`,
		f.Name, blob(f.Definition), toMillis(f.Created), toMillis(f.Updated)); err != nil {
		return q.interpretError(err, "create function %q", f.Name)
	}
	return nil
}

// GetFunction implements FunctionQueries.
func (q *queries) GetFunction(ctx context.Context, name string) (*Function, error) {
	f, err := scanFunction(q.queryRow(ctx, selectFunction+` WHERE name = ?`, name))
	if err != nil {
		return nil, q.interpretError(err, "get function %q", name)
	}
	return f, nil
}

// ListFunctions implements FunctionQueries.
func (q *queries) ListFunctions(ctx context.Context) ([]*Function, error) {
	fs, err := queryAll(ctx, q, scanFunction, selectFunction+` ORDER BY name`)
	if err != nil {
		return nil, q.interpretError(err, "list functions")
	}
	return fs, nil
}

// DeleteFunction implements FunctionQueries.
func (q *queries) DeleteFunction(ctx context.Context, name string) error {
	if err := q.execOne(ctx, `DELETE FROM functions WHERE name = ?`, name); err != nil {
		return q.interpretError(err, "delete function %q", name)
	}
	return nil
}

// Job keys.

const selectJobKey = `SELECT id, sealed_secret, token_hash, job_id, expires_ms, created_ms FROM job_keys`

func scanJobKey(s scanner) (*JobKey, error) {
	var k JobKey
	var expires, created int64
	if err := s.Scan(&k.ID, &k.SealedSecret, &k.TokenHash, &k.JobID, &expires, &created); err != nil {
		return nil, err
	}
	k.SealedSecret = unblob(k.SealedSecret)
	k.Expires, k.Created = fromMillis(expires), fromMillis(created)
	return &k, nil
}

// CreateJobKey implements FunctionQueries.
func (q *queries) CreateJobKey(ctx context.Context, k *JobKey) error {
	if k.Created.IsZero() {
		k.Created = now()
	}
	if err := q.insertNew(ctx, `INSERT INTO job_keys (id, sealed_secret, token_hash, job_id, expires_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, blob(k.SealedSecret), k.TokenHash, k.JobID, toMillis(k.Expires), toMillis(k.Created)); err != nil {
		return q.interpretError(err, "create job key %s for job %s", k.ID, k.JobID)
	}
	return nil
}

// GetJobKey implements FunctionQueries.
func (q *queries) GetJobKey(ctx context.Context, id string) (*JobKey, error) {
	k, err := scanJobKey(q.queryRow(ctx, selectJobKey+` WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get job key %s", id)
	}
	return k, nil
}

// DeleteJobKey implements FunctionQueries.
func (q *queries) DeleteJobKey(ctx context.Context, id string) error {
	if err := q.execOne(ctx, `DELETE FROM job_keys WHERE id = ?`, id); err != nil {
		return q.interpretError(err, "delete job key %s", id)
	}
	return nil
}

// DeleteExpiredJobKeys implements FunctionQueries.
func (q *queries) DeleteExpiredJobKeys(ctx context.Context, t time.Time) (int, error) {
	res, err := q.exec(ctx, `DELETE FROM job_keys WHERE expires_ms <= ?`, toMillis(t))
	if err != nil {
		return 0, q.interpretError(err, "delete expired job keys")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, q.interpretError(err, "delete expired job keys")
	}
	return int(n), nil
}

// Object poll states.

const selectObjectPollState = `SELECT bucket, object_key, etag, version_id, modified_ms, updated_ms FROM object_poll_state`

func scanObjectPollState(s scanner) (*ObjectPollState, error) {
	var o ObjectPollState
	var modified, updated int64
	if err := s.Scan(&o.Bucket, &o.Key, &o.ETag, &o.VersionID, &modified, &updated); err != nil {
		return nil, err
	}
	if modified != 0 {
		o.Modified = fromMillis(modified)
	}
	o.Updated = fromMillis(updated)
	return &o, nil
}

// PutObjectPollState implements FunctionQueries with one upsert.
func (q *queries) PutObjectPollState(ctx context.Context, s *ObjectPollState) error {
	if s.Updated.IsZero() {
		s.Updated = now()
	}
	var modified int64
	if !s.Modified.IsZero() {
		modified = toMillis(s.Modified)
	}
	if _, err := q.exec(ctx, `INSERT INTO object_poll_state (bucket, object_key, etag, version_id, modified_ms, updated_ms)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (bucket, object_key) DO UPDATE SET etag = excluded.etag, version_id = excluded.version_id,
modified_ms = excluded.modified_ms, updated_ms = excluded.updated_ms`,
		s.Bucket, s.Key, s.ETag, s.VersionID, modified, toMillis(s.Updated)); err != nil {
		return q.interpretError(err, "put poll state of %s/%s", s.Bucket, s.Key)
	}
	return nil
}

// GetObjectPollState implements FunctionQueries.
func (q *queries) GetObjectPollState(ctx context.Context, bucket, key string) (*ObjectPollState, error) {
	o, err := scanObjectPollState(q.queryRow(ctx, selectObjectPollState+` WHERE bucket = ? AND object_key = ?`, bucket, key))
	if err != nil {
		return nil, q.interpretError(err, "get poll state of %s/%s", bucket, key)
	}
	return o, nil
}

// ListObjectPollStates implements FunctionQueries.
func (q *queries) ListObjectPollStates(ctx context.Context) ([]*ObjectPollState, error) {
	states, err := queryAll(ctx, q, scanObjectPollState, selectObjectPollState+` ORDER BY bucket, object_key`)
	if err != nil {
		return nil, q.interpretError(err, "list poll states")
	}
	return states, nil
}

// DeleteObjectPollState implements FunctionQueries.
func (q *queries) DeleteObjectPollState(ctx context.Context, bucket, key string) error {
	if err := q.execOne(ctx, `DELETE FROM object_poll_state WHERE bucket = ? AND object_key = ?`, bucket, key); err != nil {
		return q.interpretError(err, "delete poll state of %s/%s", bucket, key)
	}
	return nil
}
