package store

import (
	"errors"
	"testing"
	"time"
)

// The NotifyQueries part of the conformance suite. exerciseNotify runs it
// on the Stores open returns, as exercise runs the rest; TestSQLiteNotify
// and TestPostgresNotify run it on both databases.
func exerciseNotify(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"NotificationTargets", testNotificationTargets},
		{"NotificationTargetsInTx", testNotificationTargetsInTx},
		{"LastEventID", testLastEventID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

func TestSQLiteNotify(t *testing.T) {
	t.Parallel()
	exerciseNotify(t, openSQLiteTemp)
}

func TestPostgresNotify(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exerciseNotify(t, openPostgresTemp)
}

func targetName(t *NotificationTarget) string { return t.Name }

func testNotificationTargets(t *testing.T, s Store) {
	ctx := t.Context()
	ts, err := s.ListNotificationTargets(ctx)
	wantKeys(t, "ListNotificationTargets empty", ts, err, targetName)
	_, err = s.GetNotificationTarget(ctx, "a")
	wantErr(t, "GetNotificationTarget missing", err, ErrNotFound)
	wantErr(t, "DeleteNotificationTarget missing", s.DeleteNotificationTarget(ctx, "a"), ErrNotFound)

	// Sealed secrets are opaque bytes, zero bytes included.
	a := &NotificationTarget{Name: "a", URL: "https://hooks.example.com/a", SealedSecret: []byte{1, 0, 2, 0xff},
		Created: at(0), Updated: at(0)}
	b := &NotificationTarget{Name: "B", URL: "http://127.0.0.1:9000/b"} // no secret, times from the store
	u := &NotificationTarget{Name: "_u", URL: "http://u.example.com", Created: at(time.Minute), Updated: at(time.Minute)}
	before := time.Now().Add(-time.Second)
	for _, x := range []*NotificationTarget{a, b, u} {
		must(t, "PutNotificationTarget "+x.Name, s.PutNotificationTarget(ctx, x))
	}
	if b.Created.Before(before) || !b.Updated.Equal(b.Created) || b.Created.Location() != time.UTC {
		t.Errorf("zero times were set to %v / %v, want the current UTC time", b.Created, b.Updated)
	}
	got, err := s.GetNotificationTarget(ctx, "a")
	must(t, "GetNotificationTarget a", err)
	wantEqual(t, "GetNotificationTarget a", got, a)
	got, err = s.GetNotificationTarget(ctx, "B")
	must(t, "GetNotificationTarget B", err)
	wantEqual(t, "GetNotificationTarget B", got, b)
	if got.SealedSecret != nil {
		t.Errorf("no secret reads back as %v, want nil", got.SealedSecret)
	}
	_, err = s.GetNotificationTarget(ctx, "A")
	wantErr(t, "GetNotificationTarget is case-sensitive", err, ErrNotFound)

	// Byte-wise order on every database: "B" < "_u" < "a".
	ts, err = s.ListNotificationTargets(ctx)
	wantKeys(t, "ListNotificationTargets", ts, err, targetName, "B", "_u", "a")
	wantEqual(t, "ListNotificationTargets", ts, []*NotificationTarget{b, u, a})

	// Replacing keeps the creation time and drops a secret not sent again.
	repl := &NotificationTarget{Name: "a", URL: "https://hooks.example.com/a2", Created: at(time.Hour), Updated: at(time.Hour)}
	must(t, "PutNotificationTarget replace", s.PutNotificationTarget(ctx, repl))
	want := &NotificationTarget{Name: "a", URL: "https://hooks.example.com/a2", Created: at(0), Updated: at(time.Hour)}
	wantEqual(t, "replaced target as written back", repl, want)
	got, err = s.GetNotificationTarget(ctx, "a")
	must(t, "GetNotificationTarget replaced", err)
	wantEqual(t, "GetNotificationTarget replaced", got, want)
	repl.SealedSecret = []byte("sealed")
	repl.Updated = at(2 * time.Hour)
	must(t, "PutNotificationTarget with a secret again", s.PutNotificationTarget(ctx, repl))
	got, err = s.GetNotificationTarget(ctx, "a")
	must(t, "GetNotificationTarget with a secret again", err)
	wantEqual(t, "GetNotificationTarget with a secret again", got, repl)

	must(t, "DeleteNotificationTarget a", s.DeleteNotificationTarget(ctx, "a"))
	_, err = s.GetNotificationTarget(ctx, "a")
	wantErr(t, "GetNotificationTarget deleted", err, ErrNotFound)
	wantErr(t, "DeleteNotificationTarget twice", s.DeleteNotificationTarget(ctx, "a"), ErrNotFound)
	ts, err = s.ListNotificationTargets(ctx)
	wantKeys(t, "ListNotificationTargets after delete", ts, err, targetName, "B", "_u")
}

func testNotificationTargetsInTx(t *testing.T, s Store) {
	ctx := t.Context()
	errRollback := errors.New("roll back")
	err := s.InTx(ctx, func(q Queries) error {
		// A miss leaves the transaction usable (PostgreSQL aborts a
		// transaction on any failed statement).
		if err := q.DeleteNotificationTarget(ctx, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteNotificationTarget missing in tx: %v, want ErrNotFound", err)
		}
		if _, err := q.GetNotificationTarget(ctx, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetNotificationTarget missing in tx: %v, want ErrNotFound", err)
		}
		must(t, "PutNotificationTarget in tx", q.PutNotificationTarget(ctx, &NotificationTarget{Name: "x", URL: "http://x"}))
		ts, err := q.ListNotificationTargets(ctx)
		wantKeys(t, "ListNotificationTargets in tx", ts, err, targetName, "x")
		return errRollback
	})
	wantErr(t, "InTx", err, errRollback)
	_, err = s.GetNotificationTarget(ctx, "x")
	wantErr(t, "GetNotificationTarget after rollback", err, ErrNotFound)

	must(t, "InTx commit", s.InTx(ctx, func(q Queries) error {
		return q.PutNotificationTarget(ctx, &NotificationTarget{Name: "y", URL: "http://y", SealedSecret: []byte("s")})
	}))
	got, err := s.GetNotificationTarget(ctx, "y")
	must(t, "GetNotificationTarget after commit", err)
	if got.URL != "http://y" || string(got.SealedSecret) != "s" {
		t.Errorf("committed target = %+v", got)
	}
}

func testLastEventID(t *testing.T, s Store) {
	ctx := t.Context()
	id, err := s.LastEventID(ctx)
	must(t, "LastEventID empty", err)
	if id != 0 {
		t.Errorf("LastEventID of an empty log = %d, want 0", id)
	}
	var last int64
	for _, p := range []string{"p", "q", "p"} {
		e := &Event{Time: at(0), Type: "t", Pipeline: p}
		must(t, "AppendEvent", s.AppendEvent(ctx, e))
		last = e.ID
	}
	id, err = s.LastEventID(ctx)
	must(t, "LastEventID", err)
	if id != last {
		t.Errorf("LastEventID = %d, want %d", id, last)
	}
	must(t, "InTx", s.InTx(ctx, func(q Queries) error {
		e := &Event{Type: "t", Pipeline: "p"}
		if err := q.AppendEvent(ctx, e); err != nil {
			return err
		}
		id, err := q.LastEventID(ctx)
		if err == nil && id != e.ID {
			t.Errorf("LastEventID in tx = %d, want %d (its own append)", id, e.ID)
		}
		return err
	}))
}
