package engine

import (
	"slices"
	"testing"
)

// TestWakeUpsThroughStore: two engines on one Store, as two servers on one
// database see each other's wake-ups: a kick, a start and queued jobs of
// one wake the other, and a resync makes it sweep everything.
func TestWakeUpsThroughStore(t *testing.T) {
	h := newHarness(t, Config{})
	other := New(h.st, "us-east-1", "123456789012", Config{}, nil, h.clock.now)
	drain := func() {
		select {
		case <-other.JobsQueued():
		default:
		}
		other.takeDirty()
	}
	drain()

	h.e.Kick("kicked")
	if got := other.takeDirty(); !slices.Equal(got, []string{"kicked"}) {
		t.Fatalf("the other engine's dirty pipelines after Kick = %v, want [kicked]", got)
	}

	h.pipeline(twoStages("p", action("Compile", bldType, []string{"Code"}, nil, nil)))
	drain()
	h.start("p") // StartExecution kicks; the reconcile queues the source job
	if got := other.takeDirty(); !slices.Contains(got, "p") {
		t.Errorf("the other engine's dirty pipelines after a start = %v, want p", got)
	}
	select {
	case <-other.JobsQueued():
	default:
		t.Error("queued jobs did not wake the other engine's workers")
	}

	drain()
	h.e.markDirty("local")
	if got := other.takeDirty(); len(got) != 0 {
		t.Errorf("a sweep's local mark reached the other engine: %v", got)
	}
}
