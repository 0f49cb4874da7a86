package store

import (
	"context"
	"time"
)

// EnrollmentToken lets an agent register its own on-premises instance
// (POST /enroll) with Tags, at most MaxUses times before Expires. Only
// the SHA-256 of the token (TokenHash, hex) is stored.
type EnrollmentToken struct {
	ID        string
	TokenHash string
	Tags      []Tag
	MaxUses   int
	Uses      int
	Expires   time.Time
	Created   time.Time
}

// EnrollQueries are the queries over enrollment tokens (table in
// migrations/*/0009_enroll.sql).
type EnrollQueries interface {
	// CreateEnrollmentToken inserts t; ErrExists if its ID is taken. A
	// zero t.Created is set to the current time.
	CreateEnrollmentToken(ctx context.Context, t *EnrollmentToken) error
	// GetEnrollmentToken returns the token; ErrNotFound if none.
	GetEnrollmentToken(ctx context.Context, id string) (*EnrollmentToken, error)
	// ListEnrollmentTokens returns every token ordered by ID.
	ListEnrollmentTokens(ctx context.Context) ([]*EnrollmentToken, error)
	// DeleteEnrollmentToken removes the token; ErrNotFound if none.
	DeleteEnrollmentToken(ctx context.Context, id string) error
	// UseEnrollmentToken counts one use of the token, provided it has
	// uses left and expires after now; ErrNotFound otherwise (missing,
	// used up or expired).
	UseEnrollmentToken(ctx context.Context, id string, now time.Time) error
	// ReleaseEnrollmentToken gives back one use counted by
	// UseEnrollmentToken (an enrollment that failed); ErrNotFound if the
	// token is gone or has no use counted.
	ReleaseEnrollmentToken(ctx context.Context, id string) error
}
