package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// dbtx is what *sql.DB and *sql.Tx have in common.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// execer runs a statement that returns no rows: a *sql.DB, a *sql.Tx or
// what dialect.plainWriter wraps a pool in.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queries implements Queries once for every dialect, either directly on the
// pools or on one transaction.
type queries struct {
	d     dialect
	read  dbtx    // plain reads: the read pool, or the transaction
	write execer  // single-statement writes: d.plainWriter(write pool), or the transaction
	pool  *sql.DB // the write pool for multi-statement writes; nil in a transaction
	hub   *hub    // the Store's subscribers (Publish)
	// pending collects what Publish sends inside a transaction, for the
	// subscribers once it commits; nil outside one.
	pending *[]Notification
}

// txQueries returns queries that run every statement on tx; Publish
// appends to pending.
func txQueries(d dialect, tx *sql.Tx, h *hub, pending *[]Notification) *queries {
	return &queries{d: d, read: tx, write: tx, hub: h, pending: pending}
}

// atomic runs fn with queries whose statements all belong to one write
// transaction: the current one, or a new one on the write pool.
func (q *queries) atomic(ctx context.Context, fn func(q *queries) error) error {
	if q.pool == nil {
		return fn(q)
	}
	var pending []Notification
	err := writeTx(ctx, q.pool, q.d, func(tx *sql.Tx) error {
		pending = pending[:0]
		return fn(txQueries(q.d, tx, q.hub, &pending))
	})
	if err == nil {
		for _, n := range pending {
			q.hub.deliver(n)
		}
	}
	return err
}

func (q *queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.write.ExecContext(ctx, q.d.rebind(query), args...)
}

func (q *queries) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return q.read.QueryRowContext(ctx, q.d.rebind(query), args...)
}

// execOne runs a statement that must change a row: ErrNotFound if it
// changed none.
func (q *queries) execOne(ctx context.Context, query string, args ...any) error {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// insertNew runs an INSERT that must add a row, appending ON CONFLICT DO
// NOTHING: ErrExists if a row with the same key was already there.
//
// Finding the duplicate without a failing statement matters on PostgreSQL,
// where any error inside a transaction aborts it: this way a Create that
// reports ErrExists inside InTx leaves the transaction usable, as it is on
// SQLite. Both databases accept the clause without a conflict target.
func (q *queries) insertNew(ctx context.Context, query string, args ...any) error {
	res, err := q.exec(ctx, query+"\nON CONFLICT DO NOTHING", args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrExists
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a read and scans every row with scan.
func queryAll[T any](ctx context.Context, q *queries, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.read.QueryContext(ctx, q.d.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// interpretError is the one place database errors become the package's
// sentinels: no rows means ErrNotFound, a unique or primary key violation
// means ErrExists. Everything else, sentinels included, is wrapped as is.
// format and args say what failed, e.g. `get pipeline "x"`.
func (q *queries) interpretError(err error, format string, args ...any) error {
	op := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case q.d.isUniqueViolation(err):
		return fmt.Errorf("%s: %w", op, ErrExists)
	default:
		return q.d.unwritable(fmt.Errorf("%s: %w", op, err))
	}
}

// toMillis and fromMillis convert timestamps to and from their stored form,
// integer Unix milliseconds, which every database handles the same way.
func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// now is the current time as the store keeps it: UTC, in milliseconds.
func now() time.Time { return fromMillis(toMillis(time.Now())) }

// Pipelines. The pipelines table points at the latest version; every
// version, latest included, is a row of pipeline_versions.

const selectPipelineVersion = `SELECT v.name, v.version, v.declaration, v.created_ms, v.updated_ms
FROM pipeline_versions v`

const selectLatestPipeline = selectPipelineVersion + `
JOIN pipelines p ON p.name = v.name AND p.version = v.version`

func scanPipeline(s scanner) (*Pipeline, error) {
	var p Pipeline
	var created, updated int64
	if err := s.Scan(&p.Name, &p.Version, &p.Declaration, &created, &updated); err != nil {
		return nil, err
	}
	p.Created, p.Updated = fromMillis(created), fromMillis(updated)
	return &p, nil
}

// CreatePipeline implements Queries. Zero p.Created and p.Updated are set
// to the current time.
func (q *queries) CreatePipeline(ctx context.Context, p *Pipeline) error {
	t := now()
	if p.Created.IsZero() {
		p.Created = t
	}
	if p.Updated.IsZero() {
		p.Updated = t
	}
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.insertNew(ctx, `INSERT INTO pipelines (name, version) VALUES (?, ?)`, p.Name, p.Version); err != nil {
			return err
		}
		return q.insertPipelineVersion(ctx, p)
	})
	if err != nil {
		return q.interpretError(err, "create pipeline %q", p.Name)
	}
	return nil
}

func (q *queries) insertPipelineVersion(ctx context.Context, p *Pipeline) error {
	_, err := q.exec(ctx, `INSERT INTO pipeline_versions (name, version, declaration, created_ms, updated_ms)
VALUES (?, ?, ?, ?, ?)`, p.Name, p.Version, p.Declaration, toMillis(p.Created), toMillis(p.Updated))
	return err
}

// GetPipeline implements Queries.
func (q *queries) GetPipeline(ctx context.Context, name string) (*Pipeline, error) {
	p, err := scanPipeline(q.queryRow(ctx, selectLatestPipeline+` WHERE p.name = ?`, name))
	if err != nil {
		return nil, q.interpretError(err, "get pipeline %q", name)
	}
	return p, nil
}

// GetPipelineVersion implements Queries.
func (q *queries) GetPipelineVersion(ctx context.Context, name string, version int32) (*Pipeline, error) {
	p, err := scanPipeline(q.queryRow(ctx, selectPipelineVersion+` WHERE v.name = ? AND v.version = ?`, name, version))
	if err != nil {
		return nil, q.interpretError(err, "get pipeline %q version %d", name, version)
	}
	return p, nil
}

// UpdatePipeline implements Queries. A zero p.Created is set to the
// previous version's; a zero p.Updated to the current time.
func (q *queries) UpdatePipeline(ctx context.Context, p *Pipeline) error {
	if p.Updated.IsZero() {
		p.Updated = now()
	}
	err := q.atomic(ctx, func(q *queries) error {
		// Compare-and-set on the latest pointer. Being one statement, it
		// is also right under PostgreSQL's READ COMMITTED, where a
		// separate SELECT then UPDATE could race.
		err := q.execOne(ctx, `UPDATE pipelines SET version = ? WHERE name = ? AND version = ?`,
			p.Version, p.Name, p.Version-1)
		if errors.Is(err, ErrNotFound) {
			var latest int32
			if err := q.queryRow(ctx, `SELECT version FROM pipelines WHERE name = ?`, p.Name).Scan(&latest); err != nil {
				return err
			}
			return fmt.Errorf("latest version is %d, not %d: %w", latest, p.Version-1, ErrConflict)
		}
		if err != nil {
			return err
		}
		if p.Created.IsZero() {
			var created int64
			if err := q.queryRow(ctx, `SELECT created_ms FROM pipeline_versions WHERE name = ? AND version = ?`,
				p.Name, p.Version-1).Scan(&created); err != nil {
				return fmt.Errorf("read version %d: %w", p.Version-1, err)
			}
			p.Created = fromMillis(created)
		}
		return q.insertPipelineVersion(ctx, p)
	})
	if err != nil {
		return q.interpretError(err, "update pipeline %q to version %d", p.Name, p.Version)
	}
	return nil
}

// DeletePipeline implements Queries.
func (q *queries) DeletePipeline(ctx context.Context, name string) error {
	err := q.atomic(ctx, func(q *queries) error {
		if _, err := q.exec(ctx, `DELETE FROM pipeline_versions WHERE name = ?`, name); err != nil {
			return err
		}
		return q.execOne(ctx, `DELETE FROM pipelines WHERE name = ?`, name)
	})
	if err != nil {
		return q.interpretError(err, "delete pipeline %q", name)
	}
	return nil
}

// ListPipelines implements Queries.
func (q *queries) ListPipelines(ctx context.Context, page Page) ([]*Pipeline, error) {
	query, args := selectLatestPipeline, []any{}
	if page.After != "" {
		query += ` WHERE p.name > ?`
		args = append(args, page.After)
	}
	query += ` ORDER BY p.name`
	if page.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, page.Limit)
	}
	ps, err := queryAll(ctx, q, scanPipeline, query, args...)
	if err != nil {
		return nil, q.interpretError(err, "list pipelines after %q", page.After)
	}
	return ps, nil
}

// CountPipelines implements Queries.
func (q *queries) CountPipelines(ctx context.Context) (int, error) {
	var n int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM pipelines`).Scan(&n); err != nil {
		return 0, q.interpretError(err, "count pipelines")
	}
	return n, nil
}

// Tags.

// TagResource implements Queries.
func (q *queries) TagResource(ctx context.Context, arn string, tags []Tag) error {
	if len(tags) == 0 {
		return nil
	}
	err := q.atomic(ctx, func(q *queries) error {
		for _, t := range tags {
			// ON CONFLICT ... DO UPDATE is the same in SQLite and PostgreSQL.
			if _, err := q.exec(ctx, `INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?)
ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`, arn, t.Key, t.Value); err != nil {
				return fmt.Errorf("tag %q: %w", t.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return q.interpretError(err, "tag resource %q", arn)
	}
	return nil
}

// UntagResource implements Queries.
func (q *queries) UntagResource(ctx context.Context, arn string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	err := q.atomic(ctx, func(q *queries) error {
		for _, k := range keys {
			if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_arn = ? AND key = ?`, arn, k); err != nil {
				return fmt.Errorf("untag %q: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return q.interpretError(err, "untag resource %q", arn)
	}
	return nil
}

// ListTags implements Queries.
func (q *queries) ListTags(ctx context.Context, arn string) ([]Tag, error) {
	tags, err := queryAll(ctx, q, func(s scanner) (Tag, error) {
		var t Tag
		err := s.Scan(&t.Key, &t.Value)
		return t, err
	}, `SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key`, arn)
	if err != nil {
		return nil, q.interpretError(err, "list tags of %q", arn)
	}
	return tags, nil
}

// DeleteTags implements Queries.
func (q *queries) DeleteTags(ctx context.Context, arn string) error {
	if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_arn = ?`, arn); err != nil {
		return q.interpretError(err, "delete tags of %q", arn)
	}
	return nil
}

// Action types.

func scanActionType(s scanner) (*ActionType, error) {
	var t ActionType
	var created int64
	if err := s.Scan(&t.Category, &t.Owner, &t.Provider, &t.Version, &t.Declaration, &created); err != nil {
		return nil, err
	}
	t.Created = fromMillis(created)
	return &t, nil
}

// actionTypeName names an action type in errors.
func actionTypeName(k ActionTypeKey) string {
	return k.Category + "/" + k.Owner + "/" + k.Provider + "/" + k.Version
}

const selectActionType = `SELECT category, owner, provider, version, declaration, created_ms FROM action_types`

// CreateActionType implements Queries. A zero t.Created is set to the
// current time.
func (q *queries) CreateActionType(ctx context.Context, t *ActionType) error {
	if t.Created.IsZero() {
		t.Created = now()
	}
	if err := q.insertNew(ctx, `INSERT INTO action_types (category, owner, provider, version, declaration, created_ms)
VALUES (?, ?, ?, ?, ?, ?)`, t.Category, t.Owner, t.Provider, t.Version, t.Declaration, toMillis(t.Created)); err != nil {
		return q.interpretError(err, "create action type %s", actionTypeName(t.ActionTypeKey))
	}
	return nil
}

// GetActionType implements Queries.
func (q *queries) GetActionType(ctx context.Context, key ActionTypeKey) (*ActionType, error) {
	t, err := scanActionType(q.queryRow(ctx, selectActionType+`
WHERE category = ? AND owner = ? AND provider = ? AND version = ?`, key.Category, key.Owner, key.Provider, key.Version))
	if err != nil {
		return nil, q.interpretError(err, "get action type %s", actionTypeName(key))
	}
	return t, nil
}

// ListActionTypes implements Queries.
func (q *queries) ListActionTypes(ctx context.Context) ([]*ActionType, error) {
	ts, err := queryAll(ctx, q, scanActionType, selectActionType+` ORDER BY category, owner, provider, version`)
	if err != nil {
		return nil, q.interpretError(err, "list action types")
	}
	return ts, nil
}

// DeleteActionType implements Queries; ErrNotFound if it does not exist.
func (q *queries) DeleteActionType(ctx context.Context, key ActionTypeKey) error {
	if err := q.execOne(ctx, `DELETE FROM action_types
WHERE category = ? AND owner = ? AND provider = ? AND version = ?`, key.Category, key.Owner, key.Provider, key.Version); err != nil {
		return q.interpretError(err, "delete action type %s", actionTypeName(key))
	}
	return nil
}

// Access keys. Errors name the key ID, never the secret.

func scanAccessKey(s scanner) (*AccessKey, error) {
	var k AccessKey
	var created int64
	if err := s.Scan(&k.ID, &k.SealedSecret, &k.UserName, &created); err != nil {
		return nil, err
	}
	k.Created = fromMillis(created)
	return &k, nil
}

const selectAccessKey = `SELECT id, sealed_secret, user_name, created_ms FROM access_keys`

// CreateAccessKey implements Queries. A zero k.Created is set to the
// current time.
func (q *queries) CreateAccessKey(ctx context.Context, k *AccessKey) error {
	if k.Created.IsZero() {
		k.Created = now()
	}
	if err := q.insertNew(ctx, `INSERT INTO access_keys (id, sealed_secret, user_name, created_ms) VALUES (?, ?, ?, ?)`,
		k.ID, k.SealedSecret, k.UserName, toMillis(k.Created)); err != nil {
		return q.interpretError(err, "create access key %q", k.ID)
	}
	return nil
}

// GetAccessKey implements Queries.
func (q *queries) GetAccessKey(ctx context.Context, id string) (*AccessKey, error) {
	k, err := scanAccessKey(q.queryRow(ctx, selectAccessKey+` WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get access key %q", id)
	}
	return k, nil
}

// ListAccessKeys implements Queries.
func (q *queries) ListAccessKeys(ctx context.Context) ([]*AccessKey, error) {
	ks, err := queryAll(ctx, q, scanAccessKey, selectAccessKey+` ORDER BY id`)
	if err != nil {
		return nil, q.interpretError(err, "list access keys")
	}
	return ks, nil
}

// Settings.

// GetSetting implements Queries.
func (q *queries) GetSetting(ctx context.Context, key string) (string, error) {
	var v string
	if err := q.queryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v); err != nil {
		return "", q.interpretError(err, "get setting %q", key)
	}
	return v, nil
}

// PutSetting implements Queries.
func (q *queries) PutSetting(ctx context.Context, key, value string) error {
	if _, err := q.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return q.interpretError(err, "put setting %q", key)
	}
	return nil
}
