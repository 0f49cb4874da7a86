package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// deliveryWait bounds how long a test waits for a notification that must
// arrive; it only decides when a test gives up, never what it asserts.
const deliveryWait = 10 * time.Second

// recorder subscribes to a channel and records what arrives.
type recorder struct {
	mu  sync.Mutex
	got []Notification
	ch  chan struct{}
}

func record(t *testing.T, s Store, channel string) *recorder {
	t.Helper()
	r := &recorder{ch: make(chan struct{}, 1)}
	cancel := s.Subscribe(channel, func(n Notification) {
		r.mu.Lock()
		r.got = append(r.got, n)
		r.mu.Unlock()
		select {
		case r.ch <- struct{}{}:
		default:
		}
	})
	t.Cleanup(cancel)
	return r
}

// payloads returns the payloads received so far, resyncs left out.
func (r *recorder) payloads() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.got {
		if !n.Resync {
			out = append(out, n.Payload)
		}
	}
	return out
}

func (r *recorder) resyncs() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.got {
		if x.Resync {
			n++
		}
	}
	return n
}

// waitFor waits until cond holds on what r received.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(deliveryWait)
	for !cond() {
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("%s: not received; got payloads %q, %d resyncs", what, r.payloads(), r.resyncs())
		}
	}
}

// waitPayloads waits until r has received exactly want (in order).
func (r *recorder) waitPayloads(t *testing.T, want ...string) {
	t.Helper()
	r.waitFor(t, fmt.Sprintf("payloads %q", want), func() bool { return len(r.payloads()) >= len(want) })
	if got := r.payloads(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("payloads = %q, want %q", got, want)
	}
}

// testNotifications: a publish outside a transaction reaches the
// subscribers of its channel only, cancel ends a subscription, and bad
// channels and payloads are refused.
func testNotifications(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := record(t, s, "pipelines"), record(t, s, "jobs")
	a2 := &recorder{ch: make(chan struct{}, 1)}
	cancel := s.Subscribe("pipelines", func(n Notification) {
		a2.mu.Lock()
		a2.got = append(a2.got, n)
		a2.mu.Unlock()
	})
	must(t, "publish", s.Publish(ctx, "pipelines", "p1"))
	a.waitPayloads(t, "p1")
	if got := a2.payloads(); len(got) != 1 || got[0] != "p1" {
		t.Fatalf("second subscriber got %q, want [p1]", got)
	}
	cancel()
	must(t, "publish", s.Publish(ctx, "jobs", ""))
	must(t, "publish", s.Publish(ctx, "pipelines", "p2"))
	b.waitPayloads(t, "")
	a.waitPayloads(t, "p1", "p2")
	if got := a2.payloads(); len(got) != 1 {
		t.Errorf("cancelled subscriber got %q after cancel, want only [p1]", got)
	}

	for _, tc := range []struct{ channel, payload string }{
		{"", "x"},
		{"two\nlines", "x"},
		{"pipelines", strings.Repeat("x", MaxNotificationPayload+1)},
		{"pipelines", "nul\x00"},
	} {
		err := s.Publish(ctx, tc.channel, tc.payload)
		if !errors.Is(err, errBadNotification) {
			t.Errorf("Publish(%q, %d bytes) = %v, want errBadNotification", tc.channel, len(tc.payload), err)
		}
	}
	must(t, "publish the largest payload", s.Publish(ctx, "pipelines", strings.Repeat("y", MaxNotificationPayload)))
	a.waitFor(t, "largest payload", func() bool { return len(a.payloads()) == 3 })
}

// testNotificationsInTx: a notification published inside InTx is
// delivered once the transaction commits, in order, and never when it
// rolls back.
func testNotificationsInTx(t *testing.T, s Store) {
	ctx := t.Context()
	r := record(t, s, "deployments")
	errRollback := errors.New("roll back")
	err := s.InTx(ctx, func(q Queries) error {
		must(t, "publish", q.Publish(ctx, "deployments", "rolled-back"))
		return errRollback
	})
	wantErr(t, "InTx", err, errRollback)
	must(t, "InTx", s.InTx(ctx, func(q Queries) error {
		must(t, "publish", q.Publish(ctx, "deployments", "d1"))
		must(t, "put setting", q.PutSetting(ctx, "k", "v"))
		must(t, "publish", q.Publish(ctx, "deployments", "d2"))
		if got := r.payloads(); len(got) != 0 {
			t.Errorf("delivered before commit: %q", got)
		}
		return nil
	}))
	// A marker published afterwards: the rolled-back one would have come
	// before it.
	must(t, "publish", s.Publish(ctx, "deployments", "after"))
	r.waitPayloads(t, "d1", "d2", "after")
}

// testAgentSeen: the last time only moves forward.
func testAgentSeen(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.AgentSeen(ctx, "host-1")
	wantErr(t, "AgentSeen of an unseen instance", err, ErrNotFound)
	t1 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	must(t, "record", s.RecordAgentSeen(ctx, "host-1", t1))
	must(t, "record earlier", s.RecordAgentSeen(ctx, "host-1", t1.Add(-time.Minute)))
	got, err := s.AgentSeen(ctx, "host-1")
	must(t, "AgentSeen", err)
	if !got.Equal(t1) {
		t.Fatalf("AgentSeen = %v, want %v (an earlier time must not move it back)", got, t1)
	}
	must(t, "record in a transaction", s.InTx(ctx, func(q Queries) error {
		return q.RecordAgentSeen(ctx, "host-1", t1.Add(time.Second))
	}))
	if got, err := s.AgentSeen(ctx, "host-1"); err != nil || !got.Equal(t1.Add(time.Second)) {
		t.Fatalf("AgentSeen = %v, %v; want %v", got, err, t1.Add(time.Second))
	}
	if _, err := s.AgentSeen(ctx, "host-2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("AgentSeen(host-2) = %v, want ErrNotFound", err)
	}
}

// TestPostgresNotifyAcrossStores opens two Stores on one database, as two
// servers would: each sees the other's notifications (committed ones
// only), its own exactly once, and after its listener connection is
// killed it gets a resync and then notifications again.
func TestPostgresNotifyAcrossStores(t *testing.T) {
	t.Parallel()
	dsn := createPostgresDB(t, postgresAdminDSN(t))
	a := openTest(t, dsn, testLogger(t))
	b := openTest(t, dsn, testLogger(t))
	ctx := t.Context()
	ra, rb := record(t, a, "hosts"), record(t, b, "hosts")
	// Both listen once Subscribe returns; the first connection brings a
	// resync each.
	ra.waitFor(t, "first resync of a", func() bool { return ra.resyncs() == 1 })
	rb.waitFor(t, "first resync of b", func() bool { return rb.resyncs() == 1 })

	must(t, "publish on a", a.InTx(ctx, func(q Queries) error { return q.Publish(ctx, "hosts", "from-a") }))
	errRollback := errors.New("roll back")
	wantErr(t, "rolled back publish", a.InTx(ctx, func(q Queries) error {
		must(t, "publish", q.Publish(ctx, "hosts", "rolled-back"))
		return errRollback
	}), errRollback)
	must(t, "publish on b", b.Publish(ctx, "hosts", "from-b"))
	// Each sees its own at once and the other's through PostgreSQL; a's
	// own notification does not come back through its listener (it would
	// come before from-b, which committed later).
	ra.waitPayloads(t, "from-a", "from-b")
	rb.waitFor(t, "from-a and from-b on b", func() bool { return len(rb.payloads()) >= 2 })
	if got := rb.payloads(); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"from-a", "from-b"}) {
		t.Fatalf("b got %q, want from-a and from-b once each", got)
	}

	// Kill b's listener connection: b reconnects and resyncs.
	admin := openPostgresAdmin(t, dsn)
	defer admin.Close()
	res, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`, ListenerApplicationName)
	must(t, "terminate listeners", err)
	if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("terminated %d listener connections, want 2 (one per Store)", n)
	}
	rb.waitFor(t, "resync after reconnect", func() bool { return rb.resyncs() == 2 })
	ra.waitFor(t, "resync after reconnect", func() bool { return ra.resyncs() == 2 })
	must(t, "publish on a", a.Publish(ctx, "hosts", "after-reconnect"))
	rb.waitFor(t, "after-reconnect on b", func() bool { return len(rb.payloads()) >= 3 })
	if got := rb.payloads(); len(got) != 3 || got[2] != "after-reconnect" {
		t.Fatalf("b got %q, want from-a and from-b once each, then after-reconnect", got)
	}
}

// TestPostgresCloseStopsListener: Close ends the listener connection.
func TestPostgresCloseStopsListener(t *testing.T) {
	t.Parallel()
	dsn := createPostgresDB(t, postgresAdminDSN(t))
	s, err := Open(t.Context(), dsn, testLogger(t))
	must(t, "open", err)
	s.Subscribe("x", func(Notification) {})
	admin := openPostgresAdmin(t, dsn)
	defer admin.Close()
	count := func() int {
		var n int
		must(t, "count listeners", admin.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = $1`, ListenerApplicationName).Scan(&n))
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("%d listener connections while subscribed, want 1", n)
	}
	must(t, "close", s.Close())
	deadline := time.Now().Add(deliveryWait)
	for count() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the listener connection outlived Close")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Publish(context.Background(), "x", "closed"); err == nil {
		t.Error("Publish on a closed Store succeeded")
	}
}

// BenchmarkPostgresWake measures a wake-up between two Stores on one
// database: a transaction on A that publishes, committed, until B's
// subscriber has it.
func BenchmarkPostgresWake(b *testing.B) {
	admin := os.Getenv(postgresDSNEnv)
	if admin == "" {
		b.Skipf("set %s to run it", postgresDSNEnv)
	}
	dsn := createPostgresDB(b, admin)
	ctx := context.Background()
	a, err := Open(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	sb, err := Open(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	got := make(chan string, 1)
	sb.Subscribe("bench", func(n Notification) {
		if !n.Resync {
			got <- n.Payload
		}
	})
	for i := 0; b.Loop(); i++ {
		p := strconv.Itoa(i)
		if err := a.InTx(ctx, func(q Queries) error { return q.Publish(ctx, "bench", p) }); err != nil {
			b.Fatal(err)
		}
		if v := <-got; v != p {
			b.Fatalf("got %q, want %q", v, p)
		}
	}
}
