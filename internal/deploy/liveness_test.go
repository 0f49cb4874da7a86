package deploy

import (
	"path/filepath"
	"testing"
	"time"
)

// TestAgentSeenAcrossRunners: a poll seen by one server's runner is what
// another server's runner (another Store on the same database) judges the
// agent's liveness by; writes are throttled to a quarter of the lease.
func TestAgentSeenAcrossRunners(t *testing.T) {
	ctx := t.Context()
	db := filepath.Join(t.TempDir(), "slipway.db")
	stA, stB := openStore(t, db), openStore(t, db)
	cfg := Config{AgentLease: time.Hour} // writes at most every 15 minutes
	b := New(stB, cfg, nil)
	b.started = time.Now().Add(-2 * time.Hour) // B has run for a while
	a := New(stA, cfg, nil)

	before, err := b.lastSeen(ctx, stB, "host-1")
	if err != nil {
		t.Fatal(err)
	}
	if !before.Equal(b.started) {
		t.Fatalf("lastSeen of a never-seen agent = %v, want B's start %v", before, b.started)
	}

	a.Seen(ctx, "host-1")
	stored, err := stA.AgentSeen(ctx, "host-1")
	if err != nil {
		t.Fatalf("the poll was not recorded in the store: %v", err)
	}
	got, err := b.lastSeen(ctx, stB, "host-1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(stored) || time.Since(got) > cfg.AgentLease {
		t.Fatalf("B's lastSeen = %v, want the poll A recorded (%v)", got, stored)
	}

	// Throttled: a second poll within a quarter lease is kept in A's
	// memory only.
	a.mu.Lock()
	first := a.seen["host-1"]
	a.mu.Unlock()
	a.Seen(ctx, "host-1")
	again, err := stA.AgentSeen(ctx, "host-1")
	if err != nil || !again.Equal(stored) {
		t.Fatalf("stored after a second poll = %v, %v; want it unchanged (%v)", again, err, stored)
	}
	local, err := a.lastSeen(ctx, stA, "host-1")
	if err != nil {
		t.Fatal(err)
	}
	if local.Before(first) {
		t.Fatalf("A's own lastSeen %v is before its last poll %v", local, first)
	}
}
