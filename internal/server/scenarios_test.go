package server_test

// Scenario tests: pipelines of custom action types driven through the SDK,
// the test itself acting as the job worker (PollForJobs, AcknowledgeJob,
// PutJobSuccessResult, PutJobFailureResult) and as the approver, with the
// read APIs (GetPipelineState, GetPipelineExecution,
// ListPipelineExecutions, ListActionExecutions) checked at each step.

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/cli"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/server"
)

// scenario is one test's server and the helpers that drive it.
type scenario struct {
	t   *testing.T
	b   *bundle
	c   *codepipeline.Client
	ctx context.Context
}

func newScenario(t *testing.T, cfg engine.Config) *scenario {
	t.Helper()
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = 50 * time.Millisecond
	}
	b := start(t, "", func(c *server.Config) { c.Engine = cfg })
	return &scenario{t: t, b: b, c: b.client, ctx: context.Background()}
}

// customTypeID is the ID of a custom action type of version 1.
func customTypeID(category types.ActionCategory, provider string) *types.ActionTypeId {
	return &types.ActionTypeId{Category: category, Owner: types.ActionOwnerCustom, Provider: aws.String(provider), Version: aws.String("1")}
}

// sourceType and buildType register the custom types the scenarios use: a
// source with one output artifact and a build with one input artifact.
func (s *scenario) sourceType(provider string) *types.ActionTypeId {
	s.t.Helper()
	if _, err := s.c.CreateCustomActionType(s.ctx, customType(types.ActionCategorySource, provider, 0, 1)); err != nil {
		s.t.Fatalf("CreateCustomActionType %s: %v", provider, err)
	}
	return customTypeID(types.ActionCategorySource, provider)
}

func (s *scenario) buildType(provider string) *types.ActionTypeId {
	s.t.Helper()
	if _, err := s.c.CreateCustomActionType(s.ctx, customType(types.ActionCategoryBuild, provider, 1, 0)); err != nil {
		s.t.Fatalf("CreateCustomActionType %s: %v", provider, err)
	}
	return customTypeID(types.ActionCategoryBuild, provider)
}

func srcAction(name, provider string) types.ActionDeclaration {
	return customAction(name, types.ActionCategorySource, provider, nil, []string{"Code"}, map[string]string{"ProjectName": "p"})
}

func buildAction(name, provider string) types.ActionDeclaration {
	return customAction(name, types.ActionCategoryBuild, provider, []string{"Code"}, nil, map[string]string{"ProjectName": "p"})
}

func stageOf(name string, actions ...types.ActionDeclaration) types.StageDeclaration {
	return types.StageDeclaration{Name: aws.String(name), Actions: actions}
}

func pipelineOf(name string, stages ...types.StageDeclaration) *types.PipelineDeclaration {
	return &types.PipelineDeclaration{
		Name:          aws.String(name),
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("slipway-artifacts")},
		Stages:        stages,
	}
}

// create creates a pipeline and returns the execution that creating it started.
func (s *scenario) create(p *types.PipelineDeclaration) string {
	s.t.Helper()
	if _, err := s.c.CreatePipeline(s.ctx, &codepipeline.CreatePipelineInput{Pipeline: p}); err != nil {
		s.t.Fatalf("CreatePipeline %s: %v", aws.ToString(p.Name), err)
	}
	execs := s.executions(aws.ToString(p.Name))
	if len(execs) != 1 {
		s.t.Fatalf("after CreatePipeline: %d executions, want 1", len(execs))
	}
	return aws.ToString(execs[0].PipelineExecutionId)
}

func (s *scenario) start(name string, vars ...types.PipelineVariable) string {
	s.t.Helper()
	out, err := s.c.StartPipelineExecution(s.ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String(name), Variables: vars})
	if err != nil {
		s.t.Fatalf("StartPipelineExecution %s: %v", name, err)
	}
	return aws.ToString(out.PipelineExecutionId)
}

func (s *scenario) executions(name string) []types.PipelineExecutionSummary {
	s.t.Helper()
	out, err := s.c.ListPipelineExecutions(s.ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(name)})
	if err != nil {
		s.t.Fatalf("ListPipelineExecutions %s: %v", name, err)
	}
	return out.PipelineExecutionSummaries
}

func (s *scenario) summary(name, execID string) types.PipelineExecutionSummary {
	s.t.Helper()
	for _, x := range s.executions(name) {
		if aws.ToString(x.PipelineExecutionId) == execID {
			return x
		}
	}
	s.t.Fatalf("ListPipelineExecutions %s has no execution %s", name, execID)
	return types.PipelineExecutionSummary{}
}

func (s *scenario) execution(name, execID string) *types.PipelineExecution {
	s.t.Helper()
	out, err := s.c.GetPipelineExecution(s.ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(name), PipelineExecutionId: aws.String(execID)})
	if err != nil {
		s.t.Fatalf("GetPipelineExecution: %v", err)
	}
	return out.PipelineExecution
}

// poll polls until n jobs of a type were handed out (keeping only those
// matching keep, if given) and returns them without acknowledging them.
func (s *scenario) poll(typ *types.ActionTypeId, n int, keep func(types.Job) bool) []types.Job {
	s.t.Helper()
	var got []types.Job
	eventually(s.t, fmt.Sprintf("%d job(s) of %s", n, aws.ToString(typ.Provider)), func() (bool, string) {
		out, err := s.c.PollForJobs(s.ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(int32(n - len(got)))})
		if err != nil {
			s.t.Fatalf("PollForJobs: %v", err)
		}
		for _, j := range out.Jobs {
			if keep != nil && !keep(j) {
				s.t.Fatalf("unexpected job for %s/%s of execution %s", jobStage(j), jobAction(j), jobExec(j))
			}
			got = append(got, j)
		}
		return len(got) == n, fmt.Sprintf("%d job(s)", len(got))
	})
	return got
}

// claim polls for n jobs and acknowledges them.
func (s *scenario) claim(typ *types.ActionTypeId, n int, keep func(types.Job) bool) []types.Job {
	s.t.Helper()
	jobs := s.poll(typ, n, keep)
	for _, j := range jobs {
		out, err := s.c.AcknowledgeJob(s.ctx, &codepipeline.AcknowledgeJobInput{JobId: j.Id, Nonce: j.Nonce})
		if err != nil {
			s.t.Fatalf("AcknowledgeJob: %v", err)
		}
		if out.Status != types.JobStatusInProgress {
			s.t.Fatalf("AcknowledgeJob status = %s, want InProgress", out.Status)
		}
	}
	return jobs
}

// claimFor claims the single job of a type for one execution.
func (s *scenario) claimFor(typ *types.ActionTypeId, execID string) types.Job {
	s.t.Helper()
	return s.claim(typ, 1, func(j types.Job) bool { return jobExec(j) == execID })[0]
}

// noJobs checks that no job of the type is waiting.
func (s *scenario) noJobs(typ *types.ActionTypeId) {
	s.t.Helper()
	out, err := s.c.PollForJobs(s.ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(10)})
	if err != nil {
		s.t.Fatalf("PollForJobs: %v", err)
	}
	for _, j := range out.Jobs {
		s.t.Errorf("unexpected job for %s/%s of execution %s", jobStage(j), jobAction(j), jobExec(j))
	}
}

func (s *scenario) succeed(j types.Job, vars map[string]string) {
	s.t.Helper()
	if err := s.putSuccess(j, vars); err != nil {
		s.t.Fatalf("PutJobSuccessResult %s/%s: %v", jobStage(j), jobAction(j), err)
	}
}

func (s *scenario) putSuccess(j types.Job, vars map[string]string) error {
	_, err := s.c.PutJobSuccessResult(s.ctx, &codepipeline.PutJobSuccessResultInput{JobId: j.Id, OutputVariables: vars})
	return err
}

func (s *scenario) fail(j types.Job, typ types.FailureType, msg string) {
	s.t.Helper()
	if _, err := s.c.PutJobFailureResult(s.ctx, &codepipeline.PutJobFailureResultInput{JobId: j.Id,
		FailureDetails: &types.FailureDetails{Type: typ, Message: aws.String(msg)}}); err != nil {
		s.t.Fatalf("PutJobFailureResult %s/%s: %v", jobStage(j), jobAction(j), err)
	}
}

func (s *scenario) retry(name, stage, execID string, mode types.StageRetryMode) error {
	out, err := s.c.RetryStageExecution(s.ctx, &codepipeline.RetryStageExecutionInput{PipelineName: aws.String(name),
		StageName: aws.String(stage), PipelineExecutionId: aws.String(execID), RetryMode: mode})
	if err == nil && aws.ToString(out.PipelineExecutionId) != execID {
		s.t.Errorf("RetryStageExecution returned execution %s, want %s", aws.ToString(out.PipelineExecutionId), execID)
	}
	return err
}

func (s *scenario) stop(name, execID string, abandon bool, reason string) error {
	_, err := s.c.StopPipelineExecution(s.ctx, &codepipeline.StopPipelineExecutionInput{PipelineName: aws.String(name),
		PipelineExecutionId: aws.String(execID), Abandon: abandon, Reason: aws.String(reason)})
	return err
}

func (s *scenario) approve(name, stage, action, token string, status types.ApprovalStatus, summary string) (*codepipeline.PutApprovalResultOutput, error) {
	return s.c.PutApprovalResult(s.ctx, &codepipeline.PutApprovalResultInput{PipelineName: aws.String(name), StageName: aws.String(stage),
		ActionName: aws.String(action), Token: aws.String(token), Result: &types.ApprovalResult{Status: status, Summary: aws.String(summary)}})
}

// runs returns an execution's action executions by action name, newest first.
func (s *scenario) runs(name, execID string) map[string][]types.ActionExecutionDetail {
	s.t.Helper()
	out := map[string][]types.ActionExecutionDetail{}
	p := codepipeline.NewListActionExecutionsPaginator(s.c, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(name),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(execID)}})
	for p.HasMorePages() {
		page, err := p.NextPage(s.ctx)
		if err != nil {
			s.t.Fatalf("ListActionExecutions: %v", err)
		}
		for _, d := range page.ActionExecutionDetails {
			out[aws.ToString(d.ActionName)] = append(out[aws.ToString(d.ActionName)], d)
		}
	}
	return out
}

// runCounts renders how many runs each action of an execution had.
func (s *scenario) runCounts(name, execID string) string {
	s.t.Helper()
	runs := s.runs(name, execID)
	var parts []string
	for _, a := range slices.Sorted(func(yield func(string) bool) {
		for k := range runs {
			if !yield(k) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%s=%d", a, len(runs[a])))
	}
	return strings.Join(parts, " ")
}

func stageState(st *codepipeline.GetPipelineStateOutput, stage string) *types.StageState {
	for i := range st.StageStates {
		if aws.ToString(st.StageStates[i].StageName) == stage {
			return &st.StageStates[i]
		}
	}
	return nil
}

// stageLatest renders a stage's latest execution as "<execution> <status>".
func stageLatest(st *codepipeline.GetPipelineStateOutput, stage string) string {
	s := stageState(st, stage)
	if s == nil || s.LatestExecution == nil {
		return "none"
	}
	return aws.ToString(s.LatestExecution.PipelineExecutionId) + " " + string(s.LatestExecution.Status)
}

func jobExec(j types.Job) string   { return aws.ToString(j.Data.PipelineContext.PipelineExecutionId) }
func jobStage(j types.Job) string  { return aws.ToString(j.Data.PipelineContext.Stage.Name) }
func jobAction(j types.Job) string { return aws.ToString(j.Data.PipelineContext.Action.Name) }

func byAction(jobs []types.Job) map[string]types.Job {
	m := map[string]types.Job{}
	for _, j := range jobs {
		m[jobAction(j)] = j
	}
	return m
}

// A failed job fails its action, the stage and the execution; a
// FAILED_ACTIONS retry reruns only the failed action, ALL_ACTIONS all.
func TestScenarioJobFailureAndRetry(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src, bld := s.sourceType("Src"), s.buildType("Bld")
	e1 := s.create(pipelineOf("Retry",
		stageOf("Source", srcAction("Fetch", "Src")),
		stageOf("Build", buildAction("A", "Bld"), buildAction("B", "Bld"))))

	s.succeed(s.claimFor(src, e1), nil)
	jobs := byAction(s.claim(bld, 2, nil))
	s.succeed(jobs["B"], nil)
	s.fail(jobs["A"], types.FailureTypeConfigurationError, "no buildspec.yml in the source")

	x := waitExecution(t, s.c, "Retry", e1, types.PipelineExecutionStatusFailed)
	if !strings.Contains(aws.ToString(x.StatusSummary), "Build") {
		t.Errorf("statusSummary = %q, want it to name stage Build", aws.ToString(x.StatusSummary))
	}
	st := pipelineState(t, s.c, "Retry")
	if got := stageLatest(st, "Build"); got != e1+" Failed" {
		t.Errorf("Build latest execution = %s, want %s Failed", got, e1)
	}
	if got := stageLatest(st, "Source"); got != e1+" Succeeded" {
		t.Errorf("Source latest execution = %s, want %s Succeeded", got, e1)
	}
	a := actionState(st, "Build", "A").LatestExecution
	if a.Status != types.ActionExecutionStatusFailed || a.ErrorDetails == nil ||
		aws.ToString(a.ErrorDetails.Code) != "ConfigurationError" || aws.ToString(a.ErrorDetails.Message) != "no buildspec.yml in the source" {
		t.Errorf("action A = %s, errorDetails %+v; want Failed, ConfigurationError: no buildspec.yml in the source", a.Status, a.ErrorDetails)
	}
	if got := actionStatus(st, "Build", "B"); got != "Succeeded" {
		t.Errorf("action B = %s, want Succeeded", got)
	}
	if sum := s.summary("Retry", e1); sum.Status != types.PipelineExecutionStatusFailed {
		t.Errorf("ListPipelineExecutions status = %s, want Failed", sum.Status)
	}
	if d := s.runs("Retry", e1)["A"][0]; d.Status != types.ActionExecutionStatusFailed || d.Output.ExecutionResult == nil ||
		d.Output.ExecutionResult.ErrorDetails == nil || aws.ToString(d.Output.ExecutionResult.ErrorDetails.Code) != "ConfigurationError" {
		t.Errorf("ListActionExecutions A = %s, output %+v", d.Status, d.Output.ExecutionResult)
	}

	// The Source stage succeeded: it cannot be retried.
	wantAPIError(t, s.retry("Retry", "Source", e1, types.StageRetryModeFailedActions), "StageNotRetryableException", "Succeeded")
	wantAPIError(t, s.retry("Retry", "Nope", e1, types.StageRetryModeFailedActions), "StageNotFoundException", "Nope")

	// FAILED_ACTIONS: only A runs again.
	if err := s.retry("Retry", "Build", e1, types.StageRetryModeFailedActions); err != nil {
		t.Fatalf("RetryStageExecution FAILED_ACTIONS: %v", err)
	}
	if x := s.execution("Retry", e1); x.Status != types.PipelineExecutionStatusInProgress {
		t.Errorf("after the retry the execution is %s, want InProgress", x.Status)
	}
	again := s.claim(bld, 1, nil)[0]
	if jobAction(again) != "A" || jobExec(again) != e1 {
		t.Fatalf("the retry queued a job for %s of %s, want A of %s", jobAction(again), jobExec(again), e1)
	}
	s.noJobs(bld) // B succeeded and is not rerun
	wantAPIError(t, s.retry("Retry", "Build", e1, types.StageRetryModeFailedActions), "StageNotRetryableException", "InProgress")
	s.succeed(again, nil)
	waitExecution(t, s.c, "Retry", e1, types.PipelineExecutionStatusSucceeded)
	if got := s.runCounts("Retry", e1); got != "A=2 B=1 Fetch=1" {
		t.Errorf("action runs after FAILED_ACTIONS = %s, want A=2 B=1 Fetch=1", got)
	}
	if runs := s.runs("Retry", e1)["A"]; runs[0].Status != types.ActionExecutionStatusSucceeded || runs[1].Status != types.ActionExecutionStatusFailed {
		t.Errorf("runs of A = %s, %s; want Succeeded (newest), Failed", runs[0].Status, runs[1].Status)
	}
	wantAPIError(t, s.retry("Retry", "Build", e1, types.StageRetryModeFailedActions), "StageNotRetryableException", "Succeeded")

	// ALL_ACTIONS: both run again.
	e2 := s.start("Retry")
	s.succeed(s.claimFor(src, e2), nil)
	jobs = byAction(s.claim(bld, 2, nil))
	s.fail(jobs["A"], types.FailureTypeJobFailed, "flaky test")
	s.succeed(jobs["B"], nil)
	waitExecution(t, s.c, "Retry", e2, types.PipelineExecutionStatusFailed)
	if err := s.retry("Retry", "Build", e2, types.StageRetryModeAllActions); err != nil {
		t.Fatalf("RetryStageExecution ALL_ACTIONS: %v", err)
	}
	jobs = byAction(s.claim(bld, 2, func(j types.Job) bool { return jobExec(j) == e2 }))
	if len(jobs) != 2 {
		t.Fatalf("ALL_ACTIONS queued jobs for %v, want A and B", jobs)
	}
	s.succeed(jobs["A"], nil)
	s.succeed(jobs["B"], nil)
	waitExecution(t, s.c, "Retry", e2, types.PipelineExecutionStatusSucceeded)
	if got := s.runCounts("Retry", e2); got != "A=2 B=2 Fetch=1" {
		t.Errorf("action runs after ALL_ACTIONS = %s, want A=2 B=2 Fetch=1", got)
	}
}

// Retries that CodePipeline refuses.
func TestScenarioRetryRefusals(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src, bld := s.sourceType("Src"), s.buildType("Bld")
	e1 := s.create(pipelineOf("Refuse", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))))
	runAndFail := func(id string) {
		t.Helper()
		s.succeed(s.claimFor(src, id), nil)
		s.fail(s.claimFor(bld, id), types.FailureTypeJobFailed, "boom")
		waitExecution(t, s.c, "Refuse", id, types.PipelineExecutionStatusFailed)
	}
	runAndFail(e1)
	e2 := s.start("Refuse")
	runAndFail(e2)

	// e2 failed in Build after e1: e1 is no longer the latest there.
	wantAPIError(t, s.retry("Refuse", "Build", e1, types.StageRetryModeFailedActions), "NotLatestPipelineExecutionException", e1)

	// A stage still running is not retryable.
	e3 := s.start("Refuse")
	eventually(t, "e3 in Source", func() (bool, string) {
		got := stageLatest(pipelineState(t, s.c, "Refuse"), "Source")
		return got == e3+" InProgress", got
	})
	wantAPIError(t, s.retry("Refuse", "Source", e3, types.StageRetryModeFailedActions), "StageNotRetryableException", "InProgress")

	// After UpdatePipeline the failed stage of the old version is not retryable.
	got, err := s.c.GetPipeline(s.ctx, &codepipeline.GetPipelineInput{Name: aws.String("Refuse")})
	if err != nil {
		t.Fatal(err)
	}
	got.Pipeline.Stages[1].Actions[0].Configuration["Greeting"] = "v2"
	if _, err := s.c.UpdatePipeline(s.ctx, &codepipeline.UpdatePipelineInput{Pipeline: got.Pipeline}); err != nil {
		t.Fatalf("UpdatePipeline: %v", err)
	}
	waitExecution(t, s.c, "Refuse", e3, types.PipelineExecutionStatusCancelled)
	wantAPIError(t, s.retry("Refuse", "Build", e2, types.StageRetryModeFailedActions), "StageNotRetryableException", "changed")
	wantAPIError(t, s.retry("Refuse", "Source", e3, types.StageRetryModeFailedActions), "StageNotRetryableException", "Cancelled")
	if x := s.execution("Refuse", e2); x.Status != types.PipelineExecutionStatusFailed {
		t.Errorf("a refused retry changed execution %s to %s", e2, x.Status)
	}
}

// A rejected approval fails the execution; a retry asks again with a new
// token, and approving it lets the execution succeed.
func TestScenarioApprovalRejectRetryApprove(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src := s.sourceType("Src")
	e1 := s.create(pipelineOf("Gate", stageOf("Source", srcAction("Fetch", "Src")),
		stageOf("Release", approvalAction("Approve", map[string]string{"CustomData": "check the staging site"}))))
	s.succeed(s.claimFor(src, e1), nil)
	first := waitAction(t, s.c, "Gate", "Release", "Approve", types.ActionExecutionStatusInProgress)
	tok1 := aws.ToString(first.LatestExecution.Token)
	if tok1 == "" {
		t.Fatal("no approval token in GetPipelineState")
	}
	if _, err := s.approve("Gate", "Release", "Approve", tok1, types.ApprovalStatusRejected, "the banner is broken"); err != nil {
		t.Fatalf("PutApprovalResult Rejected: %v", err)
	}
	x := waitExecution(t, s.c, "Gate", e1, types.PipelineExecutionStatusFailed)
	if !strings.Contains(aws.ToString(x.StatusSummary), "Release") {
		t.Errorf("statusSummary = %q, want it to name stage Release", aws.ToString(x.StatusSummary))
	}
	rejected := waitAction(t, s.c, "Gate", "Release", "Approve", types.ActionExecutionStatusFailed).LatestExecution
	if !strings.Contains(aws.ToString(rejected.Summary), "the banner is broken") || !strings.HasSuffix(aws.ToString(rejected.LastUpdatedBy), ":user/admin") {
		t.Errorf("rejected approval: summary %q, lastUpdatedBy %q", aws.ToString(rejected.Summary), aws.ToString(rejected.LastUpdatedBy))
	}
	if rejected.ErrorDetails == nil || !strings.Contains(aws.ToString(rejected.ErrorDetails.Message), "the banner is broken") {
		t.Errorf("rejected approval errorDetails = %+v", rejected.ErrorDetails)
	}
	if rejected.Token != nil {
		t.Errorf("a finished approval still shows token %q", aws.ToString(rejected.Token))
	}
	if got := stageLatest(pipelineState(t, s.c, "Gate"), "Release"); got != e1+" Failed" {
		t.Errorf("Release latest = %s, want %s Failed", got, e1)
	}
	_, err := s.approve("Gate", "Release", "Approve", tok1, types.ApprovalStatusApproved, "changed my mind")
	wantAPIError(t, err, "ApprovalAlreadyCompletedException", "already")

	if err := s.retry("Gate", "Release", e1, types.StageRetryModeFailedActions); err != nil {
		t.Fatalf("RetryStageExecution: %v", err)
	}
	second := waitAction(t, s.c, "Gate", "Release", "Approve", types.ActionExecutionStatusInProgress)
	tok2 := aws.ToString(second.LatestExecution.Token)
	if tok2 == "" || tok2 == tok1 {
		t.Fatalf("token after the retry = %q, want a new one (old %q)", tok2, tok1)
	}
	_, err = s.approve("Gate", "Release", "Approve", tok1, types.ApprovalStatusApproved, "old token")
	wantAPIError(t, err, "InvalidApprovalTokenException", "token")
	out, err := s.approve("Gate", "Release", "Approve", tok2, types.ApprovalStatusApproved, "fixed, ship it")
	if err != nil {
		t.Fatalf("PutApprovalResult Approved: %v", err)
	}
	if out.ApprovedAt == nil || time.Since(*out.ApprovedAt) > time.Minute {
		t.Errorf("approvedAt = %v", out.ApprovedAt)
	}
	waitExecution(t, s.c, "Gate", e1, types.PipelineExecutionStatusSucceeded)
	approved := waitAction(t, s.c, "Gate", "Release", "Approve", types.ActionExecutionStatusSucceeded).LatestExecution
	if aws.ToString(approved.Summary) != "fixed, ship it" {
		t.Errorf("approved summary = %q", aws.ToString(approved.Summary))
	}
	if got := s.runCounts("Gate", e1); got != "Approve=2 Fetch=1" {
		t.Errorf("action runs = %s, want Approve=2 Fetch=1", got)
	}
	if d := s.runs("Gate", e1)["Approve"][0]; d.Input.Configuration["CustomData"] != "check the staging site" {
		t.Errorf("approval input configuration = %v", d.Input.Configuration)
	}
}

// An approval nobody answers fails when it expires.
func TestScenarioApprovalExpires(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{SweepInterval: 50 * time.Millisecond, ApprovalTimeout: 300 * time.Millisecond})
	src := s.sourceType("Src")
	e1 := s.create(pipelineOf("Expire", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Release", approvalAction("Approve", nil))))
	s.succeed(s.claimFor(src, e1), nil)
	a := waitAction(t, s.c, "Expire", "Release", "Approve", types.ActionExecutionStatusFailed).LatestExecution
	if a.ErrorDetails == nil || !strings.Contains(aws.ToString(a.ErrorDetails.Message), "expired") || !strings.Contains(aws.ToString(a.ErrorDetails.Message), "within 300ms") {
		t.Errorf("expired approval errorDetails = %q, want a message saying it expired", aws.ToString(a.ErrorDetails.Message))
	}
	if !strings.Contains(aws.ToString(a.Summary), "expired") {
		t.Errorf("expired approval summary = %q", aws.ToString(a.Summary))
	}
	waitExecution(t, s.c, "Expire", e1, types.PipelineExecutionStatusFailed)
	if got := stageLatest(pipelineState(t, s.c, "Expire"), "Release"); got != e1+" Failed" {
		t.Errorf("Release latest = %s, want %s Failed", got, e1)
	}
}

// A job acknowledged and never reported times out and fails its action.
func TestScenarioJobTimeout(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{SweepInterval: 50 * time.Millisecond, JobTimeout: 300 * time.Millisecond})
	src := s.sourceType("Src")
	s.buildType("Bld")
	e1 := s.create(pipelineOf("Slow", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))))
	j := s.claimFor(src, e1)
	a := waitAction(t, s.c, "Slow", "Source", "Fetch", types.ActionExecutionStatusFailed).LatestExecution
	if a.ErrorDetails == nil || aws.ToString(a.ErrorDetails.Code) != "JobFailed" || !strings.Contains(aws.ToString(a.ErrorDetails.Message), "timed out") {
		t.Errorf("timed-out action errorDetails = %+v, want JobFailed saying it timed out", a.ErrorDetails)
	}
	waitExecution(t, s.c, "Slow", e1, types.PipelineExecutionStatusFailed)
	wantAPIError(t, s.putSuccess(j, nil), "InvalidJobStateException", "TimedOut")
	_, err := s.c.PutJobFailureResult(s.ctx, &codepipeline.PutJobFailureResultInput{JobId: j.Id,
		FailureDetails: &types.FailureDetails{Type: types.FailureTypeJobFailed, Message: aws.String("late")}})
	wantAPIError(t, err, "InvalidJobStateException", "TimedOut")
	ack, err := s.c.AcknowledgeJob(s.ctx, &codepipeline.AcknowledgeJobInput{JobId: j.Id, Nonce: j.Nonce})
	if err != nil || ack.Status != types.JobStatusTimedOut {
		t.Errorf("AcknowledgeJob of a timed-out job = %v, %v; want status TimedOut", ack, err)
	}
	if got := s.runCounts("Slow", e1); got != "Fetch=1" {
		t.Errorf("action runs = %s, want Fetch=1", got)
	}
}

// A per-action-type job timeout applies to that type only.
func TestScenarioTypeJobTimeout(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{SweepInterval: 50 * time.Millisecond,
		TypeTimeouts: map[string]time.Duration{"Source/Custom/Quick/1": 300 * time.Millisecond}})
	quick, steady := s.sourceType("Quick"), s.sourceType("Steady")
	s.buildType("Bld")
	other := customAction("Other", types.ActionCategorySource, "Steady", nil, []string{"Other"}, map[string]string{"ProjectName": "p"})
	e1 := s.create(pipelineOf("Types", stageOf("Source", srcAction("Fetch", "Quick"), other), stageOf("Build", buildAction("A", "Bld"))))
	s.claimFor(quick, e1)
	sj := s.claimFor(steady, e1)
	a := waitAction(t, s.c, "Types", "Source", "Fetch", types.ActionExecutionStatusFailed).LatestExecution
	if a.ErrorDetails == nil || !strings.Contains(aws.ToString(a.ErrorDetails.Message), "job timeout is 300ms") {
		t.Errorf("errorDetails = %+v, want the 300ms timeout of its type", a.ErrorDetails)
	}
	// The other type keeps the default timeout (an hour): still running.
	if got := actionStatus(pipelineState(t, s.c, "Types"), "Source", "Other"); got != "InProgress" {
		t.Errorf("action of the other type = %s, want InProgress", got)
	}
	s.succeed(sj, nil)
	waitExecution(t, s.c, "Types", e1, types.PipelineExecutionStatusFailed)
}

// The --type-job-timeout flag refuses malformed values with a clear error.
func TestTypeJobTimeoutFlag(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ arg, want string }{
		{"Build/Custom/MyBuild/1", "no '='"},
		{"Build/Custom/MyBuild=30m", "Category/Owner/Provider/Version"},
		{"Build/Custom/MyBuild/1=soon", "not a duration"},
		{"Build/Custom/MyBuild/1=-5m", "positive"},
		{"Bulid/Custom/MyBuild/1=5m", `category "Bulid"`},
	} {
		cmd := cli.NewRootCommand(io.Discard, io.Discard)
		cmd.SetArgs([]string{"server", "--data-dir", t.TempDir(), "--type-job-timeout", c.arg})
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--type-job-timeout") {
			t.Errorf("--type-job-timeout %s: err = %v, want one mentioning the flag and %q", c.arg, err, c.want)
		}
	}
}

// A job polled and never acknowledged is offered again with a new nonce;
// the old nonce is refused.
func TestScenarioDispatchLease(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{SweepInterval: 50 * time.Millisecond, DispatchLease: 500 * time.Millisecond})
	src := s.sourceType("Src")
	s.buildType("Bld")
	e1 := s.create(pipelineOf("Lease", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))))
	first := s.poll(src, 1, nil)[0]
	again := s.poll(src, 1, nil)[0] // once the lease has run out
	ack, err := s.c.AcknowledgeJob(s.ctx, &codepipeline.AcknowledgeJobInput{JobId: again.Id, Nonce: again.Nonce})
	if err != nil || ack.Status != types.JobStatusInProgress {
		t.Fatalf("AcknowledgeJob with the new nonce = %v, %v", ack, err)
	}
	if aws.ToString(again.Id) != aws.ToString(first.Id) {
		t.Fatalf("the job offered again is %s, want %s", aws.ToString(again.Id), aws.ToString(first.Id))
	}
	if aws.ToString(again.Nonce) == aws.ToString(first.Nonce) || aws.ToString(again.Nonce) == "" {
		t.Fatalf("the job was offered again with nonce %q, want a new one (first %q)", aws.ToString(again.Nonce), aws.ToString(first.Nonce))
	}
	_, err = s.c.AcknowledgeJob(s.ctx, &codepipeline.AcknowledgeJobInput{JobId: first.Id, Nonce: first.Nonce})
	wantAPIError(t, err, "InvalidNonceException", "nonce")
	s.succeed(again, nil)
	waitAction(t, s.c, "Lease", "Build", "A", types.ActionExecutionStatusInProgress)
	if got := s.runCounts("Lease", e1); got != "A=1 Fetch=1" {
		t.Errorf("action runs = %s, want A=1 Fetch=1", got)
	}
}

// StopPipelineExecution waits for the actions in progress, or abandons them.
func TestScenarioStop(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src, bld := s.sourceType("Src"), s.buildType("Bld")
	e1 := s.create(pipelineOf("Stop", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))))

	// Without abandon: the running job may still finish; nothing starts after it.
	j1 := s.claimFor(src, e1)
	if err := s.stop("Stop", e1, false, "hold the release"); err != nil {
		t.Fatalf("StopPipelineExecution: %v", err)
	}
	if x := s.execution("Stop", e1); x.Status != types.PipelineExecutionStatusStopping {
		t.Errorf("after stop: %s, want Stopping", x.Status)
	}
	if got := stageLatest(pipelineState(t, s.c, "Stop"), "Source"); got != e1+" Stopping" {
		t.Errorf("Source latest = %s, want %s Stopping", got, e1)
	}
	wantAPIError(t, s.stop("Stop", e1, false, "again"), "DuplicatedStopRequestException", "already")
	s.succeed(j1, nil)
	waitExecution(t, s.c, "Stop", e1, types.PipelineExecutionStatusStopped)
	st := pipelineState(t, s.c, "Stop")
	if got := stageLatest(st, "Source"); got != e1+" Stopped" {
		t.Errorf("Source latest = %s, want %s Stopped", got, e1)
	}
	if got := stageLatest(st, "Build"); got != "none" {
		t.Errorf("Build latest = %s, want none: nothing starts after a stop", got)
	}
	if got := actionStatus(st, "Source", "Fetch"); got != "Succeeded" {
		t.Errorf("Fetch = %s, want Succeeded", got)
	}
	if got := s.runCounts("Stop", e1); got != "Fetch=1" {
		t.Errorf("action runs = %s, want Fetch=1", got)
	}
	s.noJobs(bld)
	sum := s.summary("Stop", e1)
	if sum.Status != types.PipelineExecutionStatusStopped || sum.StopTrigger == nil || aws.ToString(sum.StopTrigger.Reason) != "hold the release" {
		t.Errorf("summary = %s, stopTrigger %+v; want Stopped with reason", sum.Status, sum.StopTrigger)
	}
	wantAPIError(t, s.stop("Stop", e1, false, ""), "PipelineExecutionNotStoppableException", "Stopped")
	wantAPIError(t, s.stop("Stop", "00000000-0000-0000-0000-000000000000", false, ""), "PipelineExecutionNotStoppableException", "no execution")

	// With abandon: the action is Abandoned at once and its job is gone.
	e2 := s.start("Stop")
	j2 := s.claimFor(src, e2)
	if err := s.stop("Stop", e2, true, "wrong commit"); err != nil {
		t.Fatalf("StopPipelineExecution abandon: %v", err)
	}
	if d := s.runs("Stop", e2)["Fetch"][0]; d.Status != types.ActionExecutionStatusAbandoned {
		t.Errorf("right after stop with abandon Fetch is %s, want Abandoned", d.Status)
	}
	wantAPIError(t, s.putSuccess(j2, nil), "InvalidJobStateException", "Failed")
	waitExecution(t, s.c, "Stop", e2, types.PipelineExecutionStatusStopped)
	wantAPIError(t, s.stop("Stop", e2, true, ""), "PipelineExecutionNotStoppableException", "Stopped")

	// A stop may be upgraded to abandon while it waits.
	e3 := s.start("Stop")
	j3 := s.claimFor(src, e3)
	if err := s.stop("Stop", e3, false, "release frozen"); err != nil {
		t.Fatal(err)
	}
	if err := s.stop("Stop", e3, true, ""); err != nil {
		t.Fatalf("stop with abandon after a stop without: %v", err)
	}
	waitExecution(t, s.c, "Stop", e3, types.PipelineExecutionStatusStopped)
	wantAPIError(t, s.putSuccess(j3, nil), "InvalidJobStateException", "")
	if d := s.runs("Stop", e3)["Fetch"][0]; d.Status != types.ActionExecutionStatusAbandoned {
		t.Errorf("Fetch = %s, want Abandoned", d.Status)
	}
	if sum := s.summary("Stop", e3); sum.StopTrigger == nil || aws.ToString(sum.StopTrigger.Reason) != "release frozen" {
		t.Errorf("stopTrigger = %+v, want the first stop's reason kept", sum.StopTrigger)
	}
}

// A disabled inbound transition holds executions in front of the stage;
// the latest one goes through when it is enabled again.
func TestScenarioTransitions(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src, bld := s.sourceType("Src"), s.buildType("Bld")
	e1 := s.create(pipelineOf("Trans", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))))
	transition := func(stage string, typ types.StageTransitionType, enable bool, reason string) error {
		if enable {
			_, err := s.c.EnableStageTransition(s.ctx, &codepipeline.EnableStageTransitionInput{PipelineName: aws.String("Trans"),
				StageName: aws.String(stage), TransitionType: typ})
			return err
		}
		_, err := s.c.DisableStageTransition(s.ctx, &codepipeline.DisableStageTransitionInput{PipelineName: aws.String("Trans"),
			StageName: aws.String(stage), TransitionType: typ, Reason: aws.String(reason)})
		return err
	}
	wantAPIError(t, transition("Build", types.StageTransitionTypeInbound, false, "waiting; for QA"), "ValidationException", "reason")
	wantAPIError(t, transition("Nope", types.StageTransitionTypeInbound, false, "x"), "StageNotFoundException", "Nope")
	wantAPIError(t, transition("Build", types.StageTransitionTypeOutbound, false, "x"), "ValidationException", "last stage")

	before := time.Now().Add(-time.Minute)
	const reason = "Waiting for QA (ticket 42)."
	if err := transition("Build", types.StageTransitionTypeInbound, false, reason); err != nil {
		t.Fatalf("DisableStageTransition: %v", err)
	}
	ts := stageState(pipelineState(t, s.c, "Trans"), "Build").InboundTransitionState
	if ts == nil || ts.Enabled || aws.ToString(ts.DisabledReason) != reason ||
		!strings.HasSuffix(aws.ToString(ts.LastChangedBy), ":user/admin") || ts.LastChangedAt == nil || ts.LastChangedAt.Before(before) {
		t.Fatalf("Build inbound transition = %+v", ts)
	}
	if in := stageState(pipelineState(t, s.c, "Trans"), "Source").InboundTransitionState; in != nil {
		t.Errorf("the first stage has an inbound transition: %+v", in)
	}

	// e1 finishes Source and waits in front of Build.
	s.succeed(s.claimFor(src, e1), nil)
	eventually(t, "Source done by e1", func() (bool, string) {
		got := stageLatest(pipelineState(t, s.c, "Trans"), "Source")
		return got == e1+" Succeeded", got
	})
	if x := s.execution("Trans", e1); x.Status != types.PipelineExecutionStatusInProgress {
		t.Errorf("e1 waiting at the transition is %s, want InProgress", x.Status)
	}
	if got := stageLatest(pipelineState(t, s.c, "Trans"), "Build"); got != "none" {
		t.Errorf("Build latest = %s, want none behind a disabled transition", got)
	}
	s.noJobs(bld)

	// e2 reaches the same transition: e1 is superseded.
	e2 := s.start("Trans")
	s.succeed(s.claimFor(src, e2), nil)
	x1 := waitExecution(t, s.c, "Trans", e1, types.PipelineExecutionStatusSuperseded)
	if !strings.Contains(aws.ToString(x1.StatusSummary), e2) {
		t.Errorf("superseded statusSummary = %q, want it to name %s", aws.ToString(x1.StatusSummary), e2)
	}
	if x := s.execution("Trans", e2); x.Status != types.PipelineExecutionStatusInProgress {
		t.Errorf("e2 = %s, want InProgress", x.Status)
	}
	s.noJobs(bld)

	// Enabled again: the latest execution goes through.
	if err := transition("Build", types.StageTransitionTypeInbound, true, ""); err != nil {
		t.Fatalf("EnableStageTransition: %v", err)
	}
	s.succeed(s.claimFor(bld, e2), nil)
	waitExecution(t, s.c, "Trans", e2, types.PipelineExecutionStatusSucceeded)
	ts = stageState(pipelineState(t, s.c, "Trans"), "Build").InboundTransitionState
	if !ts.Enabled || aws.ToString(ts.DisabledReason) != "" || ts.LastChangedAt == nil {
		t.Errorf("Build inbound after enable = %+v", ts)
	}
	if got := s.runCounts("Trans", e1); got != "Fetch=1" {
		t.Errorf("superseded e1 ran %s, want Fetch=1", got)
	}

	// Outbound of Source is the inbound transition of Build.
	if err := transition("Source", types.StageTransitionTypeOutbound, false, "Freeze"); err != nil {
		t.Fatal(err)
	}
	ts = stageState(pipelineState(t, s.c, "Trans"), "Build").InboundTransitionState
	if ts.Enabled || aws.ToString(ts.DisabledReason) != "Freeze" {
		t.Errorf("after disabling Source outbound, Build inbound = %+v", ts)
	}
	if err := transition("Source", types.StageTransitionTypeOutbound, true, ""); err != nil {
		t.Fatal(err)
	}
	if ts = stageState(pipelineState(t, s.c, "Trans"), "Build").InboundTransitionState; !ts.Enabled {
		t.Errorf("after enabling Source outbound, Build inbound = %+v", ts)
	}
}

func v2Pipeline(p *types.PipelineDeclaration, mode types.ExecutionMode) *types.PipelineDeclaration {
	p.PipelineType, p.ExecutionMode = types.PipelineTypeV2, mode
	return p
}

// QUEUED: executions go through each stage one at a time, in start order,
// and none is superseded.
func TestScenarioQueuedMode(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src, bld := s.sourceType("Src"), s.buildType("Bld")
	e1 := s.create(v2Pipeline(pipelineOf("Queue", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))),
		types.ExecutionModeQueued))
	waitAction(t, s.c, "Queue", "Source", "Fetch", types.ActionExecutionStatusInProgress)
	e2, e3 := s.start("Queue"), s.start("Queue")
	for _, id := range []string{e2, e3} {
		if x := s.execution("Queue", id); x.Status != types.PipelineExecutionStatusInProgress || x.ExecutionMode != types.ExecutionModeQueued {
			t.Errorf("queued execution %s = %s in mode %s", id, x.Status, x.ExecutionMode)
		}
	}
	order := map[string][]string{}
	deadline := time.Now().Add(20 * time.Second)
	for len(order["Build"]) < 3 && time.Now().Before(deadline) {
		idle := true
		for _, typ := range []*types.ActionTypeId{src, bld} {
			out, err := s.c.PollForJobs(s.ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(5)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Jobs) > 1 {
				t.Fatalf("%d %s jobs at once; a QUEUED stage holds one execution", len(out.Jobs), aws.ToString(typ.Provider))
			}
			for _, j := range out.Jobs {
				idle = false
				order[jobStage(j)] = append(order[jobStage(j)], jobExec(j))
				if _, err := s.c.AcknowledgeJob(s.ctx, &codepipeline.AcknowledgeJobInput{JobId: j.Id, Nonce: j.Nonce}); err != nil {
					t.Fatal(err)
				}
				s.succeed(j, nil)
			}
		}
		if idle {
			time.Sleep(20 * time.Millisecond) // poll interval of this worker loop
		}
	}
	want := []string{e1, e2, e3}
	for _, stage := range []string{"Source", "Build"} {
		if !slices.Equal(order[stage], want) {
			t.Errorf("%s ran executions %v, want %v (start order)", stage, order[stage], want)
		}
	}
	for _, id := range want {
		waitExecution(t, s.c, "Queue", id, types.PipelineExecutionStatusSucceeded)
	}
}

// PARALLEL: executions run through the same stage at the same time.
func TestScenarioParallelMode(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src, bld := s.sourceType("Src"), s.buildType("Bld")
	e1 := s.create(v2Pipeline(pipelineOf("Par", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))),
		types.ExecutionModeParallel))
	e2 := s.start("Par")
	execsOf := func(jobs []types.Job) []string {
		var ids []string
		for _, j := range jobs {
			ids = append(ids, jobExec(j))
		}
		slices.Sort(ids)
		return ids
	}
	want := []string{e1, e2}
	slices.Sort(want)
	srcJobs := s.claim(src, 2, nil)
	if got := execsOf(srcJobs); !slices.Equal(got, want) {
		t.Fatalf("source jobs of %v, want one each of %v", got, want)
	}
	for _, j := range srcJobs {
		s.succeed(j, nil)
	}
	bldJobs := s.claim(bld, 2, nil)
	if got := execsOf(bldJobs); !slices.Equal(got, want) {
		t.Fatalf("build jobs of %v, want one each of %v", got, want)
	}
	// Both executions are in Build at once.
	for _, id := range want {
		if d := s.runs("Par", id)["A"]; len(d) != 1 || d[0].Status != types.ActionExecutionStatusInProgress {
			t.Errorf("Build/A of %s = %+v, want one run InProgress", id, d)
		}
	}
	for _, j := range bldJobs {
		s.succeed(j, nil)
	}
	for _, id := range want {
		x := waitExecution(t, s.c, "Par", id, types.PipelineExecutionStatusSucceeded)
		if x.ExecutionMode != types.ExecutionModeParallel {
			t.Errorf("execution mode = %s", x.ExecutionMode)
		}
	}
}

// UpdatePipeline cancels the execution in flight and abandons its action.
func TestScenarioUpdateCancelsExecution(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src, bld := s.sourceType("Src"), s.buildType("Bld")
	e1 := s.create(pipelineOf("Upd", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))))
	j := s.claimFor(src, e1)
	got, err := s.c.GetPipeline(s.ctx, &codepipeline.GetPipelineInput{Name: aws.String("Upd")})
	if err != nil {
		t.Fatal(err)
	}
	got.Pipeline.Stages[0].Actions[0].Configuration["Greeting"] = "hello"
	if _, err := s.c.UpdatePipeline(s.ctx, &codepipeline.UpdatePipelineInput{Pipeline: got.Pipeline}); err != nil {
		t.Fatalf("UpdatePipeline: %v", err)
	}
	x := waitExecution(t, s.c, "Upd", e1, types.PipelineExecutionStatusCancelled)
	if !strings.Contains(aws.ToString(x.StatusSummary), "updated") || aws.ToInt32(x.PipelineVersion) != 1 {
		t.Errorf("cancelled execution: summary %q, version %d", aws.ToString(x.StatusSummary), aws.ToInt32(x.PipelineVersion))
	}
	if d := s.runs("Upd", e1)["Fetch"]; len(d) != 1 || d[0].Status != types.ActionExecutionStatusAbandoned {
		t.Errorf("Fetch runs = %+v, want one Abandoned", d)
	}
	st := pipelineState(t, s.c, "Upd")
	if got := stageLatest(st, "Source"); got != e1+" Cancelled" {
		t.Errorf("Source latest = %s, want %s Cancelled", got, e1)
	}
	if aws.ToInt32(st.PipelineVersion) != 2 {
		t.Errorf("pipeline version = %d, want 2", aws.ToInt32(st.PipelineVersion))
	}
	wantAPIError(t, s.putSuccess(j, nil), "InvalidJobStateException", "")
	if n := len(s.executions("Upd")); n != 1 {
		t.Errorf("%d executions after UpdatePipeline, want 1 (an update starts none)", n)
	}
	s.noJobs(bld)
	wantAPIError(t, s.stop("Upd", e1, false, ""), "PipelineExecutionNotStoppableException", "Cancelled")
}

// The same clientRequestToken starts one execution.
func TestScenarioStartIdempotency(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	s.sourceType("Src")
	s.buildType("Bld")
	s.create(pipelineOf("Idem", stageOf("Source", srcAction("Fetch", "Src")), stageOf("Build", buildAction("A", "Bld"))))
	startTok := func(tok string) string {
		t.Helper()
		out, err := s.c.StartPipelineExecution(s.ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("Idem"), ClientRequestToken: aws.String(tok)})
		if err != nil {
			t.Fatalf("StartPipelineExecution: %v", err)
		}
		return aws.ToString(out.PipelineExecutionId)
	}
	a, b, c := startTok("release-2024-05-01"), startTok("release-2024-05-01"), startTok("release-2024-05-02")
	if a != b {
		t.Errorf("the same clientRequestToken started %s and %s", a, b)
	}
	if c == a {
		t.Errorf("another clientRequestToken returned the same execution %s", c)
	}
	if n := len(s.executions("Idem")); n != 3 {
		t.Errorf("%d executions, want 3 (CreatePipeline's and two started)", n)
	}
}

// Pipeline variables and action output variables are resolved in the job
// and in ListActionExecutions; secret values are masked there but not in
// the job data.
func TestScenarioVariablesAndSecrets(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src := s.sourceType("Src")
	bt := customType(types.ActionCategoryBuild, "SecretBuild", 1, 0)
	bt.ConfigurationProperties = append(bt.ConfigurationProperties, types.ActionConfigurationProperty{
		Name: aws.String("Token"), Required: false, Key: false, Secret: true, Type: types.ActionConfigurationPropertyTypeString})
	if _, err := s.c.CreateCustomActionType(s.ctx, bt); err != nil {
		t.Fatal(err)
	}
	bld := customTypeID(types.ActionCategoryBuild, "SecretBuild")
	fetch := srcAction("Fetch", "Src")
	fetch.Namespace = aws.String("SourceVariables")
	build := customAction("A", types.ActionCategoryBuild, "SecretBuild", []string{"Code"}, nil, map[string]string{
		"ProjectName": "p", "Greeting": "deploy #{variables.Env} for #{variables.Team} at #{SourceVariables.Commit}", "Token": "hunter2"})
	p := v2Pipeline(pipelineOf("Vars", stageOf("Source", fetch), stageOf("Build", build)), types.ExecutionModeQueued)
	p.Variables = []types.PipelineVariableDeclaration{
		{Name: aws.String("Env"), DefaultValue: aws.String("staging")},
		{Name: aws.String("Team"), DefaultValue: aws.String("web")},
	}
	e1 := s.create(p)

	// The first execution runs with the defaults.
	s.succeed(s.claimFor(src, e1), map[string]string{"Commit": "abc123"})
	j := s.claimFor(bld, e1)
	cfg := j.Data.ActionConfiguration.Configuration
	if cfg["Greeting"] != "deploy staging for web at abc123" || cfg["Token"] != "hunter2" {
		t.Errorf("job configuration = %v, want Greeting resolved and Token in clear", cfg)
	}
	det, err := s.c.GetJobDetails(s.ctx, &codepipeline.GetJobDetailsInput{JobId: j.Id})
	if err != nil {
		t.Fatal(err)
	}
	if c := det.JobDetails.Data.ActionConfiguration.Configuration; c["Greeting"] != "deploy staging for web at abc123" || c["Token"] != "hunter2" {
		t.Errorf("GetJobDetails configuration = %v", c)
	}
	in := s.runs("Vars", e1)["A"][0].Input
	if in.Configuration["Greeting"] != "deploy #{variables.Env} for #{variables.Team} at #{SourceVariables.Commit}" ||
		in.ResolvedConfiguration["Greeting"] != "deploy staging for web at abc123" {
		t.Errorf("ListActionExecutions configuration %v, resolved %v", in.Configuration, in.ResolvedConfiguration)
	}
	if in.Configuration["Token"] != "****" || in.ResolvedConfiguration["Token"] != "****" {
		t.Errorf("secret Token in ListActionExecutions: configuration %q, resolved %q; want ****", in.Configuration["Token"], in.ResolvedConfiguration["Token"])
	}
	if fo := s.runs("Vars", e1)["Fetch"][0]; fo.Output.OutputVariables["Commit"] != "abc123" || aws.ToString(fo.Input.Namespace) != "SourceVariables" {
		t.Errorf("Fetch output variables %v, namespace %q", fo.Output.OutputVariables, aws.ToString(fo.Input.Namespace))
	}
	s.succeed(j, nil)
	x := waitExecution(t, s.c, "Vars", e1, types.PipelineExecutionStatusSucceeded)
	if got := resolvedVars(x); got != "Env=staging Team=web" {
		t.Errorf("execution variables = %s", got)
	}

	// Values given at start override the defaults.
	_, err = s.c.StartPipelineExecution(s.ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("Vars"),
		Variables: []types.PipelineVariable{{Name: aws.String("Nope"), Value: aws.String("x")}}})
	wantAPIError(t, err, "ValidationException", "Nope")
	e2 := s.start("Vars", types.PipelineVariable{Name: aws.String("Env"), Value: aws.String("prod")})
	if got := resolvedVars(s.execution("Vars", e2)); got != "Env=prod Team=web" {
		t.Errorf("execution variables = %s, want Env=prod Team=web", got)
	}
	s.succeed(s.claimFor(src, e2), map[string]string{"Commit": "def456"})
	j = s.claimFor(bld, e2)
	if g := j.Data.ActionConfiguration.Configuration["Greeting"]; g != "deploy prod for web at def456" {
		t.Errorf("Greeting = %q, want it resolved with Env=prod", g)
	}
	s.succeed(j, nil)
	waitExecution(t, s.c, "Vars", e2, types.PipelineExecutionStatusSucceeded)
}

// A reference to an output variable that the earlier action did not
// produce fails the action when it starts, naming the reference.
func TestScenarioUnresolvedVariable(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	src, bld := s.sourceType("Src"), s.buildType("Bld")
	fetch := srcAction("Fetch", "Src")
	fetch.Namespace = aws.String("SV")
	build := buildAction("A", "Bld")
	build.Configuration["Greeting"] = "commit #{SV.Commit}"
	e1 := s.create(pipelineOf("Missing", stageOf("Source", fetch), stageOf("Build", build)))
	s.succeed(s.claimFor(src, e1), map[string]string{"Branch": "main"}) // no Commit
	a := waitAction(t, s.c, "Missing", "Build", "A", types.ActionExecutionStatusFailed).LatestExecution
	if a.ErrorDetails == nil || aws.ToString(a.ErrorDetails.Code) != "ConfigurationError" || !strings.Contains(aws.ToString(a.ErrorDetails.Message), "#{SV.Commit}") {
		t.Errorf("errorDetails = %+v, want ConfigurationError naming #{SV.Commit}", a.ErrorDetails)
	}
	waitExecution(t, s.c, "Missing", e1, types.PipelineExecutionStatusFailed)
	s.noJobs(bld)
}

func resolvedVars(x *types.PipelineExecution) string {
	var out []string
	for _, v := range x.Variables {
		out = append(out, aws.ToString(v.Name)+"="+aws.ToString(v.ResolvedValue))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// The third-party job API drives a ThirdParty source action (GitHub): the
// clientId a poll returns is the clientToken of the calls that follow.
func TestScenarioThirdPartyJobs(t *testing.T) {
	t.Parallel()
	s := newScenario(t, engine.Config{})
	bld := s.buildType("Bld")
	gh := &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerThirdParty, Provider: aws.String("GitHub"), Version: aws.String("1")}
	github := types.ActionDeclaration{
		Name: aws.String("GitHub"), ActionTypeId: gh, RunOrder: aws.Int32(1),
		OutputArtifacts: []types.OutputArtifact{{Name: aws.String("Code")}},
		Configuration:   map[string]string{"Owner": "octo", "Repo": "app", "Branch": "main", "OAuthToken": "gh-secret"},
	}
	e1 := s.create(pipelineOf("Partner", stageOf("Source", github), stageOf("Build", buildAction("A", "Bld"))))

	pollTP := func() types.ThirdPartyJob {
		t.Helper()
		var got []types.ThirdPartyJob
		eventually(t, "a third-party job", func() (bool, string) {
			out, err := s.c.PollForThirdPartyJobs(s.ctx, &codepipeline.PollForThirdPartyJobsInput{ActionTypeId: gh, MaxBatchSize: aws.Int32(5)})
			if err != nil {
				t.Fatalf("PollForThirdPartyJobs: %v", err)
			}
			got = append(got, out.Jobs...)
			return len(got) > 0, "none"
		})
		if len(got) != 1 {
			t.Fatalf("PollForThirdPartyJobs returned %d jobs, want 1", len(got))
		}
		if !uuidRE.MatchString(aws.ToString(got[0].ClientId)) || aws.ToString(got[0].JobId) == "" {
			t.Fatalf("third-party job = clientId %q, jobId %q", aws.ToString(got[0].ClientId), aws.ToString(got[0].JobId))
		}
		return got[0]
	}
	details := func(jobID, token string) (*types.ThirdPartyJobDetails, error) {
		out, err := s.c.GetThirdPartyJobDetails(s.ctx, &codepipeline.GetThirdPartyJobDetailsInput{JobId: aws.String(jobID), ClientToken: aws.String(token)})
		if err != nil {
			return nil, err
		}
		return out.JobDetails, nil
	}
	ack := func(jobID, nonce, token string) (types.JobStatus, error) {
		out, err := s.c.AcknowledgeThirdPartyJob(s.ctx, &codepipeline.AcknowledgeThirdPartyJobInput{JobId: aws.String(jobID), Nonce: aws.String(nonce), ClientToken: aws.String(token)})
		if err != nil {
			return "", err
		}
		return out.Status, nil
	}
	succeedTP := func(in *codepipeline.PutThirdPartyJobSuccessResultInput) error {
		_, err := s.c.PutThirdPartyJobSuccessResult(s.ctx, in)
		return err
	}

	_, err := s.c.PollForThirdPartyJobs(s.ctx, &codepipeline.PollForThirdPartyJobsInput{ActionTypeId: bld})
	wantAPIError(t, err, "ValidationException", "ThirdParty")
	_, err = s.c.PollForThirdPartyJobs(s.ctx, &codepipeline.PollForThirdPartyJobsInput{ActionTypeId: &types.ActionTypeId{
		Category: types.ActionCategorySource, Owner: types.ActionOwnerThirdParty, Provider: aws.String("Bitbucket"), Version: aws.String("1")}})
	wantAPIError(t, err, "ActionTypeNotFoundException", "Bitbucket")

	tj := pollTP()
	jobID, client := aws.ToString(tj.JobId), aws.ToString(tj.ClientId)
	_, err = details(jobID, "not-the-client-id")
	wantAPIError(t, err, "InvalidClientTokenException", "clientToken")
	_, err = details("00000000-0000-0000-0000-000000000000", client)
	wantAPIError(t, err, "JobNotFoundException", "00000000")
	d, err := details(jobID, client)
	if err != nil {
		t.Fatalf("GetThirdPartyJobDetails: %v", err)
	}
	if aws.ToString(d.Id) != jobID || aws.ToString(d.Nonce) == "" {
		t.Errorf("details id %q nonce %q", aws.ToString(d.Id), aws.ToString(d.Nonce))
	}
	if c := d.Data.ActionConfiguration.Configuration; c["OAuthToken"] != "gh-secret" || c["Repo"] != "app" {
		t.Errorf("third-party job configuration = %v, want the secret in clear", c)
	}
	if pc := d.Data.PipelineContext; aws.ToString(pc.PipelineName) != "Partner" || aws.ToString(pc.Stage.Name) != "Source" ||
		aws.ToString(pc.Action.Name) != "GitHub" || pc.PipelineExecutionId != nil || pc.PipelineArn != nil {
		t.Errorf("third-party pipeline context = %+v (the model: no pipelineArn or pipelineExecutionId)", pc)
	}
	if len(d.Data.OutputArtifacts) != 1 || aws.ToString(d.Data.OutputArtifacts[0].Name) != "Code" {
		t.Errorf("output artifacts = %+v", d.Data.OutputArtifacts)
	}
	nonce := aws.ToString(d.Nonce)
	_, err = ack(jobID, nonce, "not-the-client-id")
	wantAPIError(t, err, "InvalidClientTokenException", "clientToken")
	_, err = ack(jobID, "not-the-nonce", client)
	wantAPIError(t, err, "InvalidNonceException", "nonce")
	if st, err := ack(jobID, nonce, client); err != nil || st != types.JobStatusInProgress {
		t.Fatalf("AcknowledgeThirdPartyJob = %s, %v", st, err)
	}
	// The Custom job API cannot report a job handed to a partner.
	_, err = s.c.PutJobSuccessResult(s.ctx, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(jobID)})
	wantAPIError(t, err, "InvalidJobStateException", "PollForThirdPartyJobs")
	wantAPIError(t, succeedTP(&codepipeline.PutThirdPartyJobSuccessResultInput{JobId: aws.String(jobID), ClientToken: aws.String("nope")}),
		"InvalidClientTokenException", "clientToken")

	// A first step with a continuation token; the next job gets a new client ID.
	if err := succeedTP(&codepipeline.PutThirdPartyJobSuccessResultInput{JobId: aws.String(jobID), ClientToken: aws.String(client),
		ContinuationToken: aws.String("clone-step-2"),
		ExecutionDetails:  &types.ExecutionDetails{Summary: aws.String("cloning"), ExternalExecutionId: aws.String("clone-1")}}); err != nil {
		t.Fatalf("PutThirdPartyJobSuccessResult with a continuation token: %v", err)
	}
	if a := waitAction(t, s.c, "Partner", "Source", "GitHub", types.ActionExecutionStatusInProgress).LatestExecution; aws.ToString(a.Summary) != "cloning" {
		t.Errorf("summary after the first step = %q", aws.ToString(a.Summary))
	}
	tj2 := pollTP()
	job2, client2 := aws.ToString(tj2.JobId), aws.ToString(tj2.ClientId)
	if job2 == jobID || client2 == client {
		t.Fatalf("continuation job %s with client %s, want a new job and client ID", job2, client2)
	}
	_, err = details(job2, client)
	wantAPIError(t, err, "InvalidClientTokenException", "clientToken")
	d2, err := details(job2, client2)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d2.Data.ContinuationToken) != "clone-step-2" {
		t.Errorf("continuation job data has continuationToken %q", aws.ToString(d2.Data.ContinuationToken))
	}
	if _, err := ack(job2, aws.ToString(d2.Nonce), client2); err != nil {
		t.Fatal(err)
	}
	if err := succeedTP(&codepipeline.PutThirdPartyJobSuccessResultInput{JobId: aws.String(job2), ClientToken: aws.String(client2),
		CurrentRevision: &types.CurrentRevision{Revision: aws.String("9f1c2e7"), ChangeIdentifier: aws.String("push-1")}}); err != nil {
		t.Fatalf("PutThirdPartyJobSuccessResult: %v", err)
	}
	wantAPIError(t, succeedTP(&codepipeline.PutThirdPartyJobSuccessResultInput{JobId: aws.String(job2), ClientToken: aws.String(client2)}),
		"InvalidJobStateException", "Succeeded")
	gha := waitAction(t, s.c, "Partner", "Source", "GitHub", types.ActionExecutionStatusSucceeded)
	if gha.CurrentRevision == nil || aws.ToString(gha.CurrentRevision.RevisionId) != "9f1c2e7" {
		t.Errorf("currentRevision = %+v", gha.CurrentRevision)
	}
	if c := s.runs("Partner", e1)["GitHub"][0].Input.Configuration; c["OAuthToken"] != "****" {
		t.Errorf("ListActionExecutions shows OAuthToken %q, want ****", c["OAuthToken"])
	}

	// The build is a Custom job: not a third-party one.
	bj := s.claimFor(bld, e1)
	_, err = details(aws.ToString(bj.Id), client2)
	wantAPIError(t, err, "InvalidJobException", "GetJobDetails")
	s.succeed(bj, nil)
	waitExecution(t, s.c, "Partner", e1, types.PipelineExecutionStatusSucceeded)

	// A partner's failure fails the action with its type and message.
	e2 := s.start("Partner")
	tj3 := pollTP()
	d3, err := details(aws.ToString(tj3.JobId), aws.ToString(tj3.ClientId))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ack(aws.ToString(tj3.JobId), aws.ToString(d3.Nonce), aws.ToString(tj3.ClientId)); err != nil {
		t.Fatal(err)
	}
	_, err = s.c.PutThirdPartyJobFailureResult(s.ctx, &codepipeline.PutThirdPartyJobFailureResultInput{JobId: tj3.JobId, ClientToken: aws.String("nope"),
		FailureDetails: &types.FailureDetails{Type: types.FailureTypeRevisionUnavailable, Message: aws.String("x")}})
	wantAPIError(t, err, "InvalidClientTokenException", "clientToken")
	if _, err := s.c.PutThirdPartyJobFailureResult(s.ctx, &codepipeline.PutThirdPartyJobFailureResultInput{JobId: tj3.JobId, ClientToken: tj3.ClientId,
		FailureDetails: &types.FailureDetails{Type: types.FailureTypeRevisionUnavailable, Message: aws.String("the repository is gone")}}); err != nil {
		t.Fatalf("PutThirdPartyJobFailureResult: %v", err)
	}
	waitExecution(t, s.c, "Partner", e2, types.PipelineExecutionStatusFailed)
	a := actionState(pipelineState(t, s.c, "Partner"), "Source", "GitHub").LatestExecution
	if a.Status != types.ActionExecutionStatusFailed || a.ErrorDetails == nil || aws.ToString(a.ErrorDetails.Code) != "RevisionUnavailable" ||
		aws.ToString(a.ErrorDetails.Message) != "the repository is gone" {
		t.Errorf("GitHub action = %s, errorDetails %+v", a.Status, a.ErrorDetails)
	}
}
