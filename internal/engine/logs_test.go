package engine

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/store"
)

func TestAppendJobLog(t *testing.T) {
	h := newHarness(t, Config{})
	h.pipeline(twoStages("P", action("Compile", bldType, []string{"Code"}, nil, nil)))
	execID := h.start("P")

	// A job handed out but not acknowledged takes no log.
	jobs, err := h.e.PollJobs(h.ctx, *srcType, 1, nil)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("PollJobs = %d, %v", len(jobs), err)
	}
	j := jobs[0]
	wantCode(t, h.e.AppendJobLog(h.ctx, j.ID, j.Nonce, []byte("x")), cpapi.InvalidJobStateException)
	if _, err := h.e.AcknowledgeJob(h.ctx, j.ID, j.Nonce); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.e.AppendJobLog(h.ctx, j.ID, "not-the-nonce", []byte("x")), cpapi.InvalidNonceException)
	wantCode(t, h.e.AppendJobLog(h.ctx, "nope", j.Nonce, []byte("x")), cpapi.JobNotFoundException)
	wantCode(t, h.e.AppendJobLog(h.ctx, j.ID, j.Nonce, make([]byte, MaxLogChunk+1)), awsproto.ValidationException)
	for _, line := range []string{"one\n", "", "two\n", "three\n"} {
		if err := h.e.AppendJobLog(h.ctx, j.ID, j.Nonce, []byte(line)); err != nil {
			t.Fatalf("AppendJobLog: %v", err)
		}
	}
	run, _ := h.actionRun(execID, "Source", "Fetch")
	l, err := h.e.ReadActionLog(h.ctx, run.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Chunks) != 3 || string(l.Chunks[1].Data) != "two\n" || l.NextSeq != 3 || l.Complete {
		t.Errorf("log while running = %+v, want 3 chunks (the empty one not stored), next 3, not complete", l)
	}

	h.complete(j, JobResult{Success: true})
	wantCode(t, h.e.AppendJobLog(h.ctx, j.ID, j.Nonce, []byte("late")), cpapi.InvalidJobStateException)
	// A full page of an ended run is not complete yet: more may follow.
	l, err = h.e.ReadActionLog(h.ctx, run.ID, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Chunks) != 2 || l.NextSeq != 3 || l.Complete {
		t.Errorf("full page after the end = %+v, want chunks 2-3, not complete", l)
	}
	l, err = h.e.ReadActionLog(h.ctx, run.ID, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Chunks) != 0 || l.NextSeq != 3 || !l.Complete {
		t.Errorf("read at the end = %+v, want no chunks, next 3, complete", l)
	}
	if _, err := h.e.ReadActionLog(h.ctx, "no-such-run", 0, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReadActionLog of a missing run: %v, want ErrNotFound", err)
	}
}

var commandsType = &cpapi.ActionTypeId{Category: cpapi.ActionCategoryCompute, Owner: cpapi.ActionOwnerAws, Provider: "Commands", Version: "1"}

func TestCommandsJobConfiguration(t *testing.T) {
	h := newHarness(t, Config{})
	run := action("Run", commandsType, []string{"Code"}, nil, nil)
	run.Commands = []string{"echo #{SV.CommitId}", "make #{codepipeline.PipelineExecutionId}"}
	run.OutputVariables = []string{"VERSION"}
	run.OutputArtifacts = []cpapi.OutputArtifact{{Name: "Out", Files: []string{"dist/**/*"}}}
	run.EnvironmentVariables = []cpapi.EnvironmentVariable{{Name: "REV", Value: "#{SV.CommitId}"}, {Name: "KEY", Value: "deploy-key", Type: "SECRETS_MANAGER"}}
	run.TimeoutInMinutes = aws.Int32(15)
	h.pipeline(twoStages("P", run))
	execID := h.start("P")
	h.complete(h.claim(srcType), JobResult{Success: true, OutputVariables: map[string]string{"CommitId": "abc123"}})

	j := h.claim(commandsType)
	cfg := j.Data.ActionConfiguration.Configuration
	var cmds, outVars []string
	var files map[string][]string
	var env []cpapi.EnvironmentVariable
	for key, v := range map[string]any{CommandsKey: &cmds, OutputVariablesKey: &outVars, OutputFilesKey: &files, EnvironmentVariablesKey: &env} {
		if err := json.Unmarshal([]byte(cfg[key]), v); err != nil {
			t.Fatalf("configuration %s = %q: %v", key, cfg[key], err)
		}
	}
	if len(cmds) != 2 || cmds[0] != "echo abc123" || cmds[1] != "make "+execID {
		t.Errorf("commands = %q, want the references resolved", cmds)
	}
	if len(outVars) != 1 || outVars[0] != "VERSION" || len(files["Out"]) != 1 || files["Out"][0] != "dist/**/*" {
		t.Errorf("output variables %q, files %v", outVars, files)
	}
	if len(env) != 2 || env[0].Value != "abc123" || env[1].Type != "SECRETS_MANAGER" || env[1].Value != "deploy-key" {
		t.Errorf("environment variables = %+v", env)
	}
	if cfg[TimeoutKey] != "15" {
		t.Errorf("timeout = %q, want 15", cfg[TimeoutKey])
	}
	// The action execution's input shows the configuration as declared.
	_, d := h.actionRun(execID, "Build", "Run")
	for k := range d.Input.Configuration {
		if strings.HasPrefix(k, "Slipway") {
			t.Errorf("action input configuration shows the reserved key %s", k)
		}
	}
}

func TestCommandsUnresolvedReferenceFailsAction(t *testing.T) {
	h := newHarness(t, Config{})
	run := action("Run", commandsType, []string{"Code"}, nil, nil)
	run.Commands = []string{"echo #{Nope.Value}"}
	h.pipeline(twoStages("P", run))
	execID := h.start("P")
	h.complete(h.claim(srcType), JobResult{Success: true})
	a, d := h.actionRun(execID, "Build", "Run")
	if a.Status != cpapi.ActionExecutionStatusFailed || d.Output.ExecutionResult == nil || d.Output.ExecutionResult.ErrorDetails == nil ||
		d.Output.ExecutionResult.ErrorDetails.Code != cpapi.FailureTypeConfigurationError ||
		!strings.Contains(d.Output.ExecutionResult.ErrorDetails.Message, "#{Nope.Value}") {
		t.Errorf("action = %s %+v, want Failed with a ConfigurationError naming the reference", a.Status, d.Output.ExecutionResult)
	}
}
