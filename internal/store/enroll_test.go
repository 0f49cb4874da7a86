package store

import (
	"testing"
	"time"
)

// The EnrollQueries part of the conformance suite, on both databases.
func exerciseEnroll(t *testing.T, open func(t *testing.T) Store) {
	t.Run("EnrollmentTokens", func(t *testing.T) {
		t.Parallel()
		testEnrollmentTokens(t, open(t))
	})
}

func TestSQLiteEnroll(t *testing.T) {
	t.Parallel()
	exerciseEnroll(t, openSQLiteTemp)
}

func TestPostgresEnroll(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exerciseEnroll(t, openPostgresTemp)
}

func enrollID(t *EnrollmentToken) string { return t.ID }

func testEnrollmentTokens(t *testing.T, s Store) {
	ctx := t.Context()
	ts, err := s.ListEnrollmentTokens(ctx)
	wantKeys(t, "ListEnrollmentTokens empty", ts, err, enrollID)
	_, err = s.GetEnrollmentToken(ctx, "a")
	wantErr(t, "GetEnrollmentToken missing", err, ErrNotFound)
	wantErr(t, "DeleteEnrollmentToken missing", s.DeleteEnrollmentToken(ctx, "a"), ErrNotFound)
	wantErr(t, "UseEnrollmentToken missing", s.UseEnrollmentToken(ctx, "a", at(0)), ErrNotFound)

	a := &EnrollmentToken{ID: "a", TokenHash: "00ff", Tags: []Tag{{"env", "prod"}, {"role", "web"}}, MaxUses: 2,
		Expires: at(time.Hour), Created: at(0)}
	b := &EnrollmentToken{ID: "B", TokenHash: "11", MaxUses: 1, Expires: at(time.Minute)}
	must(t, "CreateEnrollmentToken a", s.CreateEnrollmentToken(ctx, a))
	must(t, "CreateEnrollmentToken B", s.CreateEnrollmentToken(ctx, b))
	wantErr(t, "CreateEnrollmentToken duplicate", s.CreateEnrollmentToken(ctx, &EnrollmentToken{ID: "a", Expires: at(0)}), ErrExists)
	b.Tags = []Tag{}
	got, err := s.GetEnrollmentToken(ctx, "a")
	must(t, "GetEnrollmentToken a", err)
	wantEqual(t, "GetEnrollmentToken a", got, a)
	ts, err = s.ListEnrollmentTokens(ctx)
	wantKeys(t, "ListEnrollmentTokens", ts, err, enrollID, "B", "a")
	wantEqual(t, "ListEnrollmentTokens", ts, []*EnrollmentToken{b, a})

	// Uses count up to max_uses, only before expiry; a release gives one back.
	wantErr(t, "UseEnrollmentToken expired", s.UseEnrollmentToken(ctx, "B", at(time.Minute)), ErrNotFound)
	must(t, "UseEnrollmentToken B", s.UseEnrollmentToken(ctx, "B", at(0)))
	wantErr(t, "UseEnrollmentToken B used up", s.UseEnrollmentToken(ctx, "B", at(0)), ErrNotFound)
	must(t, "ReleaseEnrollmentToken B", s.ReleaseEnrollmentToken(ctx, "B"))
	wantErr(t, "ReleaseEnrollmentToken B twice", s.ReleaseEnrollmentToken(ctx, "B"), ErrNotFound)
	must(t, "UseEnrollmentToken a 1", s.UseEnrollmentToken(ctx, "a", at(0)))
	must(t, "UseEnrollmentToken a 2", s.UseEnrollmentToken(ctx, "a", at(0)))
	wantErr(t, "UseEnrollmentToken a 3", s.UseEnrollmentToken(ctx, "a", at(0)), ErrNotFound)
	got, err = s.GetEnrollmentToken(ctx, "a")
	must(t, "GetEnrollmentToken a used", err)
	if got.Uses != 2 {
		t.Errorf("uses %d, want 2", got.Uses)
	}

	must(t, "DeleteEnrollmentToken a", s.DeleteEnrollmentToken(ctx, "a"))
	ts, err = s.ListEnrollmentTokens(ctx)
	wantKeys(t, "ListEnrollmentTokens after delete", ts, err, enrollID, "B")
}
