package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The RunQueries part of the conformance suite (see exercise).

// t0 is a timestamp the store keeps exactly: UTC, whole milliseconds.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// wantEqual fails t unless got and want are deeply equal (pointers
// followed, so every stored field is compared).
func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, dump(got), dump(want))
	}
}

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// keys maps s through key: the IDs of a listing, say.
func keys[T any](s []T, key func(T) string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		out = append(out, key(v))
	}
	return out
}

// wantKeys fails t unless the keys of got are want, in order.
func wantKeys[T any](t *testing.T, what string, got []T, err error, key func(T) string, want ...string) {
	t.Helper()
	must(t, what, err)
	if got == nil {
		t.Errorf("%s: nil slice, want a non-nil one", what)
	}
	if want == nil {
		want = []string{}
	}
	if k := keys(got, key); !slices.Equal(k, want) {
		t.Errorf("%s = %q, want %q", what, k, want)
	}
}

func executionID(e *Execution) string { return e.ID }
func stageRunKey(r *StageRun) string  { return r.ExecutionID + "/" + r.Stage }
func actionRunID(r *ActionRun) string { return r.ID }
func jobID(j *Job) string             { return j.ID }
func transitionStage(t *Transition) string {
	return t.Stage
}
func eventKey(e *Event) string { return e.Type }

func testCounters(t *testing.T, s Store) {
	ctx := t.Context()
	for i := int64(1); i <= 3; i++ {
		n, err := s.NextSeq(ctx, "execution")
		must(t, "NextSeq execution", err)
		if n != i {
			t.Errorf("NextSeq execution = %d, want %d", n, i)
		}
	}
	// Counters are independent; names compare exactly.
	for _, name := range []string{"stage", "Execution", "execution "} {
		n, err := s.NextSeq(ctx, name)
		must(t, "NextSeq "+name, err)
		if n != 1 {
			t.Errorf("NextSeq %q = %d, want 1", name, n)
		}
	}
	n, err := s.NextSeq(ctx, "execution")
	must(t, "NextSeq execution", err)
	if n != 4 {
		t.Errorf("NextSeq execution = %d, want 4", n)
	}
}

func testExecutions(t *testing.T, s Store) {
	ctx := t.Context()
	// Pipelines "a" and "B" order byte-wise: "B" first.
	x1 := &Execution{ID: "x1", Pipeline: "a", Seq: 1, Version: 3, Status: "InProgress", Stage: "Build",
		Waiting: true, ClientToken: "tok", Detail: []byte(`{"trigger":"manual"}`), Started: at(0), Updated: at(time.Second)}
	x2 := &Execution{ID: "x2", Pipeline: "a", Seq: 2, Version: 3, Status: "Succeeded"} // zero times, no detail
	x3 := &Execution{ID: "x3", Pipeline: "a", Seq: 3, Version: 4, Status: "Stopping", Stage: "Deploy", Started: at(3 * time.Second)}
	x4 := &Execution{ID: "x4", Pipeline: "B", Seq: 4, Version: 1, Status: "InProgress", ClientToken: "tok", Started: at(4 * time.Second)}
	x5 := &Execution{ID: "x5", Pipeline: "a", Seq: 5, Version: 4, Status: "Failed", Started: at(5 * time.Second)}
	for _, x := range []*Execution{x1, x2, x3, x4, x5} {
		must(t, "CreateExecution "+x.ID, s.CreateExecution(ctx, x))
	}
	wantErr(t, "duplicate CreateExecution",
		s.CreateExecution(ctx, &Execution{ID: "x1", Pipeline: "other", Status: "InProgress"}), ErrExists)

	for _, x := range []*Execution{x1, x2, x3} {
		got, err := s.GetExecution(ctx, x.ID)
		must(t, "GetExecution "+x.ID, err)
		wantEqual(t, "GetExecution "+x.ID, got, x)
	}
	_, err := s.GetExecution(ctx, "nope")
	wantErr(t, "GetExecution missing", err, ErrNotFound)

	got, err := s.FindExecutionByToken(ctx, "a", "tok")
	must(t, "FindExecutionByToken", err)
	wantEqual(t, "FindExecutionByToken", got, x1)
	got, err = s.FindExecutionByToken(ctx, "B", "tok")
	must(t, "FindExecutionByToken B", err)
	wantEqual(t, "FindExecutionByToken B", got, x4)
	_, err = s.FindExecutionByToken(ctx, "a", "other")
	wantErr(t, "FindExecutionByToken other token", err, ErrNotFound)
	_, err = s.FindExecutionByToken(ctx, "c", "tok")
	wantErr(t, "FindExecutionByToken other pipeline", err, ErrNotFound)
	_, err = s.FindExecutionByToken(ctx, "a", "")
	wantErr(t, "FindExecutionByToken empty token", err, ErrNotFound)

	list := func(pipeline string, before int64, limit int, want ...string) {
		t.Helper()
		xs, err := s.ListExecutions(ctx, pipeline, before, limit)
		wantKeys(t, fmt.Sprintf("ListExecutions(%q, %d, %d)", pipeline, before, limit), xs, err, executionID, want...)
	}
	list("a", 0, 0, "x5", "x3", "x2", "x1")
	list("a", 0, -1, "x5", "x3", "x2", "x1")
	list("a", 0, 2, "x5", "x3")
	list("a", 3, 2, "x2", "x1")
	list("a", 2, 0, "x1")
	list("a", 1, 0)
	list("B", 0, 0, "x4")
	list("c", 0, 0)
	xs, err := s.ListExecutions(ctx, "a", 0, 0)
	must(t, "ListExecutions", err)
	wantEqual(t, "ListExecutions records", xs, []*Execution{x5, x3, x2, x1})

	active := func(pipeline string, want ...string) {
		t.Helper()
		xs, err := s.ListActiveExecutions(ctx, pipeline)
		wantKeys(t, "ListActiveExecutions "+pipeline, xs, err, executionID, want...)
	}
	pipelines := func(want ...string) {
		t.Helper()
		names, err := s.ListActivePipelines(ctx)
		wantKeys(t, "ListActivePipelines", names, err, func(s string) string { return s }, want...)
	}
	active("a", "x1", "x3")
	active("B", "x4")
	active("c")
	pipelines("B", "a")

	// Update writes every mutable field.
	x1.Status, x1.Stage, x1.Waiting, x1.Detail, x1.Updated = "Succeeded", "", false, []byte(`{"summary":"done"}`), at(time.Minute)
	x1.Seq, x1.Version, x1.ClientToken, x1.Started = 6, 5, "tok2", at(-time.Second)
	must(t, "UpdateExecution", s.UpdateExecution(ctx, x1))
	got, err = s.GetExecution(ctx, "x1")
	must(t, "GetExecution after update", err)
	wantEqual(t, "GetExecution after update", got, x1)
	x2.Detail, x2.Waiting = []byte(`{}`), true
	must(t, "UpdateExecution x2", s.UpdateExecution(ctx, x2))
	got, err = s.GetExecution(ctx, "x2")
	must(t, "GetExecution x2 after update", err)
	wantEqual(t, "GetExecution x2 after update", got, x2)
	wantErr(t, "UpdateExecution missing", s.UpdateExecution(ctx, &Execution{ID: "nope", Status: "Failed"}), ErrNotFound)
	_, err = s.FindExecutionByToken(ctx, "a", "tok")
	wantErr(t, "FindExecutionByToken old token", err, ErrNotFound)
	list("a", 0, 0, "x1", "x5", "x3", "x2")

	active("a", "x3")
	pipelines("B", "a")
	x3.Status = "Stopped"
	must(t, "UpdateExecution x3", s.UpdateExecution(ctx, x3))
	active("a")
	pipelines("B")
	x4.Status = "Cancelled"
	must(t, "UpdateExecution x4", s.UpdateExecution(ctx, x4))
	pipelines()
}

func testStageRuns(t *testing.T, s Store) {
	ctx := t.Context()
	r1 := &StageRun{Pipeline: "p", ExecutionID: "x1", Stage: "Build", Status: "InProgress", Attempt: 1, Seq: 10,
		Started: at(0), Updated: at(0)}
	r2 := &StageRun{Pipeline: "p", ExecutionID: "x1", Stage: "Deploy", Status: "InProgress", Attempt: 1, Seq: 12,
		Started: at(time.Second)}
	r3 := &StageRun{Pipeline: "p", ExecutionID: "x2", Stage: "Build", Status: "Succeeded", Attempt: 1, Seq: 11}
	r4 := &StageRun{Pipeline: "q", ExecutionID: "x3", Stage: "Build", Status: "InProgress", Attempt: 1, Seq: 13}
	for _, r := range []*StageRun{r1, r2, r3, r4} {
		must(t, "PutStageRun "+stageRunKey(r), s.PutStageRun(ctx, r))
	}

	list := func(ids []string, want ...string) {
		t.Helper()
		rs, err := s.ListStageRuns(ctx, ids)
		wantKeys(t, fmt.Sprintf("ListStageRuns(%q)", ids), rs, err, stageRunKey, want...)
	}
	list([]string{"x1", "x2"}, "x1/Build", "x2/Build", "x1/Deploy")
	list([]string{"x2", "x1", "x2"}, "x1/Build", "x2/Build", "x1/Deploy")
	list([]string{"x1"}, "x1/Build", "x1/Deploy")
	list([]string{"nope"})
	list(nil)
	list([]string{})
	rs, err := s.ListStageRuns(ctx, []string{"x1", "x2"})
	must(t, "ListStageRuns", err)
	wantEqual(t, "ListStageRuns records", rs, []*StageRun{r1, r3, r2})

	// Put replaces the run of (execution, stage).
	r1b := &StageRun{Pipeline: "p", ExecutionID: "x1", Stage: "Build", Status: "InProgress", Attempt: 2,
		RetryMode: "FAILED_ACTIONS", Seq: 14, Started: at(0), Updated: at(time.Minute)}
	must(t, "PutStageRun replace", s.PutStageRun(ctx, r1b))
	rs, err = s.ListStageRuns(ctx, []string{"x1"})
	must(t, "ListStageRuns after replace", err)
	wantEqual(t, "ListStageRuns after replace", rs, []*StageRun{r2, r1b})

	latest := func(pipeline string, want ...*StageRun) {
		t.Helper()
		rs, err := s.LatestStageRuns(ctx, pipeline)
		must(t, "LatestStageRuns "+pipeline, err)
		if want == nil {
			want = []*StageRun{}
		}
		wantEqual(t, "LatestStageRuns "+pipeline, rs, want)
	}
	latest("p", r2, r1b) // Build: x1's (seq 14) beats x2's (11)
	latest("q", r4)
	latest("none")
	r3.Seq, r3.Status = 15, "InProgress"
	must(t, "PutStageRun r3", s.PutStageRun(ctx, r3))
	latest("p", r2, r3)
}

func testActionRuns(t *testing.T, s Store) {
	ctx := t.Context()
	now := at(time.Hour)
	run := func(id string, seq int64, pipeline, exec, stage, action, status string) *ActionRun {
		return &ActionRun{ID: id, Seq: seq, Pipeline: pipeline, ExecutionID: exec, Stage: stage, Action: action,
			StageAttempt: 1, Status: status, Started: at(time.Duration(seq) * time.Second), Updated: at(time.Duration(seq) * time.Second)}
	}
	a1 := run("a1", 1, "p", "x1", "Build", "Compile", "Failed")
	a1.Detail = []byte(`{"error":"boom"}`)
	a2 := run("a2", 2, "p", "x1", "Build", "Compile", "Succeeded")
	a2.StageAttempt = 2
	a3 := run("a3", 3, "p", "x1", "Build", "Test", "Succeeded")
	a4 := run("a4", 4, "p", "x2", "Build", "Compile", "InProgress")
	a5 := run("a5", 5, "q", "x3", "Build", "Compile", "InProgress")
	a6 := run("a6", 6, "p", "x2", "Approve", "Manual", "InProgress")
	a6.Deadline = now.Add(-time.Millisecond) // due
	a7 := run("a7", 7, "p", "x2", "Approve", "Manual2", "InProgress")
	a7.Deadline = now.Add(time.Millisecond) // not yet
	a8 := run("a8", 8, "p", "x2", "Approve", "Manual3", "Succeeded")
	a8.Deadline = now.Add(-time.Hour) // past, but no longer InProgress
	a9 := run("a9", 9, "p", "x2", "Approve", "Manual4", "InProgress")
	a9.Deadline = now // not before now
	a10 := run("a10", 10, "q", "x3", "Approve", "Manual", "InProgress")
	a10.Deadline = now.Add(-time.Minute) // due, earlier than a6
	all := []*ActionRun{a1, a2, a3, a4, a5, a6, a7, a8, a9, a10}
	for _, r := range all {
		must(t, "CreateActionRun "+r.ID, s.CreateActionRun(ctx, r))
	}
	wantErr(t, "duplicate CreateActionRun", s.CreateActionRun(ctx, run("a1", 99, "p", "x9", "S", "A", "Failed")), ErrExists)

	for _, r := range all {
		got, err := s.GetActionRun(ctx, r.ID)
		must(t, "GetActionRun "+r.ID, err)
		wantEqual(t, "GetActionRun "+r.ID, got, r)
	}
	_, err := s.GetActionRun(ctx, "nope")
	wantErr(t, "GetActionRun missing", err, ErrNotFound)

	a4.Status, a4.Detail, a4.Updated, a4.Deadline, a4.StageAttempt = "Succeeded", []byte(`{"output":1}`), now, now, 3
	must(t, "UpdateActionRun", s.UpdateActionRun(ctx, a4))
	got, err := s.GetActionRun(ctx, "a4")
	must(t, "GetActionRun after update", err)
	wantEqual(t, "GetActionRun after update", got, a4)
	a4.Deadline = time.Time{}
	must(t, "UpdateActionRun clear deadline", s.UpdateActionRun(ctx, a4))
	got, err = s.GetActionRun(ctx, "a4")
	must(t, "GetActionRun after clearing deadline", err)
	wantEqual(t, "GetActionRun after clearing deadline", got, a4)
	wantErr(t, "UpdateActionRun missing", s.UpdateActionRun(ctx, run("nope", 1, "p", "x1", "S", "A", "Failed")), ErrNotFound)

	latest := func(ids []string, want ...*ActionRun) {
		t.Helper()
		rs, err := s.LatestActionRuns(ctx, ids)
		must(t, "LatestActionRuns", err)
		if want == nil {
			want = []*ActionRun{}
		}
		wantEqual(t, fmt.Sprintf("LatestActionRuns(%d IDs)", len(ids)), rs, want)
	}
	latest([]string{"x1", "x2"}, a2, a3, a4, a6, a7, a8, a9)
	latest([]string{"x1"}, a2, a3)
	latest([]string{"x3", "x3"}, a5, a10)
	latest(nil)
	latest([]string{"nope"})
	// More IDs than fit one IN list: chunks must not lose or split runs.
	many := []string{"x3"}
	for i := range 3 * idChunk {
		many = append(many, "zz"+strconv.Itoa(i))
	}
	many = append(many, "x1", "x2")
	latest(many, a2, a3, a4, a5, a6, a7, a8, a9, a10)

	byAction, err := s.LatestActionRunsByAction(ctx, "p")
	must(t, "LatestActionRunsByAction", err)
	// Build/Compile: x2's a4 (seq 4) beats x1's a2.
	wantEqual(t, "LatestActionRunsByAction", byAction, []*ActionRun{a3, a4, a6, a7, a8, a9})
	byAction, err = s.LatestActionRunsByAction(ctx, "none")
	wantKeys(t, "LatestActionRunsByAction none", byAction, err, actionRunID)

	list := func(f ActionRunFilter, want ...string) {
		t.Helper()
		rs, err := s.ListActionRuns(ctx, f)
		wantKeys(t, fmt.Sprintf("ListActionRuns(%+v)", f), rs, err, actionRunID, want...)
	}
	list(ActionRunFilter{Pipeline: "p"}, "a9", "a8", "a7", "a6", "a4", "a3", "a2", "a1")
	list(ActionRunFilter{Pipeline: "p", Limit: 3}, "a9", "a8", "a7")
	list(ActionRunFilter{Pipeline: "p", BeforeSeq: 7, Limit: 3}, "a6", "a4", "a3")
	list(ActionRunFilter{Pipeline: "p", BeforeSeq: 3, Limit: 3}, "a2", "a1")
	list(ActionRunFilter{Pipeline: "p", BeforeSeq: 1})
	list(ActionRunFilter{Pipeline: "p", ExecutionID: "x1"}, "a3", "a2", "a1")
	list(ActionRunFilter{Pipeline: "p", ExecutionID: "x1", BeforeSeq: 3, Limit: 1}, "a2")
	list(ActionRunFilter{Pipeline: "p", ExecutionID: "x3"}) // x3 is q's
	list(ActionRunFilter{Pipeline: "q"}, "a10", "a5")
	list(ActionRunFilter{Pipeline: "none"})
	rs, err := s.ListActionRuns(ctx, ActionRunFilter{Pipeline: "p", ExecutionID: "x1"})
	must(t, "ListActionRuns", err)
	wantEqual(t, "ListActionRuns records", rs, []*ActionRun{a3, a2, a1})

	due, err := s.ListDueActionRuns(ctx, now)
	must(t, "ListDueActionRuns", err)
	wantEqual(t, "ListDueActionRuns", due, []*ActionRun{a10, a6})
	due, err = s.ListDueActionRuns(ctx, t0)
	wantKeys(t, "ListDueActionRuns early", due, err, actionRunID)
}

func testJobs(t *testing.T, s Store) {
	ctx := t.Context()
	now, lease := at(time.Hour), at(time.Hour+time.Minute)
	t1 := ActionTypeKey{Category: "Build", Owner: "Custom", Provider: "Make", Version: "1"}
	t2 := ActionTypeKey{Category: "Build", Owner: "Custom", Provider: "Make", Version: "2"}
	job := func(id string, typ ActionTypeKey, status string, created time.Duration) *Job {
		return &Job{ID: id, ActionRunID: "run-" + id, Pipeline: "p", Type: typ, Status: status,
			Data: []byte(`{"id":"` + id + `"}`), Created: at(created), Updated: at(created)}
	}
	j1 := job("j1", t1, "Queued", 1*time.Second)
	j2 := job("j2", t1, "Queued", 2*time.Second)
	j3 := job("j3", t2, "Queued", 0)
	j4 := job("j4", t1, "Dispatched", 3*time.Second)
	j4.Nonce, j4.LeaseUntil = "old", now.Add(-time.Millisecond) // lease over
	j5 := job("j5", t1, "Dispatched", 0)
	j5.Nonce, j5.LeaseUntil = "held", now.Add(time.Hour) // lease running
	j6 := job("j6", t1, "InProgress", 0)
	j6.Nonce, j6.LeaseUntil = "working", now.Add(-time.Second) // timed out
	j7 := job("j7", t1, "Succeeded", 0)
	j7.Data = nil
	j8 := job("j8", t1, "Queued", 4*time.Second)
	j9 := job("j9", t1, "Dispatched", 5*time.Second)
	j9.Nonce, j9.LeaseUntil = "at", now // lease ends now: not over yet
	all := []*Job{j1, j2, j3, j4, j5, j6, j7, j8, j9}
	for _, j := range all {
		must(t, "CreateJob "+j.ID, s.CreateJob(ctx, j))
	}
	wantErr(t, "duplicate CreateJob", s.CreateJob(ctx, job("j1", t2, "Queued", 0)), ErrExists)
	for _, j := range all {
		got, err := s.GetJob(ctx, j.ID)
		must(t, "GetJob "+j.ID, err)
		wantEqual(t, "GetJob "+j.ID, got, j)
	}
	_, err := s.GetJob(ctx, "nope")
	wantErr(t, "GetJob missing", err, ErrNotFound)

	j7.Data, j7.Nonce, j7.Updated = []byte(`{"result":"ok"}`), "n7", at(time.Minute)
	must(t, "UpdateJob", s.UpdateJob(ctx, j7))
	got, err := s.GetJob(ctx, "j7")
	must(t, "GetJob after update", err)
	wantEqual(t, "GetJob after update", got, j7)
	wantErr(t, "UpdateJob missing", s.UpdateJob(ctx, job("nope", t1, "Failed", 0)), ErrNotFound)

	due, err := s.ListDueJobs(ctx, now)
	must(t, "ListDueJobs", err)
	wantEqual(t, "ListDueJobs", due, []*Job{j6, j4})

	nonces := 0
	nonce := func() string { nonces++; return "n" + strconv.Itoa(nonces) }
	var seen []string
	notJ2 := func(j *Job) bool {
		seen = append(seen, j.ID)
		return j.ID != "j2"
	}
	dispatch := func(what string, typ ActionTypeKey, limit int, now, lease time.Time, accept func(*Job) bool, want ...string) []*Job {
		t.Helper()
		seen = nil
		js, err := s.DispatchJobs(ctx, typ, limit, now, lease, accept, nonce)
		wantKeys(t, what, js, err, jobID, want...)
		for _, j := range js {
			if j.Status != "Dispatched" || j.Nonce == "" || !j.LeaseUntil.Equal(lease) || !j.Updated.Equal(now) {
				t.Errorf("%s: %s is %s with nonce %q, lease %v, updated %v", what, j.ID, j.Status, j.Nonce, j.LeaseUntil, j.Updated)
			}
			stored, err := s.GetJob(ctx, j.ID)
			must(t, "GetJob "+j.ID, err)
			wantEqual(t, what+": stored "+j.ID, stored, j)
		}
		return js
	}

	// Oldest first; only t1's Queued jobs and Dispatched ones whose lease
	// is over; accept sees nothing else; the limit holds.
	js := dispatch("DispatchJobs limit 2", t1, 2, now, lease, notJ2, "j1", "j4")
	if want := []string{"j1", "j2", "j4"}; !slices.Equal(seen, want) {
		t.Errorf("accept saw %q, want %q", seen, want)
	}
	if js[0].Nonce == js[1].Nonce || js[1].Nonce == "old" {
		t.Errorf("nonces %q, %q: want fresh, distinct ones", js[0].Nonce, js[1].Nonce)
	}
	wantEqual(t, "dispatched j1 keeps its data", js[0].Data, j1.Data)
	dispatch("DispatchJobs rest", t1, 5, now, lease, notJ2, "j8")
	dispatch("DispatchJobs again", t1, 5, now, lease, notJ2)
	dispatch("DispatchJobs limit 0", t1, 0, now, lease, nil)
	dispatch("DispatchJobs accept nil", t1, 5, now, lease, nil, "j2")
	dispatch("DispatchJobs t2", t2, 5, now, lease, nil, "j3")
	dispatch("DispatchJobs unknown type", ActionTypeKey{"Build", "Custom", "Make", "3"}, 5, now, lease, nil)

	// Dispatched and InProgress jobs are due once their lease is over.
	due, err = s.ListDueJobs(ctx, lease.Add(time.Millisecond))
	wantKeys(t, "ListDueJobs later", due, err, jobID, "j6", "j9", "j1", "j2", "j3", "j4", "j8")
	// Once their leases are over, dispatched jobs go out again.
	later := j5.LeaseUntil.Add(time.Millisecond)
	dispatch("DispatchJobs after leases", t1, 10, later, later.Add(time.Minute), nil, "j5", "j1", "j2", "j4", "j8", "j9")
	if nonces != 11 {
		t.Errorf("nonce called %d times, want 11 (once per dispatched job)", nonces)
	}

	// Candidates beyond the first batch, with equal creation times: paging
	// goes by ID.
	t3 := ActionTypeKey{"Test", "Custom", "Many", "1"}
	for i := range 2*dispatchBatch + 50 {
		must(t, "CreateJob", s.CreateJob(ctx, job(fmt.Sprintf("k%03d", i), t3, "Queued", 0)))
	}
	every100 := func(j *Job) bool { n, _ := strconv.Atoi(j.ID[1:]); return n%dispatchBatch == dispatchBatch-1 }
	dispatch("DispatchJobs across batches", t3, 5, now, lease, every100, "k099", "k199")
	dispatch("DispatchJobs across batches limit 1", t3, 1, now, lease, nil, "k000")
}

func testTransitions(t *testing.T, s Store) {
	ctx := t.Context()
	ts, err := s.ListTransitions(ctx, "p")
	wantKeys(t, "ListTransitions empty", ts, err, transitionStage)

	deploy := &Transition{Pipeline: "p", Stage: "Deploy", Disabled: true, Reason: "freeze", ChangedBy: "alice", ChangedAt: at(0)}
	build := &Transition{Pipeline: "p", Stage: "Build"}
	other := &Transition{Pipeline: "q", Stage: "Build", Disabled: true, Reason: "other", ChangedBy: "bob", ChangedAt: at(time.Second)}
	for _, tr := range []*Transition{deploy, build, other} {
		must(t, "PutTransition", s.PutTransition(ctx, tr))
	}
	ts, err = s.ListTransitions(ctx, "p")
	must(t, "ListTransitions", err)
	wantEqual(t, "ListTransitions", ts, []*Transition{build, deploy})

	deploy2 := &Transition{Pipeline: "p", Stage: "Deploy", ChangedBy: "carol", ChangedAt: at(time.Minute)}
	must(t, "PutTransition replace", s.PutTransition(ctx, deploy2))
	ts, err = s.ListTransitions(ctx, "p")
	must(t, "ListTransitions after replace", err)
	wantEqual(t, "ListTransitions after replace", ts, []*Transition{build, deploy2})
	ts, err = s.ListTransitions(ctx, "q")
	must(t, "ListTransitions q", err)
	wantEqual(t, "ListTransitions q", ts, []*Transition{other})
}

func testEvents(t *testing.T, s Store) {
	ctx := t.Context()
	es, err := s.ListEvents(ctx, 0, "", 0)
	wantKeys(t, "ListEvents empty", es, err, eventKey)

	e1 := &Event{Time: at(0), Type: "e1", Pipeline: "p", ExecutionID: "x1", Detail: []byte(`{"n":1}`)}
	e2 := &Event{Time: at(time.Second), Type: "e2", Pipeline: "q", ExecutionID: "x2", Detail: []byte(`{"n":2}`)}
	e3 := &Event{Type: "e3", Pipeline: "p"} // zero time, no execution, no detail
	e4 := &Event{Time: at(time.Second), Type: "e4", Pipeline: "p", ExecutionID: "x1", Detail: []byte(`{"n":4}`)}
	var last int64
	for _, e := range []*Event{e1, e2, e3, e4} {
		must(t, "AppendEvent "+e.Type, s.AppendEvent(ctx, e))
		if e.ID <= last {
			t.Errorf("AppendEvent %s: ID %d, want more than %d", e.Type, e.ID, last)
		}
		last = e.ID
	}

	es, err = s.ListEvents(ctx, 0, "", 0)
	must(t, "ListEvents", err)
	wantEqual(t, "ListEvents", es, []*Event{e1, e2, e3, e4})
	list := func(after int64, pipeline string, limit int, want ...string) {
		t.Helper()
		es, err := s.ListEvents(ctx, after, pipeline, limit)
		wantKeys(t, fmt.Sprintf("ListEvents(%d, %q, %d)", after, pipeline, limit), es, err, eventKey, want...)
	}
	list(e1.ID, "", 0, "e2", "e3", "e4")
	list(e1.ID, "", 2, "e2", "e3")
	list(0, "p", 0, "e1", "e3", "e4")
	list(e1.ID, "p", 1, "e3")
	list(e3.ID, "p", -1, "e4")
	list(0, "q", 0, "e2")
	list(e4.ID, "", 0)
	list(0, "none", 0)
}

func testDeletePipelineRuns(t *testing.T, s Store) {
	ctx := t.Context()
	typ := ActionTypeKey{"Build", "Custom", "Make", "1"}
	fill := func(p string) {
		t.Helper()
		must(t, "CreateExecution", s.CreateExecution(ctx, &Execution{ID: p + "-x", Pipeline: p, Seq: 1, Status: "InProgress"}))
		must(t, "PutStageRun", s.PutStageRun(ctx, &StageRun{Pipeline: p, ExecutionID: p + "-x", Stage: "S", Status: "InProgress"}))
		must(t, "CreateActionRun", s.CreateActionRun(ctx, &ActionRun{ID: p + "-a", Pipeline: p, ExecutionID: p + "-x", Stage: "S", Action: "A", Status: "InProgress"}))
		must(t, "CreateJob", s.CreateJob(ctx, &Job{ID: p + "-j", ActionRunID: p + "-a", Pipeline: p, Type: typ, Status: "Queued"}))
		must(t, "PutTransition", s.PutTransition(ctx, &Transition{Pipeline: p, Stage: "S", Disabled: true}))
		must(t, "AppendEvent", s.AppendEvent(ctx, &Event{Type: "t", Pipeline: p, ExecutionID: p + "-x"}))
	}
	fill("p")
	fill("q")
	_, err := s.NextSeq(ctx, "execution")
	must(t, "NextSeq", err)

	must(t, "DeletePipelineRuns", s.DeletePipelineRuns(ctx, "p"))
	must(t, "DeletePipelineRuns again", s.DeletePipelineRuns(ctx, "p"))
	must(t, "DeletePipelineRuns unknown", s.DeletePipelineRuns(ctx, "none"))

	check := func(p string, gone bool) {
		t.Helper()
		what := func(op string) string { return fmt.Sprintf("%s of %s (deleted: %v)", op, p, gone) }
		found := func(op string, err error) {
			t.Helper()
			if gone {
				wantErr(t, what(op), err, ErrNotFound)
			} else {
				must(t, what(op), err)
			}
		}
		n := 1
		if gone {
			n = 0
		}
		_, err := s.GetExecution(ctx, p+"-x")
		found("GetExecution", err)
		_, err = s.GetActionRun(ctx, p+"-a")
		found("GetActionRun", err)
		_, err = s.GetJob(ctx, p+"-j")
		found("GetJob", err)
		xs, err := s.ListExecutions(ctx, p, 0, 0)
		must(t, what("ListExecutions"), err)
		srs, err := s.ListStageRuns(ctx, []string{p + "-x"})
		must(t, what("ListStageRuns"), err)
		lsr, err := s.LatestStageRuns(ctx, p)
		must(t, what("LatestStageRuns"), err)
		ars, err := s.ListActionRuns(ctx, ActionRunFilter{Pipeline: p})
		must(t, what("ListActionRuns"), err)
		ts, err := s.ListTransitions(ctx, p)
		must(t, what("ListTransitions"), err)
		active, err := s.ListActiveExecutions(ctx, p)
		must(t, what("ListActiveExecutions"), err)
		for name, got := range map[string]int{"executions": len(xs), "stage runs": len(srs), "latest stage runs": len(lsr),
			"action runs": len(ars), "transitions": len(ts), "active executions": len(active)} {
			if got != n {
				t.Errorf("%s: %d %s, want %d", what("listing"), got, name, n)
			}
		}
		// Events stay.
		es, err := s.ListEvents(ctx, 0, p, 0)
		must(t, what("ListEvents"), err)
		if len(es) != 1 {
			t.Errorf("%s: %d events, want 1", what("ListEvents"), len(es))
		}
	}
	check("p", true)
	check("q", false)
	names, err := s.ListActivePipelines(ctx)
	wantKeys(t, "ListActivePipelines", names, err, func(s string) string { return s }, "q")
	js, err := s.DispatchJobs(ctx, typ, 10, t0, at(time.Minute), nil, func() string { return "n" })
	wantKeys(t, "DispatchJobs", js, err, jobID, "q-j")
	// Counters stay.
	if n, err := s.NextSeq(ctx, "execution"); err != nil || n != 2 {
		t.Errorf("NextSeq after delete = %d, %v; want 2", n, err)
	}
}

// testRunsInTx checks the run queries that write more than one statement,
// or read what they write, inside InTx: they use its transaction, so a
// rollback undoes them and a commit keeps them.
func testRunsInTx(t *testing.T, s Store) {
	ctx := txContext(t)
	typ := ActionTypeKey{"Build", "Custom", "Make", "1"}
	errBoom := errors.New("boom")
	var event Event
	body := func(q Queries) error {
		for i := int64(1); i <= 2; i++ {
			if n, err := q.NextSeq(ctx, "c"); err != nil || n != i {
				return fmt.Errorf("NextSeq = %d, %v; want %d", n, err, i)
			}
		}
		if err := q.CreateExecution(ctx, &Execution{ID: "x", Pipeline: "p", Status: "InProgress"}); err != nil {
			return err
		}
		// ErrExists leaves the transaction usable (PostgreSQL aborts a
		// transaction on a failed statement).
		if err := q.CreateExecution(ctx, &Execution{ID: "x", Pipeline: "p"}); !errors.Is(err, ErrExists) {
			return fmt.Errorf("duplicate CreateExecution: got %v, want ErrExists", err)
		}
		event = Event{Type: "t", Pipeline: "p"}
		if err := q.AppendEvent(ctx, &event); err != nil || event.ID == 0 {
			return fmt.Errorf("AppendEvent: ID %d, %v", event.ID, err)
		}
		if err := q.CreateJob(ctx, &Job{ID: "j", Pipeline: "p", Type: typ, Status: "Queued"}); err != nil {
			return err
		}
		js, err := q.DispatchJobs(ctx, typ, 1, t0, at(time.Minute), nil, func() string { return "n" })
		if err != nil || len(js) != 1 {
			return fmt.Errorf("DispatchJobs = %d jobs, %v; want 1", len(js), err)
		}
		if j, err := q.GetJob(ctx, "j"); err != nil || j.Status != "Dispatched" {
			return fmt.Errorf("GetJob in tx = %+v, %v; want it Dispatched", j, err)
		}
		if err := q.DeletePipelineRuns(ctx, "other"); err != nil {
			return err
		}
		// The Store does not see the transaction's writes yet.
		if _, err := s.GetJob(ctx, "j"); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("GetJob outside tx before commit: got %v, want ErrNotFound", err)
		}
		return nil
	}

	err := s.InTx(ctx, func(q Queries) error {
		if err := body(q); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want %v", err, errBoom)
	}
	_, err = s.GetExecution(ctx, "x")
	wantErr(t, "GetExecution after rollback", err, ErrNotFound)
	_, err = s.GetJob(ctx, "j")
	wantErr(t, "GetJob after rollback", err, ErrNotFound)
	es, err := s.ListEvents(ctx, 0, "", 0)
	wantKeys(t, "ListEvents after rollback", es, err, eventKey)

	// The counter rolled back too: the same body succeeds again.
	must(t, "InTx", s.InTx(ctx, body))
	j, err := s.GetJob(ctx, "j")
	must(t, "GetJob after commit", err)
	if j.Status != "Dispatched" || j.Nonce != "n" {
		t.Errorf("GetJob after commit = %+v", j)
	}
	es, err = s.ListEvents(ctx, 0, "", 0)
	must(t, "ListEvents after commit", err)
	if len(es) != 1 || es[0].ID != event.ID {
		t.Errorf("ListEvents after commit = %s, want the event with ID %d", dump(es), event.ID)
	}
	if n, err := s.NextSeq(ctx, "c"); err != nil || n != 3 {
		t.Errorf("NextSeq after commit = %d, %v; want 3", n, err)
	}
}

// testConcurrentDispatch has workers poll one job at a time until the
// queue is empty: every job must go to exactly one of them.
func testConcurrentDispatch(t *testing.T, s Store) {
	ctx := txContext(t)
	const jobs, workers = 100, 4
	typ := ActionTypeKey{"Build", "Custom", "Make", "1"}
	for i := range jobs {
		must(t, "CreateJob", s.CreateJob(ctx, &Job{ID: fmt.Sprintf("j%03d", i), Pipeline: "p", Type: typ,
			Status: "Queued", Created: at(time.Duration(i) * time.Millisecond)}))
	}

	var mu sync.Mutex
	got := map[string]int{}
	nonces := map[string]bool{}
	perWorker := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			n := 0
			nonce := func() string { n++; return fmt.Sprintf("w%d-%d", w, n) }
			for {
				js, err := s.DispatchJobs(ctx, typ, 1, at(time.Hour), at(2*time.Hour),
					func(*Job) bool { return true }, nonce)
				if err != nil {
					t.Errorf("worker %d: DispatchJobs: %v", w, err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					got[j.ID]++
					nonces[j.Nonce] = true
				}
				perWorker[w] += len(js)
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	if len(got) != jobs || len(nonces) != jobs {
		t.Errorf("dispatched %d distinct jobs with %d distinct nonces, want %d", len(got), len(nonces), jobs)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("job %s dispatched %d times", id, n)
		}
	}
	t.Logf("jobs per worker: %v", perWorker)
	for i := range jobs {
		j, err := s.GetJob(ctx, fmt.Sprintf("j%03d", i))
		must(t, "GetJob", err)
		if j.Status != "Dispatched" || !nonces[j.Nonce] {
			t.Errorf("job %s is %s with nonce %q", j.ID, j.Status, j.Nonce)
		}
	}
}
