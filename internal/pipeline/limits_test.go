package pipeline

import "testing"

func TestDefaultLimits(t *testing.T) {
	t.Parallel()
	want := Limits{MaxStages: 10, MaxActionsPerStage: 20, MaxParallelActions: 5, MaxSequentialActions: 5, MaxTriggers: 50}
	if got := DefaultLimits(); got != want {
		t.Fatalf("DefaultLimits() = %+v, want %+v", got, want)
	}
	if got := (Limits{MaxStages: 50, MaxTriggers: -1}).withDefaults(); got.MaxStages != 50 || got.MaxTriggers != 50 {
		t.Fatalf("withDefaults = %+v", got)
	}
}
