package engine

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

func TestMissingLabels(t *testing.T) {
	for _, tc := range []struct {
		name           string
		required, have []string
		want           []string
	}{
		{"nothing required, no labels", nil, nil, nil},
		{"nothing required, some labels", nil, []string{"gpu"}, nil},
		{"one required, none held", []string{"gpu"}, nil, []string{"gpu"}},
		{"one required, held", []string{"gpu"}, []string{"linux", "gpu"}, nil},
		{"two required, one held", []string{"gpu", "arm64"}, []string{"gpu"}, []string{"arm64"}},
		{"two required, both held", []string{"gpu", "arm64"}, []string{"arm64", "gpu", "big"}, nil},
		{"case matters", []string{"GPU"}, []string{"gpu"}, []string{"GPU"}},
		{"repeated requirement counted once", []string{"gpu", "gpu"}, nil, []string{"gpu"}},
		{"order of required kept", []string{"b", "a", "c"}, []string{"c"}, []string{"b", "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MissingLabels(tc.required, tc.have); !slices.Equal(got, tc.want) {
				t.Errorf("MissingLabels(%q, %q) = %q, want %q", tc.required, tc.have, got, tc.want)
			}
		})
	}
}

func TestRoutedByLabels(t *testing.T) {
	for _, tc := range []struct {
		typ  store.ActionTypeKey
		want bool
	}{
		{store.ActionTypeKey{Category: cpapi.ActionCategoryBuild, Owner: cpapi.ActionOwnerAws, Provider: "CodeBuild", Version: "1"}, true},
		{store.ActionTypeKey{Category: cpapi.ActionCategoryTest, Owner: cpapi.ActionOwnerAws, Provider: "CodeBuild", Version: "1"}, true},
		{store.ActionTypeKey{Category: cpapi.ActionCategoryCompute, Owner: cpapi.ActionOwnerAws, Provider: "Commands", Version: "1"}, false},
		{store.ActionTypeKey{Category: cpapi.ActionCategoryBuild, Owner: cpapi.ActionOwnerCustom, Provider: "CodeBuild", Version: "1"}, false},
		{store.ActionTypeKey{Category: cpapi.ActionCategorySource, Owner: cpapi.ActionOwnerAws, Provider: "S3", Version: "1"}, false},
	} {
		if got := routedByLabels(tc.typ); got != tc.want {
			t.Errorf("routedByLabels(%+v) = %v, want %v", tc.typ, got, tc.want)
		}
	}
}

// PollWorkerJobs over a real store: a CodeBuild job whose build project
// has WorkerLabels goes only to a worker with all of them; one whose
// project has none (or that has no project) goes to any worker.
func TestPollWorkerJobsRoutesByLabels(t *testing.T) {
	h := newHarness(t, Config{})
	codeBuild := &cpapi.ActionTypeId{Category: cpapi.ActionCategoryBuild, Owner: cpapi.ActionOwnerAws, Provider: "CodeBuild", Version: "1"}
	now := h.clock.now()
	for name, decl := range map[string]string{
		"train": `{"name":"train","workerLabels":["gpu","arm64"]}`,
		"lint":  `{"name":"lint"}`,
	} {
		if err := h.st.CreateBuildProject(h.ctx, &store.BuildProject{Name: name, Declaration: []byte(decl), Created: now, Updated: now}); err != nil {
			t.Fatalf("CreateBuildProject: %v", err)
		}
	}
	for _, p := range []string{"train", "lint", "nameless"} {
		h.pipeline(twoStages("P-"+p, action("Compile", codeBuild, []string{"Code"}, nil, map[string]string{"ProjectName": p})))
		h.start("P-" + p)
		h.complete(h.claim(srcType), JobResult{Success: true})
		h.reconcile("P-" + p)
	}
	poll := func(labels ...string) []string {
		t.Helper()
		jobs, err := h.e.PollWorkerJobs(h.ctx, *codeBuild, 10, nil, labels)
		if err != nil {
			t.Fatalf("PollWorkerJobs(%q): %v", labels, err)
		}
		var pipelines []string
		for _, j := range jobs {
			pipelines = append(pipelines, j.Data.PipelineContext.PipelineName)
		}
		slices.Sort(pipelines)
		return pipelines
	}
	if got := poll("gpu", "linux"); len(got) != 2 || got[0] != "P-lint" || got[1] != "P-nameless" {
		t.Fatalf("a worker with gpu but not arm64 got %q, want the unlabelled jobs only", got)
	}
	if got := poll(); len(got) != 0 {
		t.Fatalf("a worker without labels got %q after the unlabelled jobs were taken, want none", got)
	}
	if jobs, err := h.e.PollJobs(h.ctx, *codeBuild, 10, nil); err != nil || len(jobs) != 0 {
		t.Fatalf("PollJobs = %d jobs, %v; want none (no labels)", len(jobs), err)
	}
	if got := poll("arm64", "linux", "gpu"); len(got) != 1 || got[0] != "P-train" {
		t.Fatalf("a worker with gpu and arm64 got %q, want the labelled job", got)
	}
}

// BenchmarkPollSkippingLabelledJobs measures a poll by a worker without
// labels while 200 CodeBuild jobs that require a label it lacks wait in
// the queue (each poll reads past all of them, and their one project
// once).
func BenchmarkPollSkippingLabelledJobs(b *testing.B) {
	ctx := b.Context()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := New(st, "us-east-1", "123456789012", Config{}, nil, clock.now)
	now := clock.now()
	if err := st.CreateBuildProject(ctx, &store.BuildProject{Name: "train", Declaration: []byte(`{"workerLabels":["gpu"]}`), Created: now, Updated: now}); err != nil {
		b.Fatal(err)
	}
	codeBuild := &cpapi.ActionTypeId{Category: cpapi.ActionCategoryBuild, Owner: cpapi.ActionOwnerAws, Provider: "CodeBuild", Version: "1"}
	const queued = 200
	for i := range queued {
		name := fmt.Sprintf("P%03d", i)
		body, _ := json.Marshal(twoStages(name, action("Compile", codeBuild, []string{"Code"}, nil, map[string]string{"ProjectName": "train"})))
		if err := st.CreatePipeline(ctx, &store.Pipeline{Name: name, Version: 1, Declaration: body, Created: now, Updated: now}); err != nil {
			b.Fatal(err)
		}
		if _, err := e.StartExecution(ctx, name, StartParams{TriggerType: cpapi.TriggerTypeStartPipelineExecution}); err != nil {
			b.Fatal(err)
		}
		if err := e.Reconcile(ctx, name); err != nil {
			b.Fatal(err)
		}
		jobs, err := e.PollJobs(ctx, *srcType, 1, nil)
		if err != nil || len(jobs) != 1 {
			b.Fatalf("source job: %d, %v", len(jobs), err)
		}
		if _, err := e.AcknowledgeJob(ctx, jobs[0].ID, jobs[0].Nonce); err != nil {
			b.Fatal(err)
		}
		if err := e.CompleteJob(ctx, jobs[0].ID, JobResult{Success: true}); err != nil {
			b.Fatal(err)
		}
		if err := e.Reconcile(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		jobs, err := e.PollWorkerJobs(ctx, *codeBuild, 10, nil, []string{"linux"})
		if err != nil || len(jobs) != 0 {
			b.Fatalf("PollWorkerJobs = %d jobs, %v; want none", len(jobs), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/queued, "µs/skipped-job")
}
