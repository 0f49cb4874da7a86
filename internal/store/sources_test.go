package store

import (
	"errors"
	"testing"
	"time"
)

// The SourceQueries part of the conformance suite, run on both databases
// by TestSQLiteSources and TestPostgresSources.
func exerciseSources(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		test func(*testing.T, Store)
	}{
		{"Connections", testConnections},
		{"Webhooks", testWebhooks},
		{"SourcePollStates", testSourcePollStates},
		{"SourcesInTx", testSourcesInTx},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

func TestSQLiteSources(t *testing.T) {
	t.Parallel()
	exerciseSources(t, openSQLiteTemp)
}

func TestPostgresSources(t *testing.T) {
	t.Parallel()
	postgresAdminDSN(t)
	exerciseSources(t, openPostgresTemp)
}

func connectionARN(c *Connection) string { return c.ARN }
func webhookName(w *Webhook) string      { return w.Name }
func pollRef(s *SourcePollState) string  { return s.Ref }

const arnPrefix = "arn:aws:codeconnections:us-east-1:123456789012:connection/"

func testConnections(t *testing.T, s Store) {
	ctx := t.Context()
	cs, err := s.ListConnections(ctx)
	wantKeys(t, "ListConnections empty", cs, err, connectionARN)
	_, err = s.GetConnection(ctx, arnPrefix+"x")
	wantErr(t, "GetConnection missing", err, ErrNotFound)
	wantErr(t, "DeleteConnection missing", s.DeleteConnection(ctx, arnPrefix+"x"), ErrNotFound)

	// Sealed passwords are opaque bytes, zero bytes included; names need
	// not be unique and order the listing, ARNs break ties.
	a := &Connection{ARN: arnPrefix + "b", Name: "web", RemoteURL: "https://git.example.com/{FullRepositoryId}.git",
		Username: "ci", SealedPassword: []byte{1, 0, 2, 0xff}, Created: at(0), Updated: at(time.Second)}
	b := &Connection{ARN: arnPrefix + "a", Name: "web", RemoteURL: "/srv/git/app.git"} // times from the store
	c := &Connection{ARN: arnPrefix + "c", Name: "Apps", RemoteURL: "git@example.com:team/app.git", Created: at(time.Minute), Updated: at(time.Minute)}
	before := time.Now().Add(-time.Second)
	for _, x := range []*Connection{a, b, c} {
		must(t, "CreateConnection "+x.ARN, s.CreateConnection(ctx, x))
	}
	if b.Created.Before(before) || !b.Updated.Equal(b.Created) || b.Created.Location() != time.UTC {
		t.Errorf("zero times were set to %v / %v, want the current UTC time", b.Created, b.Updated)
	}
	wantErr(t, "CreateConnection twice", s.CreateConnection(ctx, &Connection{ARN: a.ARN, Name: "other", RemoteURL: "/x"}), ErrExists)
	got, err := s.GetConnection(ctx, a.ARN)
	must(t, "GetConnection a", err)
	wantEqual(t, "GetConnection a", got, a)
	got, err = s.GetConnection(ctx, b.ARN)
	must(t, "GetConnection b", err)
	wantEqual(t, "GetConnection b", got, b)
	if got.SealedPassword != nil {
		t.Errorf("no password reads back as %v, want nil", got.SealedPassword)
	}
	cs, err = s.ListConnections(ctx)
	wantKeys(t, "ListConnections", cs, err, connectionARN, c.ARN, b.ARN, a.ARN)

	must(t, "DeleteConnection a", s.DeleteConnection(ctx, a.ARN))
	_, err = s.GetConnection(ctx, a.ARN)
	wantErr(t, "GetConnection deleted", err, ErrNotFound)
	wantErr(t, "DeleteConnection twice", s.DeleteConnection(ctx, a.ARN), ErrNotFound)
	cs, err = s.ListConnections(ctx)
	wantKeys(t, "ListConnections after delete", cs, err, connectionARN, c.ARN, b.ARN)
}

func testWebhooks(t *testing.T, s Store) {
	ctx := t.Context()
	ws, err := s.ListWebhooks(ctx, Page{})
	wantKeys(t, "ListWebhooks empty", ws, err, webhookName)
	_, err = s.GetWebhook(ctx, "a")
	wantErr(t, "GetWebhook missing", err, ErrNotFound)
	wantErr(t, "DeleteWebhook missing", s.DeleteWebhook(ctx, "a"), ErrNotFound)
	wantErr(t, "SetWebhookTriggered missing", s.SetWebhookTriggered(ctx, "a", at(0)), ErrNotFound)

	a := &Webhook{Name: "a", Definition: []byte(`{"name":"a"}`), SealedSecret: []byte{0, 1, 0}, Created: at(0), Updated: at(0)}
	b := &Webhook{Name: "B", Definition: []byte(`{"name":"B"}`)}
	u := &Webhook{Name: "_u", Definition: []byte(`{"name":"_u"}`), Created: at(time.Hour), Updated: at(time.Hour)}
	for _, x := range []*Webhook{a, b, u} {
		must(t, "PutWebhook "+x.Name, s.PutWebhook(ctx, x))
	}
	if !a.LastTriggered.IsZero() {
		t.Errorf("a new webhook was last triggered at %v, want never", a.LastTriggered)
	}
	got, err := s.GetWebhook(ctx, "a")
	must(t, "GetWebhook a", err)
	wantEqual(t, "GetWebhook a", got, a)
	got, err = s.GetWebhook(ctx, "B")
	must(t, "GetWebhook B", err)
	wantEqual(t, "GetWebhook B", got, b)
	if got.SealedSecret != nil || !got.LastTriggered.IsZero() {
		t.Errorf("GetWebhook B = %+v, want no secret and never triggered", got)
	}

	// Byte-wise order and paging by name.
	ws, err = s.ListWebhooks(ctx, Page{})
	wantKeys(t, "ListWebhooks", ws, err, webhookName, "B", "_u", "a")
	ws, err = s.ListWebhooks(ctx, Page{Limit: 2})
	wantKeys(t, "ListWebhooks limit 2", ws, err, webhookName, "B", "_u")
	ws, err = s.ListWebhooks(ctx, Page{After: "_u", Limit: 2})
	wantKeys(t, "ListWebhooks after _u", ws, err, webhookName, "a")

	// A delivery is recorded; replacing keeps the creation and trigger
	// times and drops a secret not sent again.
	must(t, "SetWebhookTriggered", s.SetWebhookTriggered(ctx, "a", at(2*time.Hour)))
	repl := &Webhook{Name: "a", Definition: []byte(`{"name":"a","v":2}`), Created: at(3 * time.Hour), Updated: at(3 * time.Hour)}
	must(t, "PutWebhook replace", s.PutWebhook(ctx, repl))
	want := &Webhook{Name: "a", Definition: []byte(`{"name":"a","v":2}`), LastTriggered: at(2 * time.Hour), Created: at(0), Updated: at(3 * time.Hour)}
	wantEqual(t, "replaced webhook as written back", repl, want)
	got, err = s.GetWebhook(ctx, "a")
	must(t, "GetWebhook replaced", err)
	wantEqual(t, "GetWebhook replaced", got, want)

	must(t, "DeleteWebhook a", s.DeleteWebhook(ctx, "a"))
	_, err = s.GetWebhook(ctx, "a")
	wantErr(t, "GetWebhook deleted", err, ErrNotFound)
	wantErr(t, "DeleteWebhook twice", s.DeleteWebhook(ctx, "a"), ErrNotFound)
	ws, err = s.ListWebhooks(ctx, Page{})
	wantKeys(t, "ListWebhooks after delete", ws, err, webhookName, "B", "_u")
}

func testSourcePollStates(t *testing.T, s Store) {
	ctx := t.Context()
	const r1, r2 = "https://git.example.com/a.git", "/srv/git/b.git"
	ps, err := s.ListSourcePollStates(ctx, r1)
	wantKeys(t, "ListSourcePollStates empty", ps, err, pollRef)
	wantErr(t, "DeleteSourcePollState missing", s.DeleteSourcePollState(ctx, r1, "refs/heads/main"), ErrNotFound)

	marker := &SourcePollState{Remote: r1, Updated: at(0)}
	main := &SourcePollState{Remote: r1, Ref: "refs/heads/main", Commit: "c1", Updated: at(time.Second)}
	tag := &SourcePollState{Remote: r1, Ref: "refs/tags/v1", Commit: "t1"} // time from the store
	other := &SourcePollState{Remote: r2, Ref: "refs/heads/main", Commit: "x1", Updated: at(0)}
	for _, x := range []*SourcePollState{marker, tag, main, other} {
		must(t, "PutSourcePollState "+x.Remote+" "+x.Ref, s.PutSourcePollState(ctx, x))
	}
	if tag.Updated.IsZero() || tag.Updated.Location() != time.UTC {
		t.Errorf("a zero time was set to %v, want the current UTC time", tag.Updated)
	}
	ps, err = s.ListSourcePollStates(ctx, r1)
	wantKeys(t, "ListSourcePollStates r1", ps, err, pollRef, "", "refs/heads/main", "refs/tags/v1")
	wantEqual(t, "ListSourcePollStates r1", ps, []*SourcePollState{marker, main, tag})

	// Put replaces.
	moved := &SourcePollState{Remote: r1, Ref: "refs/heads/main", Commit: "c2", Updated: at(time.Minute)}
	must(t, "PutSourcePollState move", s.PutSourcePollState(ctx, moved))
	ps, err = s.ListSourcePollStates(ctx, r1)
	wantKeys(t, "ListSourcePollStates after move", ps, err, pollRef, "", "refs/heads/main", "refs/tags/v1")
	wantEqual(t, "moved state", ps[1], moved)

	must(t, "DeleteSourcePollState", s.DeleteSourcePollState(ctx, r1, "refs/tags/v1"))
	ps, err = s.ListSourcePollStates(ctx, r1)
	wantKeys(t, "ListSourcePollStates after delete", ps, err, pollRef, "", "refs/heads/main")
	ps, err = s.ListSourcePollStates(ctx, r2)
	wantKeys(t, "ListSourcePollStates r2", ps, err, pollRef, "refs/heads/main")
}

func testSourcesInTx(t *testing.T, s Store) {
	ctx := t.Context()
	errRollback := errors.New("roll back")
	err := s.InTx(ctx, func(q Queries) error {
		// Misses leave the transaction usable (PostgreSQL aborts a
		// transaction on any failed statement).
		if err := q.DeleteWebhook(ctx, "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteWebhook missing in tx: %v, want ErrNotFound", err)
		}
		if _, err := q.GetConnection(ctx, arnPrefix+"x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetConnection missing in tx: %v, want ErrNotFound", err)
		}
		must(t, "CreateConnection in tx", q.CreateConnection(ctx, &Connection{ARN: arnPrefix + "x", Name: "x", RemoteURL: "/x"}))
		if err := q.CreateConnection(ctx, &Connection{ARN: arnPrefix + "x", Name: "x", RemoteURL: "/x"}); !errors.Is(err, ErrExists) {
			t.Errorf("CreateConnection twice in tx: %v, want ErrExists", err)
		}
		must(t, "PutWebhook in tx", q.PutWebhook(ctx, &Webhook{Name: "x", Definition: []byte(`{}`)}))
		must(t, "SetWebhookTriggered in tx", q.SetWebhookTriggered(ctx, "x", at(0)))
		must(t, "PutSourcePollState in tx", q.PutSourcePollState(ctx, &SourcePollState{Remote: "/x", Ref: "refs/heads/main", Commit: "c"}))
		ws, err := q.ListWebhooks(ctx, Page{})
		wantKeys(t, "ListWebhooks in tx", ws, err, webhookName, "x")
		return errRollback
	})
	wantErr(t, "InTx", err, errRollback)
	_, err = s.GetConnection(ctx, arnPrefix+"x")
	wantErr(t, "GetConnection after rollback", err, ErrNotFound)
	_, err = s.GetWebhook(ctx, "x")
	wantErr(t, "GetWebhook after rollback", err, ErrNotFound)
	ps, err := s.ListSourcePollStates(ctx, "/x")
	wantKeys(t, "ListSourcePollStates after rollback", ps, err, pollRef)

	must(t, "InTx commit", s.InTx(ctx, func(q Queries) error {
		if err := q.PutWebhook(ctx, &Webhook{Name: "y", Definition: []byte(`{}`), SealedSecret: []byte("s")}); err != nil {
			return err
		}
		return q.SetWebhookTriggered(ctx, "y", at(time.Hour))
	}))
	got, err := s.GetWebhook(ctx, "y")
	must(t, "GetWebhook after commit", err)
	if string(got.SealedSecret) != "s" || !got.LastTriggered.Equal(at(time.Hour)) {
		t.Errorf("committed webhook = %+v", got)
	}
}
