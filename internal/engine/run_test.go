package engine

// Runner tests: the engine over a real SQLite store, reconciled by hand
// (no Run loop), with a clock the test moves.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	st    store.Store
	e     *Engine
	clock *fakeClock
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "db"), nil)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	return &harness{t: t, ctx: ctx, st: st, clock: clock, e: New(st, "us-east-1", "123456789012", cfg, nil, clock.now)}
}

func typeOf(category, provider string) *cpapi.ActionTypeId {
	return &cpapi.ActionTypeId{Category: category, Owner: cpapi.ActionOwnerCustom, Provider: provider, Version: "1"}
}

func action(name string, t *cpapi.ActionTypeId, in, out []string, config map[string]string) cpapi.ActionDeclaration {
	a := cpapi.ActionDeclaration{Name: name, ActionTypeId: t, RunOrder: aws.Int32(1), Configuration: config}
	for _, n := range in {
		a.InputArtifacts = append(a.InputArtifacts, cpapi.InputArtifact{Name: n})
	}
	for _, n := range out {
		a.OutputArtifacts = append(a.OutputArtifacts, cpapi.OutputArtifact{Name: n})
	}
	return a
}

var (
	srcType = typeOf(cpapi.ActionCategorySource, "Src")
	bldType = typeOf(cpapi.ActionCategoryBuild, "Bld")
)

// pipeline stores a declaration as version 1; the engine does not
// validate, so a test can store what CreatePipeline would refuse.
func (h *harness) pipeline(d *cpapi.PipelineDeclaration) {
	h.t.Helper()
	body, err := json.Marshal(d)
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.clock.now()
	if err := h.st.CreatePipeline(h.ctx, &store.Pipeline{Name: d.Name, Version: 1, Declaration: body, Created: now, Updated: now}); err != nil {
		h.t.Fatalf("CreatePipeline: %v", err)
	}
}

func twoStages(name string, build cpapi.ActionDeclaration) *cpapi.PipelineDeclaration {
	src := action("Fetch", srcType, nil, []string{"Code"}, nil)
	src.Namespace = "SV"
	return &cpapi.PipelineDeclaration{Name: name, ArtifactStore: &cpapi.ArtifactStore{Type: "S3", Location: "bucket"},
		Stages: []cpapi.StageDeclaration{{Name: "Source", Actions: []cpapi.ActionDeclaration{src}}, {Name: "Build", Actions: []cpapi.ActionDeclaration{build}}}}
}

func (h *harness) start(name string) string {
	h.t.Helper()
	id, err := h.e.StartExecution(h.ctx, name, StartParams{TriggerType: cpapi.TriggerTypeStartPipelineExecution, TriggerDetail: "test"})
	if err != nil {
		h.t.Fatalf("StartExecution: %v", err)
	}
	h.reconcile(name)
	return id
}

func (h *harness) reconcile(name string) {
	h.t.Helper()
	if err := h.e.Reconcile(h.ctx, name); err != nil {
		h.t.Fatalf("Reconcile: %v", err)
	}
}

// claim polls one job of a type and acknowledges it.
func (h *harness) claim(t *cpapi.ActionTypeId) *JobView {
	h.t.Helper()
	jobs, err := h.e.PollJobs(h.ctx, *t, 5, nil)
	if err != nil || len(jobs) != 1 {
		h.t.Fatalf("PollJobs %s = %d jobs, %v; want 1", t.Provider, len(jobs), err)
	}
	if _, err := h.e.AcknowledgeJob(h.ctx, jobs[0].ID, jobs[0].Nonce); err != nil {
		h.t.Fatalf("AcknowledgeJob: %v", err)
	}
	return jobs[0]
}

func (h *harness) complete(j *JobView, res JobResult) {
	h.t.Helper()
	if err := h.e.CompleteJob(h.ctx, j.ID, res); err != nil {
		h.t.Fatalf("CompleteJob: %v", err)
	}
	h.reconcile(j.Data.PipelineContext.PipelineName)
}

func (h *harness) execution(id string) *store.Execution {
	h.t.Helper()
	x, err := h.st.GetExecution(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

func (h *harness) actionRun(execID, stage, action string) (*store.ActionRun, *ActionDetail) {
	h.t.Helper()
	runs, err := h.st.LatestActionRuns(h.ctx, []string{execID})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range runs {
		if r.Stage == stage && r.Action == action {
			d, err := DecodeActionDetail(r.Detail)
			if err != nil {
				h.t.Fatal(err)
			}
			return r, d
		}
	}
	h.t.Fatalf("no run of %s/%s in execution %s", stage, action, execID)
	return nil, nil
}

// events renders a pipeline's events as "<kind> <subject> <state>".
func (h *harness) events(pipeline string) []string {
	h.t.Helper()
	evs, err := h.st.ListEvents(h.ctx, 0, pipeline, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		var env struct {
			Envelope
			Detail map[string]any `json:"detail"`
		}
		if err := json.Unmarshal(ev.Detail, &env); err != nil {
			h.t.Fatalf("event %d: %v", ev.ID, err)
		}
		if env.DetailType != ev.Type || env.Source != "aws.codepipeline" || env.Account != "123456789012" || env.Region != "us-east-1" ||
			len(env.Resources) != 1 || env.Resources[0] != "arn:aws:codepipeline:us-east-1:123456789012:"+pipeline || env.Version != "0" || env.ID == "" {
			h.t.Errorf("event %d envelope = %+v", ev.ID, env.Envelope)
		}
		if env.Detail["pipeline"] != pipeline || env.Detail["execution-id"] != ev.ExecutionID {
			h.t.Errorf("event %d detail = %v", ev.ID, env.Detail)
		}
		switch ev.Type {
		case EventPipeline:
			out = append(out, fmt.Sprintf("pipeline %s", env.Detail["state"]))
		case EventStage:
			out = append(out, fmt.Sprintf("stage %s %s", env.Detail["stage"], env.Detail["state"]))
		case EventAction:
			if env.Detail["version"] != float64(1) || env.Detail["action-execution-id"] == "" || env.Detail["region"] != "us-east-1" {
				h.t.Errorf("action event %d detail = %v", ev.ID, env.Detail)
			}
			out = append(out, fmt.Sprintf("action %s/%s %s", env.Detail["stage"], env.Detail["action"], env.Detail["state"]))
		default:
			out = append(out, ev.Type)
		}
	}
	return out
}

func wantEvents(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *awsproto.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Errorf("err = %v, want %s", err, code)
	}
}

// A full run appends pipeline, stage and action events in order, in the
// transactions that make the changes.
func TestEventsOfARun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	h.pipeline(twoStages("Ev", action("Compile", bldType, []string{"Code"}, nil, nil)))
	id := h.start("Ev")
	h.complete(h.claim(srcType), JobResult{Success: true})
	h.complete(h.claim(bldType), JobResult{Success: true})
	if x := h.execution(id); x.Status != execSucceeded {
		t.Fatalf("execution = %s, want Succeeded", x.Status)
	}
	wantEvents(t, h.events("Ev"), []string{
		"pipeline STARTED",
		"stage Source STARTED",
		"action Source/Fetch STARTED",
		"action Source/Fetch SUCCEEDED",
		"stage Source SUCCEEDED",
		"stage Build STARTED",
		"action Build/Compile STARTED",
		"action Build/Compile SUCCEEDED",
		"stage Build SUCCEEDED",
		"pipeline SUCCEEDED",
	})
	evs, err := h.st.ListEvents(h.ctx, 0, "Ev", 0)
	if err != nil {
		t.Fatal(err)
	}
	var first struct {
		Time   string         `json:"time"`
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(evs[0].Detail, &first); err != nil {
		t.Fatal(err)
	}
	trig, _ := first.Detail["execution-trigger"].(map[string]any)
	if first.Time != "2025-03-01T12:00:00Z" || first.Detail["version"] != float64(1) || trig["trigger-type"] != "StartPipelineExecution" {
		t.Errorf("pipeline STARTED event = %+v", first)
	}
}

// A failure, a retry and a stop each leave their events.
func TestEventsOfFailureRetryAndStop(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	h.pipeline(twoStages("Ev", action("Compile", bldType, []string{"Code"}, nil, nil)))
	id := h.start("Ev")
	h.complete(h.claim(srcType), JobResult{Success: true})
	h.complete(h.claim(bldType), JobResult{Failure: &cpapi.FailureDetails{Type: cpapi.FailureTypeJobFailed, Message: "tests failed"}})
	if err := h.e.RetryStage(h.ctx, "Ev", "Build", id, cpapi.StageRetryModeFailedActions); err != nil {
		t.Fatalf("RetryStage: %v", err)
	}
	h.reconcile("Ev")
	h.claim(bldType)
	if err := h.e.StopExecution(h.ctx, "Ev", id, true, "enough"); err != nil {
		t.Fatalf("StopExecution: %v", err)
	}
	h.reconcile("Ev")
	if x := h.execution(id); x.Status != execStopped {
		t.Fatalf("execution = %s, want Stopped", x.Status)
	}
	wantEvents(t, h.events("Ev")[5:], []string{
		"stage Build STARTED",
		"action Build/Compile STARTED",
		"action Build/Compile FAILED",
		"stage Build FAILED",
		"pipeline FAILED",
		"pipeline RESUMED",
		"stage Build RESUMED",
		"action Build/Compile STARTED",
		"stage Build STOPPING",
		"action Build/Compile ABANDONED",
		"pipeline STOPPING",
		"stage Build STOPPED",
		"pipeline STOPPED",
	})
	evs, err := h.st.ListEvents(h.ctx, 0, "Ev", 0)
	if err != nil {
		t.Fatal(err)
	}
	var failed struct {
		Detail map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(evs[7].Detail, &failed); err != nil {
		t.Fatal(err)
	}
	if res, _ := failed.Detail["execution-result"].(map[string]any); res["error-code"] != "JobFailed" || res["external-execution-summary"] != "tests failed" {
		t.Errorf("action FAILED event detail = %v", failed.Detail)
	}
}

// A reference to a namespace no earlier action produced (which pipeline
// validation normally refuses) fails the action, naming the reference.
func TestUnknownNamespaceFailsAction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	h.pipeline(twoStages("NS", action("Compile", bldType, []string{"Code"}, nil, map[string]string{"Greeting": "hi #{Nope.Who}"})))
	id := h.start("NS")
	h.complete(h.claim(srcType), JobResult{Success: true, OutputVariables: map[string]string{"Commit": "abc"}})
	r, d := h.actionRun(id, "Build", "Compile")
	if r.Status != actionFailed || d.Output.ExecutionResult == nil || d.Output.ExecutionResult.ErrorDetails == nil {
		t.Fatalf("Compile = %s, %+v; want Failed with errorDetails", r.Status, d.Output.ExecutionResult)
	}
	ed := d.Output.ExecutionResult.ErrorDetails
	if ed.Code != cpapi.FailureTypeConfigurationError || !strings.Contains(ed.Message, "#{Nope.Who}") || !strings.Contains(ed.Message, "Greeting") {
		t.Errorf("errorDetails = %+v, want ConfigurationError naming Greeting and #{Nope.Who}", ed)
	}
	if jobs, _ := h.e.PollJobs(h.ctx, *bldType, 5, nil); len(jobs) != 0 {
		t.Errorf("a job was queued for the failed action")
	}
	h.reconcile("NS")
	if x := h.execution(id); x.Status != execFailed {
		t.Errorf("execution = %s, want Failed", x.Status)
	}
}

// AcknowledgeJob uses the per-type timeout; the sweep times the job out
// with a message giving that timeout.
func TestTypeTimeouts(t *testing.T) {
	t.Parallel()
	cfg := Config{JobTimeout: time.Hour, TypeTimeouts: map[string]time.Duration{"Build/Custom/Bld/1": 30 * time.Minute, "Test/Custom/X/1": 0}}
	h := newHarness(t, cfg)
	cfg.TypeTimeouts["Build/Custom/Bld/1"] = time.Second // the engine keeps its own copy
	h.pipeline(twoStages("TT", action("Compile", bldType, []string{"Code"}, nil, nil)))
	id := h.start("TT")
	sj := h.claim(srcType)
	j, err := h.st.GetJob(h.ctx, sj.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := h.clock.now().Add(time.Hour); !j.LeaseUntil.Equal(want) {
		t.Errorf("source job lease = %v, want %v (JobTimeout)", j.LeaseUntil, want)
	}
	h.complete(sj, JobResult{Success: true})
	bj := h.claim(bldType)
	if j, _ = h.st.GetJob(h.ctx, bj.ID); !j.LeaseUntil.Equal(h.clock.now().Add(30 * time.Minute)) {
		t.Errorf("build job lease = %v, want now+30m (its type's timeout)", j.LeaseUntil)
	}
	h.clock.advance(29 * time.Minute)
	if err := h.e.sweep(h.ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := h.actionRun(id, "Build", "Compile"); r.Status != actionInProgress {
		t.Fatalf("after 29m Compile = %s, want InProgress", r.Status)
	}
	h.clock.advance(2 * time.Minute)
	if err := h.e.sweep(h.ctx); err != nil {
		t.Fatal(err)
	}
	r, d := h.actionRun(id, "Build", "Compile")
	if r.Status != actionFailed || !strings.Contains(d.Summary, "timed out") || !strings.Contains(d.Summary, "30m0s") {
		t.Errorf("after 31m Compile = %s, %q; want Failed saying it timed out after 30m0s", r.Status, d.Summary)
	}
	if j, _ = h.st.GetJob(h.ctx, bj.ID); j.Status != cpapi.JobStatusTimedOut {
		t.Errorf("job = %s, want TimedOut", j.Status)
	}
	wantCode(t, h.e.CompleteJob(h.ctx, bj.ID, JobResult{Success: true}), cpapi.InvalidJobStateException)
}

func TestParseTypeTimeout(t *testing.T) {
	t.Parallel()
	key, d, err := ParseTypeTimeout("Build/Custom/MyBuild/1=30m")
	if err != nil || key != "Build/Custom/MyBuild/1" || d != 30*time.Minute {
		t.Errorf("ParseTypeTimeout = %q, %v, %v", key, d, err)
	}
	if got := TypeKey(store.ActionTypeKey{Category: "Build", Owner: "Custom", Provider: "MyBuild", Version: "1"}); got != key {
		t.Errorf("TypeKey = %q, want %q", got, key)
	}
	for _, c := range []struct{ in, want string }{
		{"Build/Custom/MyBuild/1", "no '='"},
		{"Build/Custom/MyBuild=1h", "is not Category/Owner/Provider/Version"},
		{"Build//MyBuild/1=1h", "is not Category/Owner/Provider/Version"},
		{"Build/Custom/MyBuild/1/2=1h", "is not Category/Owner/Provider/Version"},
		{"Compile/Custom/MyBuild/1=1h", `category "Compile"`},
		{"Build/Me/MyBuild/1=1h", `owner "Me"`},
		{"Build/Custom/MyBuild/1=30", "not a duration"},
		{"Build/Custom/MyBuild/1=0s", "must be positive"},
	} {
		if _, _, err := ParseTypeTimeout(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseTypeTimeout(%q) = %v, want an error with %q", c.in, err, c.want)
		}
	}
}

// The client ID of a third-party job belongs to one dispatch: a job
// offered again (after its lease, or to PollJobs) loses it.
func TestThirdPartyClientIDFollowsDispatch(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{DispatchLease: time.Minute})
	gh := &cpapi.ActionTypeId{Category: cpapi.ActionCategorySource, Owner: cpapi.ActionOwnerThirdParty, Provider: "GitHub", Version: "1"}
	d := twoStages("TP", action("Compile", bldType, []string{"Code"}, nil, nil))
	d.Stages[0].Actions[0] = action("GitHub", gh, nil, []string{"Code"}, map[string]string{"OAuthToken": "s3cret"})
	h.pipeline(d)
	h.start("TP")
	poll := func() *JobView {
		t.Helper()
		jobs, err := h.e.PollThirdPartyJobs(h.ctx, *gh, 5)
		if err != nil || len(jobs) != 1 || jobs[0].ClientID == "" {
			t.Fatalf("PollThirdPartyJobs = %+v, %v; want one job with a client ID", jobs, err)
		}
		return jobs[0]
	}
	first := poll()
	v, err := h.e.GetThirdPartyJob(h.ctx, first.ID, first.ClientID)
	if err != nil || v.Nonce != first.Nonce || v.Data.ActionConfiguration.Configuration["OAuthToken"] != "s3cret" {
		t.Fatalf("GetThirdPartyJob = %+v, %v", v, err)
	}
	if v, err := h.e.GetJob(h.ctx, first.ID); err != nil || v.ClientID != "" || v.Nonce != "" {
		t.Errorf("GetJob shows client ID %q and nonce %q, want neither", v.ClientID, v.Nonce)
	}

	// The lease runs out: the sweep offers the job again; the old client ID is void.
	h.clock.advance(2 * time.Minute)
	if err := h.e.sweep(h.ctx); err != nil {
		t.Fatal(err)
	}
	_, err = h.e.GetThirdPartyJob(h.ctx, first.ID, first.ClientID)
	wantCode(t, err, cpapi.InvalidClientTokenException)
	second := poll()
	if second.ID != first.ID || second.ClientID == first.ClientID || second.Nonce == first.Nonce {
		t.Fatalf("second dispatch = %+v, want the same job with a new client ID and nonce", second)
	}
	_, err = h.e.AcknowledgeThirdPartyJob(h.ctx, second.ID, second.Nonce, first.ClientID)
	wantCode(t, err, cpapi.InvalidClientTokenException)

	// Offered again through PollJobs (its lease ran out again): no client ID at all.
	h.clock.advance(2 * time.Minute)
	jobs, err := h.e.PollJobs(h.ctx, *gh, 5, nil)
	if err != nil || len(jobs) != 1 || jobs[0].ClientID != "" {
		t.Fatalf("PollJobs = %+v, %v; want the job without a client ID", jobs, err)
	}
	_, err = h.e.GetThirdPartyJob(h.ctx, second.ID, second.ClientID)
	wantCode(t, err, cpapi.InvalidClientTokenException)
	if _, err := h.e.AcknowledgeJob(h.ctx, jobs[0].ID, jobs[0].Nonce); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.e.CompleteThirdPartyJob(h.ctx, jobs[0].ID, second.ClientID, JobResult{Success: true}), cpapi.InvalidClientTokenException)
	if err := h.e.CompleteJob(h.ctx, jobs[0].ID, JobResult{Success: true}); err != nil {
		t.Fatalf("CompleteJob of a job PollJobs handed out: %v", err)
	}
}

// In PARALLEL mode two executions wait at the same approval, each with its
// own token; each token answers its own execution's approval.
func TestParallelApprovalsByToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	d := twoStages("PA", cpapi.ActionDeclaration{Name: "Approve", RunOrder: aws.Int32(1),
		ActionTypeId: &cpapi.ActionTypeId{Category: cpapi.ActionCategoryApproval, Owner: cpapi.ActionOwnerAws, Provider: "Manual", Version: "1"}})
	d.PipelineType, d.ExecutionMode = cpapi.PipelineTypeV2, cpapi.ExecutionModeParallel
	h.pipeline(d)
	e1, e2 := h.start("PA"), h.start("PA")
	jobs, err := h.e.PollJobs(h.ctx, *srcType, 5, nil)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("PollJobs = %d jobs, %v; want one per execution", len(jobs), err)
	}
	for _, j := range jobs {
		if _, err := h.e.AcknowledgeJob(h.ctx, j.ID, j.Nonce); err != nil {
			t.Fatal(err)
		}
		h.complete(j, JobResult{Success: true})
	}
	r1, d1 := h.actionRun(e1, "Build", "Approve")
	r2, d2 := h.actionRun(e2, "Build", "Approve")
	if d1.Token == "" || d2.Token == "" || d1.Token == d2.Token {
		t.Fatalf("tokens %q and %q, want two different ones", d1.Token, d2.Token)
	}
	if _, err := h.e.PutApprovalResult(h.ctx, "PA", "Build", "Approve", d1.Token, cpapi.ApprovalStatusApproved, "first", "me"); err != nil {
		t.Fatalf("approving the older execution: %v", err)
	}
	if _, err := h.e.PutApprovalResult(h.ctx, "PA", "Build", "Approve", d2.Token, cpapi.ApprovalStatusRejected, "second", "me"); err != nil {
		t.Fatalf("rejecting the newer execution: %v", err)
	}
	h.reconcile("PA")
	if x1, x2 := h.execution(e1), h.execution(e2); x1.Status != execSucceeded || x2.Status != execFailed {
		t.Errorf("executions = %s, %s; want Succeeded, Failed", x1.Status, x2.Status)
	}
	// Once answered, the token of the pipeline's newest approval run is
	// recognised as completed.
	newest := d1.Token
	if r2.Seq > r1.Seq {
		newest = d2.Token
	}
	_, err = h.e.PutApprovalResult(h.ctx, "PA", "Build", "Approve", newest, cpapi.ApprovalStatusApproved, "again", "me")
	wantCode(t, err, cpapi.ApprovalAlreadyCompletedException)
	_, err = h.e.PutApprovalResult(h.ctx, "PA", "Build", "Approve", "00000000-0000-0000-0000-000000000000", cpapi.ApprovalStatusApproved, "x", "me")
	wantCode(t, err, cpapi.InvalidApprovalTokenException)
}

// The first stage has no inbound transition to disable.
func TestFirstStageHasNoInboundTransition(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	h.pipeline(twoStages("FT", action("Compile", bldType, []string{"Code"}, nil, nil)))
	wantCode(t, h.e.SetTransition(h.ctx, "FT", "Source", cpapi.StageTransitionTypeInbound, false, "no", "me"), cpapi.ValidationException)
	if err := h.e.SetTransition(h.ctx, "FT", "Source", cpapi.StageTransitionTypeOutbound, false, "hold", "me"); err != nil {
		t.Fatalf("disabling Source outbound: %v", err)
	}
	ts, err := h.st.ListTransitions(h.ctx, "FT")
	if err != nil || len(ts) != 1 || ts[0].Stage != "Build" || !ts[0].Disabled || ts[0].Reason != "hold" || ts[0].ChangedBy != "me" {
		t.Errorf("transitions = %+v, %v; want Build's inbound disabled", ts, err)
	}
}
