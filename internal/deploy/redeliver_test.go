package deploy

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/store"
)

// A command handed out but never acknowledged is handed out again to a
// later poll once redeliverAfter has passed; an acknowledged one is not.
func TestNextCommandRedeliversUnacknowledged(t *testing.T) {
	ctx := t.Context()
	st := openStore(t, filepath.Join(t.TempDir(), "slipway.db"))
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := New(st, Config{}, nil)
	r.Now = func() time.Time { return clock }
	for _, id := range []string{"c1", "c2"} {
		if err := st.InTx(ctx, func(q store.Queries) error {
			return q.CreateHostCommand(ctx, &store.HostCommand{ID: id, DeploymentID: "d-1", Instance: "web-1", Name: "Install",
				Status: CommandPending, Created: clock, Updated: clock})
		}); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Millisecond)
	}
	next := func() string {
		t.Helper()
		c, err := r.NextCommand(ctx, "web-1")
		if err != nil {
			t.Fatal(err)
		}
		if c == nil {
			return ""
		}
		if c.Nonce == 0 || c.Status != CommandInProgress {
			t.Errorf("handed out %s with nonce %d, status %s", c.ID, c.Nonce, c.Status)
		}
		return c.ID
	}
	steps := []struct {
		advance time.Duration
		ack     string
		want    string
	}{
		{0, "", "c1"},                 // the oldest Pending
		{time.Second, "", "c2"},       // c1 is recent: the next Pending
		{redeliverAfter, "", "c1"},    // c1 was never acknowledged: again
		{0, "c1", "c2"},               // nor was c2
		{0, "c2", ""},                 // both acknowledged
		{10 * redeliverAfter, "", ""}, // and stay with their hosts
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		if s.ack != "" {
			status, err := r.Acknowledged(ctx, s.ack)
			if err != nil || status != CommandInProgress {
				t.Fatalf("step %d: Acknowledged(%s) = %q, %v", i, s.ack, status, err)
			}
		}
		if got := next(); got != s.want {
			t.Errorf("step %d: NextCommand = %q, want %q", i, got, s.want)
		}
	}
}
