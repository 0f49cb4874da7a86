package server_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/server"
)

var (
	buildOnce sync.Map // binary name -> func() (string, error)
)

// buildBinary builds a main package once per test process and returns
// the path of the binary.
func buildBinary(t *testing.T, pkg string) string {
	t.Helper()
	f, _ := buildOnce.LoadOrStore(pkg, sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "slipway-bin-")
		if err != nil {
			return "", err
		}
		out := filepath.Join(dir, filepath.Base(pkg))
		cmd := exec.Command("go", "build", "-o", out, "github.com/slipway-cd/slipway/"+pkg)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return "", errors.New(string(msg))
		}
		return out, nil
	}))
	path, err := f.(func() (string, error))()
	if err != nil {
		t.Fatalf("build %s: %v", pkg, err)
	}
	return path
}

// fastEngine makes timers short enough for tests.
func fastEngine(c *server.Config) {
	c.Engine = engine.Config{SweepInterval: 50 * time.Millisecond}
}

// eventually retries cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last state: %s", what, last)
}

func customType(category types.ActionCategory, provider string, in, out int32) *codepipeline.CreateCustomActionTypeInput {
	return &codepipeline.CreateCustomActionTypeInput{
		Category: category, Provider: aws.String(provider), Version: aws.String("1"),
		Settings: &types.ActionTypeSettings{
			EntityUrlTemplate:    aws.String("https://ci.example.com/{Config:ProjectName}"),
			ExecutionUrlTemplate: aws.String("https://ci.example.com/{Config:ProjectName}/runs/{ExternalExecutionId}"),
		},
		ConfigurationProperties: []types.ActionConfigurationProperty{
			{Name: aws.String("ProjectName"), Required: true, Key: true, Queryable: true, Type: types.ActionConfigurationPropertyTypeString},
			{Name: aws.String("Greeting"), Required: false, Key: false, Type: types.ActionConfigurationPropertyTypeString},
		},
		InputArtifactDetails:  &types.ArtifactDetails{MinimumCount: in, MaximumCount: in},
		OutputArtifactDetails: &types.ArtifactDetails{MinimumCount: out, MaximumCount: out},
	}
}

func customAction(name string, category types.ActionCategory, provider string, in, out []string, config map[string]string) types.ActionDeclaration {
	a := types.ActionDeclaration{
		Name:          aws.String(name),
		ActionTypeId:  &types.ActionTypeId{Category: category, Owner: types.ActionOwnerCustom, Provider: aws.String(provider), Version: aws.String("1")},
		Configuration: config,
		RunOrder:      aws.Int32(1),
	}
	for _, n := range in {
		a.InputArtifacts = append(a.InputArtifacts, types.InputArtifact{Name: aws.String(n)})
	}
	for _, n := range out {
		a.OutputArtifacts = append(a.OutputArtifacts, types.OutputArtifact{Name: aws.String(n)})
	}
	return a
}

func approvalAction(name string, config map[string]string) types.ActionDeclaration {
	return types.ActionDeclaration{
		Name:          aws.String(name),
		ActionTypeId:  &types.ActionTypeId{Category: types.ActionCategoryApproval, Owner: types.ActionOwnerAws, Provider: aws.String("Manual"), Version: aws.String("1")},
		Configuration: config,
		RunOrder:      aws.Int32(1),
	}
}

// workerPipeline is Source (custom) -> Build (custom, namespace BuildVars)
// -> Release (manual approval).
func workerPipeline(name string) *types.PipelineDeclaration {
	build := customAction("Compile", types.ActionCategoryBuild, "ExampleBuild", []string{"Code"}, []string{"Binary"},
		map[string]string{"ProjectName": "web", "Greeting": "run #{codepipeline.PipelineExecutionId}"})
	build.Namespace = aws.String("BuildVars")
	return &types.PipelineDeclaration{
		Name:          aws.String(name),
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("slipway-artifacts")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{customAction("Fetch", types.ActionCategorySource, "ExampleSource", nil, []string{"Code"}, map[string]string{"ProjectName": "web"})}},
			{Name: aws.String("Build"), Actions: []types.ActionDeclaration{build}},
			{Name: aws.String("Release"), Actions: []types.ActionDeclaration{approvalAction("Approve", map[string]string{"CustomData": "built by #{BuildVars.BuiltBy}"})}},
		},
	}
}

// runWorker runs the example job worker once against the server; it
// returns false when no job was waiting.
func runWorker(t *testing.T, b *bundle, category, provider string) bool {
	t.Helper()
	cmd := exec.Command(buildBinary(t, "examples/jobworker"), "-once", "-endpoint", b.url, "-category", category, "-provider", provider)
	cmd.Env = append(os.Environ(), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(b.dir, "credentials"),
		"AWS_CONFIG_FILE="+filepath.Join(b.dir, "config"), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 {
		return false
	}
	if err != nil {
		t.Fatalf("jobworker: %v\n%s", err, out)
	}
	return true
}

func pipelineState(t *testing.T, c *codepipeline.Client, name string) *codepipeline.GetPipelineStateOutput {
	t.Helper()
	st, err := c.GetPipelineState(context.Background(), &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("GetPipelineState: %v", err)
	}
	return st
}

// actionState returns the latest execution of an action in the state.
func actionState(st *codepipeline.GetPipelineStateOutput, stage, action string) *types.ActionState {
	for _, s := range st.StageStates {
		for i, a := range s.ActionStates {
			if aws.ToString(s.StageName) == stage && aws.ToString(a.ActionName) == action {
				return &s.ActionStates[i]
			}
		}
	}
	return nil
}

func actionStatus(st *codepipeline.GetPipelineStateOutput, stage, action string) string {
	a := actionState(st, stage, action)
	if a == nil || a.LatestExecution == nil {
		return "none"
	}
	return string(a.LatestExecution.Status)
}

func waitAction(t *testing.T, c *codepipeline.Client, pipeline, stage, action string, want types.ActionExecutionStatus) *types.ActionState {
	t.Helper()
	var got *types.ActionState
	eventually(t, stage+"/"+action+" "+string(want), func() (bool, string) {
		st := pipelineState(t, c, pipeline)
		got = actionState(st, stage, action)
		return actionStatus(st, stage, action) == string(want), actionStatus(st, stage, action)
	})
	return got
}

func waitExecution(t *testing.T, c *codepipeline.Client, pipeline, id string, want types.PipelineExecutionStatus) *types.PipelineExecution {
	t.Helper()
	var got *types.PipelineExecution
	eventually(t, "execution "+string(want), func() (bool, string) {
		out, err := c.GetPipelineExecution(context.Background(), &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(pipeline), PipelineExecutionId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetPipelineExecution: %v", err)
		}
		got = out.PipelineExecution
		return got.Status == want, string(got.Status)
	})
	return got
}

func actionExecutions(t *testing.T, c *codepipeline.Client, pipeline, execID string) map[string]types.ActionExecutionDetail {
	t.Helper()
	out, err := c.ListActionExecutions(context.Background(), &codepipeline.ListActionExecutionsInput{
		PipelineName: aws.String(pipeline), Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(execID)}})
	if err != nil {
		t.Fatalf("ListActionExecutions: %v", err)
	}
	m := map[string]types.ActionExecutionDetail{}
	for _, d := range out.ActionExecutionDetails {
		if _, seen := m[aws.ToString(d.ActionName)]; !seen { // newest first
			m[aws.ToString(d.ActionName)] = d
		}
	}
	return m
}

// The example job worker drives a pipeline, one step at a time, and the
// read APIs show each step.
func TestJobWorkerDrivesPipeline(t *testing.T) {
	t.Parallel()
	b := start(t, "", fastEngine)
	ctx := context.Background()
	c := b.client
	for _, in := range []*codepipeline.CreateCustomActionTypeInput{
		customType(types.ActionCategorySource, "ExampleSource", 0, 1), customType(types.ActionCategoryBuild, "ExampleBuild", 1, 1),
	} {
		if _, err := c.CreateCustomActionType(ctx, in); err != nil {
			t.Fatalf("CreateCustomActionType: %v", err)
		}
	}
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: workerPipeline("Worker")}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}

	// Creating the pipeline started an execution, waiting on the source job.
	execs, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("Worker")})
	if err != nil || len(execs.PipelineExecutionSummaries) != 1 {
		t.Fatalf("ListPipelineExecutions = %+v, %v; want one execution", execs, err)
	}
	first := execs.PipelineExecutionSummaries[0]
	execID := aws.ToString(first.PipelineExecutionId)
	if first.Status != types.PipelineExecutionStatusInProgress || first.Trigger.TriggerType != types.TriggerTypeCreatePipeline {
		t.Errorf("first execution = %s triggered by %s, want InProgress by CreatePipeline", first.Status, first.Trigger.TriggerType)
	}
	fetch := waitAction(t, c, "Worker", "Source", "Fetch", types.ActionExecutionStatusInProgress)
	if fetch.EntityUrl == nil || aws.ToString(fetch.EntityUrl) != "https://ci.example.com/web" {
		t.Errorf("entityUrl = %v, want https://ci.example.com/web", aws.ToString(fetch.EntityUrl))
	}

	// Step 1: the worker takes the source job and asks for a continuation.
	if !runWorker(t, b, "Source", "ExampleSource") {
		t.Fatal("no source job was waiting")
	}
	fetch = waitAction(t, c, "Worker", "Source", "Fetch", types.ActionExecutionStatusInProgress)
	le := fetch.LatestExecution
	if aws.ToString(le.Summary) != "half done" || aws.ToInt32(le.PercentComplete) != 50 {
		t.Errorf("after the first step: summary %q, percentComplete %d; want \"half done\", 50", aws.ToString(le.Summary), aws.ToInt32(le.PercentComplete))
	}
	wantURL := "https://ci.example.com/web/runs/run-" + execID[:8]
	if aws.ToString(le.ExternalExecutionUrl) != wantURL {
		t.Errorf("externalExecutionUrl = %q, want %q", aws.ToString(le.ExternalExecutionUrl), wantURL)
	}
	if n := len(actionExecutions(t, c, "Worker", execID)); n != 1 {
		t.Errorf("ListActionExecutions has %d actions, want 1", n)
	}

	// Step 2: the continuation job finishes the source action; Build starts.
	if !runWorker(t, b, "Source", "ExampleSource") {
		t.Fatal("no continuation job was queued")
	}
	waitAction(t, c, "Worker", "Source", "Fetch", types.ActionExecutionStatusSucceeded)
	waitAction(t, c, "Worker", "Build", "Compile", types.ActionExecutionStatusInProgress)
	if runWorker(t, b, "Source", "ExampleSource") {
		t.Error("a source job was left after the action succeeded")
	}

	// Steps 3 and 4: the build.
	runWorker(t, b, "Build", "ExampleBuild")
	runWorker(t, b, "Build", "ExampleBuild")
	waitAction(t, c, "Worker", "Build", "Compile", types.ActionExecutionStatusSucceeded)
	details := actionExecutions(t, c, "Worker", execID)
	compile := details["Compile"]
	if got := compile.Output.OutputVariables["BuiltBy"]; got != "jobworker" {
		t.Errorf("Compile output variables = %v, want BuiltBy=jobworker", compile.Output.OutputVariables)
	}
	if got := compile.Input.ResolvedConfiguration["Greeting"]; got != "run "+execID {
		t.Errorf("resolved Greeting = %q, want %q", got, "run "+execID)
	}
	if got := compile.Input.Configuration["Greeting"]; got != "run #{codepipeline.PipelineExecutionId}" {
		t.Errorf("declared Greeting = %q", got)
	}
	fetchOut := details["Fetch"].Output.OutputArtifacts
	if len(fetchOut) != 1 || len(compile.Input.InputArtifacts) != 1 ||
		aws.ToString(compile.Input.InputArtifacts[0].S3location.Key) != aws.ToString(fetchOut[0].S3location.Key) {
		t.Errorf("Compile's input artifact %+v is not Fetch's output %+v", compile.Input.InputArtifacts, fetchOut)
	}
	if !strings.HasPrefix(aws.ToString(fetchOut[0].S3location.Key), "Worker/Code/") || aws.ToString(fetchOut[0].S3location.Bucket) != "slipway-artifacts" {
		t.Errorf("artifact location = %+v", fetchOut[0].S3location)
	}

	// Step 5: the approval, with a token from the state.
	approve := waitAction(t, c, "Worker", "Release", "Approve", types.ActionExecutionStatusInProgress)
	token := aws.ToString(approve.LatestExecution.Token)
	if token == "" {
		t.Fatal("no approval token in GetPipelineState")
	}
	put := func(tok string, status types.ApprovalStatus) error {
		_, err := c.PutApprovalResult(ctx, &codepipeline.PutApprovalResultInput{
			PipelineName: aws.String("Worker"), StageName: aws.String("Release"), ActionName: aws.String("Approve"), Token: aws.String(tok),
			Result: &types.ApprovalResult{Status: status, Summary: aws.String("looks good")},
		})
		return err
	}
	wantAPIError(t, put("00000000-0000-0000-0000-000000000000", types.ApprovalStatusApproved), "InvalidApprovalTokenException", "token")
	if err := put(token, types.ApprovalStatusApproved); err != nil {
		t.Fatalf("PutApprovalResult: %v", err)
	}
	wantAPIError(t, put(token, types.ApprovalStatusApproved), "ApprovalAlreadyCompletedException", "already")
	done := waitExecution(t, c, "Worker", execID, types.PipelineExecutionStatusSucceeded)
	if len(done.ArtifactRevisions) != 0 && aws.ToString(done.ArtifactRevisions[0].Name) == "" {
		t.Errorf("artifact revisions = %+v", done.ArtifactRevisions)
	}
	approve = waitAction(t, c, "Worker", "Release", "Approve", types.ActionExecutionStatusSucceeded)
	if aws.ToString(approve.LatestExecution.Summary) != "looks good" || !strings.HasSuffix(aws.ToString(approve.LatestExecution.LastUpdatedBy), ":user/admin") {
		t.Errorf("approval state = %+v", approve.LatestExecution)
	}
	if d := actionExecutions(t, c, "Worker", execID)["Approve"]; d.Input.ResolvedConfiguration["CustomData"] != "built by jobworker" {
		t.Errorf("approval CustomData resolved to %q, want \"built by jobworker\"", d.Input.ResolvedConfiguration["CustomData"])
	}
	st := pipelineState(t, c, "Worker")
	for _, s := range st.StageStates {
		if s.LatestExecution == nil || aws.ToString(s.LatestExecution.PipelineExecutionId) != execID || s.LatestExecution.Status != types.StageExecutionStatusSucceeded {
			t.Errorf("stage %s latest execution = %+v", aws.ToString(s.StageName), s.LatestExecution)
		}
	}
}

// Two workers polling at once: every job is acknowledged by exactly one.
func TestConcurrentPollersAcknowledgeOnce(t *testing.T) {
	t.Parallel()
	b := start(t, "", fastEngine)
	ctx := context.Background()
	c := b.client
	if _, err := c.CreateCustomActionType(ctx, customType(types.ActionCategorySource, "RaceSource", 0, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCustomActionType(ctx, customType(types.ActionCategoryTest, "RaceTest", 1, 0)); err != nil {
		t.Fatal(err)
	}
	// A V2 pipeline in PARALLEL mode with five parallel test actions: every
	// execution queues five jobs at once.
	p := &types.PipelineDeclaration{
		Name: aws.String("Race"), RoleArn: aws.String("arn:aws:iam::123456789012:role/R"),
		PipelineType: types.PipelineTypeV2, ExecutionMode: types.ExecutionModeParallel,
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("bucket")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{customAction("Src", types.ActionCategorySource, "RaceSource", nil, []string{"Code"}, map[string]string{"ProjectName": "p"})}},
			{Name: aws.String("Test"), Actions: nil},
		},
	}
	for i := range 5 {
		p.Stages[1].Actions = append(p.Stages[1].Actions, customAction("T"+string(rune('A'+i)), types.ActionCategoryTest, "RaceTest", []string{"Code"}, nil, map[string]string{"ProjectName": "p"}))
	}
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: p}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	for range 3 {
		if _, err := c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("Race")}); err != nil {
			t.Fatal(err)
		}
	}
	const executions, total = 4, 4 * 6
	var mu sync.Mutex
	acked := map[string]int{}
	var stolen int
	succeeded := 0
	worker := func(stopAt time.Time) {
		for time.Now().Before(stopAt) {
			mu.Lock()
			finished := succeeded == total
			mu.Unlock()
			if finished {
				return
			}
			for _, typ := range []*types.ActionTypeId{
				{Category: types.ActionCategorySource, Owner: types.ActionOwnerCustom, Provider: aws.String("RaceSource"), Version: aws.String("1")},
				{Category: types.ActionCategoryTest, Owner: types.ActionOwnerCustom, Provider: aws.String("RaceTest"), Version: aws.String("1")},
			} {
				out, err := c.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(3)})
				if err != nil {
					t.Errorf("PollForJobs: %v", err)
					return
				}
				for _, j := range out.Jobs {
					// Try the job with a wrong nonce first: it must be refused.
					_, err := c.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: j.Id, Nonce: aws.String("not-the-nonce")})
					var bad *types.InvalidNonceException
					if !errors.As(err, &bad) {
						mu.Lock()
						stolen++
						mu.Unlock()
					}
					if _, err := c.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: j.Id, Nonce: j.Nonce}); err != nil {
						t.Errorf("AcknowledgeJob with its own nonce: %v", err)
						continue
					}
					mu.Lock()
					acked[aws.ToString(j.Id)]++
					mu.Unlock()
					if _, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: j.Id}); err != nil {
						t.Errorf("PutJobSuccessResult: %v", err)
						continue
					}
					mu.Lock()
					succeeded++
					mu.Unlock()
				}
			}
		}
	}
	var wg sync.WaitGroup
	stopAt := time.Now().Add(20 * time.Second)
	for range 2 {
		wg.Go(func() { worker(stopAt) })
	}
	wg.Wait()
	for id, n := range acked {
		if n != 1 {
			t.Errorf("job %s acknowledged %d times", id, n)
		}
	}
	if len(acked) != total || succeeded != total {
		t.Errorf("%d distinct jobs acknowledged, %d succeeded; want %d of %d executions", len(acked), succeeded, total, executions)
	}
	if stolen > 0 {
		t.Errorf("%d acknowledgements with a wrong nonce were accepted", stolen)
	}
	out, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("Race")})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range out.PipelineExecutionSummaries {
		if s.Status != types.PipelineExecutionStatusSucceeded {
			eventually(t, "all executions succeed", func() (bool, string) {
				out, _ := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("Race")})
				for _, s := range out.PipelineExecutionSummaries {
					if s.Status != types.PipelineExecutionStatusSucceeded {
						return false, string(s.Status)
					}
				}
				return true, ""
			})
			break
		}
	}
}

// readLines returns the lines of a file (empty if it does not exist).
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
