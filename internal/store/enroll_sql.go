package store

import (
	"context"
	"encoding/json"
	"time"
)

// EnrollQueries, implemented once for every dialect on the queries of
// queries.go (table in migrations/*/0009_enroll.sql). Listings return an
// empty, non-nil slice when nothing matches. Errors name the token's ID,
// never its hash.

const selectEnrollmentToken = `SELECT id, token_hash, tags, max_uses, uses, expires_ms, created_ms FROM enrollment_tokens`

func scanEnrollmentToken(s scanner) (*EnrollmentToken, error) {
	var t EnrollmentToken
	var tags string
	var expires, created int64
	if err := s.Scan(&t.ID, &t.TokenHash, &tags, &t.MaxUses, &t.Uses, &expires, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(tags), &t.Tags); err != nil {
		return nil, err
	}
	if t.Tags == nil {
		t.Tags = []Tag{}
	}
	t.Expires, t.Created = fromMillis(expires), fromMillis(created)
	return &t, nil
}

// CreateEnrollmentToken implements EnrollQueries.
func (q *queries) CreateEnrollmentToken(ctx context.Context, t *EnrollmentToken) error {
	if t.Created.IsZero() {
		t.Created = now()
	}
	tags := t.Tags
	if tags == nil {
		tags = []Tag{}
	}
	doc, err := json.Marshal(tags)
	if err != nil {
		return err
	}
	if _, err := q.exec(ctx, `INSERT INTO enrollment_tokens (id, token_hash, tags, max_uses, uses, expires_ms, created_ms)
VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.TokenHash, string(doc), t.MaxUses, t.Uses, toMillis(t.Expires), toMillis(t.Created)); err != nil {
		return q.interpretError(err, "create enrollment token %q", t.ID)
	}
	return nil
}

// GetEnrollmentToken implements EnrollQueries.
func (q *queries) GetEnrollmentToken(ctx context.Context, id string) (*EnrollmentToken, error) {
	t, err := scanEnrollmentToken(q.queryRow(ctx, selectEnrollmentToken+` WHERE id = ?`, id))
	if err != nil {
		return nil, q.interpretError(err, "get enrollment token %q", id)
	}
	return t, nil
}

// ListEnrollmentTokens implements EnrollQueries.
func (q *queries) ListEnrollmentTokens(ctx context.Context) ([]*EnrollmentToken, error) {
	ts, err := queryAll(ctx, q, scanEnrollmentToken, selectEnrollmentToken+` ORDER BY id`)
	if err != nil {
		return nil, q.interpretError(err, "list enrollment tokens")
	}
	return ts, nil
}

// DeleteEnrollmentToken implements EnrollQueries.
func (q *queries) DeleteEnrollmentToken(ctx context.Context, id string) error {
	if err := q.execOne(ctx, `DELETE FROM enrollment_tokens WHERE id = ?`, id); err != nil {
		return q.interpretError(err, "delete enrollment token %q", id)
	}
	return nil
}

// UseEnrollmentToken implements EnrollQueries with one conditional
// update, so concurrent enrollments never exceed max_uses.
func (q *queries) UseEnrollmentToken(ctx context.Context, id string, now time.Time) error {
	if err := q.execOne(ctx, `UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = ? AND uses < max_uses AND expires_ms > ?`,
		id, toMillis(now)); err != nil {
		return q.interpretError(err, "use enrollment token %q", id)
	}
	return nil
}

// ReleaseEnrollmentToken implements EnrollQueries.
func (q *queries) ReleaseEnrollmentToken(ctx context.Context, id string) error {
	if err := q.execOne(ctx, `UPDATE enrollment_tokens SET uses = uses - 1 WHERE id = ? AND uses > 0`, id); err != nil {
		return q.interpretError(err, "release enrollment token %q", id)
	}
	return nil
}
