package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// decl builds a pipeline from "Stage:Action@runOrder,..." specs.
func decl(mode string, stages ...string) *cpapi.PipelineDeclaration {
	p := &cpapi.PipelineDeclaration{Name: "P", ExecutionMode: mode}
	for _, spec := range stages {
		name, acts, _ := strings.Cut(spec, ":")
		s := cpapi.StageDeclaration{Name: name}
		for _, a := range strings.Split(acts, ",") {
			an, order := a, int32(1)
			if n, o, ok := strings.Cut(a, "@"); ok {
				var v int
				fmt.Sscan(o, &v)
				an, order = n, int32(v)
			}
			s.Actions = append(s.Actions, cpapi.ActionDeclaration{Name: an, RunOrder: aws.Int32(order)})
		}
		p.Stages = append(p.Stages, s)
	}
	return p
}

var threeStages = []string{"Source:Src", "Build:Compile@1,Lint@2,Unit@2,Package@3", "Deploy:Ship"}

func ex(id string, seq int64, status, stage string, waiting bool) *Execution {
	return &Execution{ID: id, Seq: seq, Status: status, Stage: stage, Waiting: waiting}
}

func sr(exec, stage, status string, attempt int, mode string) *StageRun {
	return &StageRun{ExecutionID: exec, Stage: stage, Status: status, Attempt: attempt, RetryMode: mode}
}

func ar(exec, stage, action, status string, attempt int) *ActionRun {
	return &ActionRun{ExecutionID: exec, Stage: stage, Action: action, Status: status, StageAttempt: attempt}
}

// describe renders commands compactly for comparison.
func describe(cmds []Command) []string {
	out := []string{}
	for _, c := range cmds {
		switch c := c.(type) {
		case EnterStage:
			out = append(out, "enter "+c.ExecutionID+" "+c.Stage)
		case StartAction:
			out = append(out, fmt.Sprintf("start %s %s/%s #%d", c.ExecutionID, c.Stage, c.Action, c.StageAttempt))
		case FinishStage:
			out = append(out, "stage "+c.ExecutionID+" "+c.Stage+" "+c.Status)
		case Advance:
			out = append(out, "advance "+c.ExecutionID+" "+c.Stage)
		case FinishExecution:
			out = append(out, "finish "+c.ExecutionID+" "+c.Status)
		}
	}
	return out
}

func TestPlan(t *testing.T) {
	t.Parallel()
	const (
		ip  = actionInProgress
		ok  = actionSucceeded
		bad = actionFailed
	)
	cases := []struct {
		name     string
		pipeline *cpapi.PipelineDeclaration
		execs    []*Execution
		stages   []*StageRun
		actions  []*ActionRun
		disabled map[string]bool
		want     []string
	}{
		{
			name:     "a new execution enters the first stage and starts its actions",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Source", true)},
			want:     []string{"enter e1 Source", "start e1 Source/Src #1"},
		},
		{
			name:     "source done: the execution advances and starts the first runOrder group only",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Source", false)},
			stages:   []*StageRun{sr("e1", "Source", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Source", "Src", ok, 1)},
			want:     []string{"stage e1 Source Succeeded", "advance e1 Build", "enter e1 Build", "start e1 Build/Compile #1"},
		},
		{
			name:     "parallel group: both actions of runOrder 2 start together",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1)},
			want:     []string{"start e1 Build/Lint #1", "start e1 Build/Unit #1"},
		},
		{
			name:     "sequential: the next group waits while one of the parallel actions runs",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", ok, 1), ar("e1", "Build", "Unit", ip, 1)},
			want:     []string{},
		},
		{
			name:     "sequential: the group after a finished parallel group starts",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", ok, 1), ar("e1", "Build", "Unit", ok, 1)},
			want:     []string{"start e1 Build/Package #1"},
		},
		{
			name:     "gaps in runOrder are groups in ascending order",
			pipeline: decl("", "Source:S", "Build:C@7,A@1,B@3"),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "A", ok, 1)},
			want:     []string{"start e1 Build/B #1"},
		},
		{
			name:     "last stage succeeded: the execution succeeds",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Deploy", false)},
			stages:   []*StageRun{sr("e1", "Deploy", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Deploy", "Ship", ok, 1)},
			want:     []string{"stage e1 Deploy Succeeded", "finish e1 Succeeded"},
		},
		{
			name:     "a failed action with a parallel one still running: wait, start nothing",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", bad, 1), ar("e1", "Build", "Unit", ip, 1)},
			want:     []string{},
		},
		{
			name:     "a failed action fails the stage and the execution; later groups never run",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", bad, 1), ar("e1", "Build", "Unit", ok, 1)},
			want:     []string{"stage e1 Build Failed", "finish e1 Failed"},
		},
		{
			name:     "job timeout: a TimedOut job fails its action, which fails the stage",
			pipeline: decl("", "Source:S", "Deploy:Custom"),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Deploy", false)},
			stages:   []*StageRun{sr("e1", "Deploy", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Deploy", "Custom", bad, 1)},
			want:     []string{"stage e1 Deploy Failed", "finish e1 Failed"},
		},
		{
			name:     "approval pending: nothing happens",
			pipeline: decl("", "Source:S", "Gate:Approve@1,Ship@2"),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Gate", false)},
			stages:   []*StageRun{sr("e1", "Gate", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Gate", "Approve", ip, 1)},
			want:     []string{},
		},
		{
			name:     "approval approved: the action after it starts",
			pipeline: decl("", "Source:S", "Gate:Approve@1,Ship@2"),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Gate", false)},
			stages:   []*StageRun{sr("e1", "Gate", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Gate", "Approve", ok, 1)},
			want:     []string{"start e1 Gate/Ship #1"},
		},
		{
			name:     "approval rejected or expired: the stage fails",
			pipeline: decl("", "Source:S", "Gate:Approve@1,Ship@2"),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Gate", false)},
			stages:   []*StageRun{sr("e1", "Gate", stageInProgress, 1, "")},
			actions:  []*ActionRun{ar("e1", "Gate", "Approve", bad, 1)},
			want:     []string{"stage e1 Gate Failed", "finish e1 Failed"},
		},
		{
			name:     "superseded: a newer execution reaching the boundary replaces the older waiting one",
			pipeline: decl("", threeStages...),
			execs: []*Execution{
				ex("e1", 1, execInProgress, "Build", false),
				ex("e2", 2, execInProgress, "Build", true),
				ex("e3", 3, execInProgress, "Source", false),
			},
			stages: []*StageRun{
				sr("e1", "Build", stageInProgress, 1, ""), sr("e2", "Source", stageSucceeded, 1, ""), sr("e3", "Source", stageInProgress, 1, ""),
			},
			actions: []*ActionRun{ar("e1", "Build", "Compile", ip, 1), ar("e3", "Source", "Src", ok, 1)},
			want:    []string{"stage e3 Source Succeeded", "advance e3 Build", "finish e2 Superseded"},
		},
		{
			name:     "superseded mode: a waiting execution enters when the stage frees up",
			pipeline: decl("", threeStages...),
			execs: []*Execution{
				ex("e1", 1, execInProgress, "Build", false),
				ex("e2", 2, execInProgress, "Build", true),
			},
			stages:  []*StageRun{sr("e1", "Build", stageInProgress, 1, ""), sr("e2", "Source", stageSucceeded, 1, "")},
			actions: []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", ok, 1), ar("e1", "Build", "Unit", ok, 1), ar("e1", "Build", "Package", ok, 1)},
			want:    []string{"stage e1 Build Succeeded", "advance e1 Deploy", "enter e1 Deploy", "start e1 Deploy/Ship #1", "enter e2 Build", "start e2 Build/Compile #1"},
		},
		{
			name:     "queued mode: waiting executions are not superseded and enter in start order",
			pipeline: decl(cpapi.ExecutionModeQueued, threeStages...),
			execs: []*Execution{
				ex("e1", 1, execInProgress, "Build", false),
				ex("e2", 2, execInProgress, "Build", true),
				ex("e3", 3, execInProgress, "Source", false),
			},
			stages: []*StageRun{
				sr("e1", "Build", stageInProgress, 1, ""), sr("e2", "Source", stageSucceeded, 1, ""), sr("e3", "Source", stageInProgress, 1, ""),
			},
			actions: []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", ok, 1), ar("e1", "Build", "Unit", ok, 1), ar("e1", "Build", "Package", ok, 1), ar("e3", "Source", "Src", ok, 1)},
			want: []string{
				"stage e1 Build Succeeded", "advance e1 Deploy", "enter e1 Deploy", "start e1 Deploy/Ship #1",
				"enter e2 Build", "start e2 Build/Compile #1",
				"stage e3 Source Succeeded", "advance e3 Build",
			},
		},
		{
			name:     "queued mode: new executions wait in line for the first stage",
			pipeline: decl(cpapi.ExecutionModeQueued, threeStages...),
			execs: []*Execution{
				ex("e1", 1, execInProgress, "Source", false),
				ex("e2", 2, execInProgress, "Source", true),
				ex("e3", 3, execInProgress, "Source", true),
			},
			stages:  []*StageRun{sr("e1", "Source", stageInProgress, 1, "")},
			actions: []*ActionRun{ar("e1", "Source", "Src", ip, 1)},
			want:    []string{},
		},
		{
			name:     "parallel mode: executions share stages",
			pipeline: decl(cpapi.ExecutionModeParallel, threeStages...),
			execs: []*Execution{
				ex("e1", 1, execInProgress, "Build", false),
				ex("e2", 2, execInProgress, "Build", true),
				ex("e3", 3, execInProgress, "Source", true),
			},
			stages:  []*StageRun{sr("e1", "Build", stageInProgress, 1, ""), sr("e2", "Source", stageSucceeded, 1, "")},
			actions: []*ActionRun{ar("e1", "Build", "Compile", ip, 1)},
			want:    []string{"enter e2 Build", "start e2 Build/Compile #1", "enter e3 Source", "start e3 Source/Src #1"},
		},
		{
			name:     "disabled inbound transition: the execution waits in front of it",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Deploy", true)},
			stages:   []*StageRun{sr("e1", "Build", stageSucceeded, 1, "")},
			disabled: map[string]bool{"Deploy": true},
			want:     []string{},
		},
		{
			name:     "disabled transition: a newer execution arriving supersedes the waiting one, and it also waits",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Deploy", true), ex("e2", 2, execInProgress, "Deploy", true)},
			disabled: map[string]bool{"Deploy": true},
			want:     []string{"finish e1 Superseded"},
		},
		{
			name:     "enabled transition: the latest waiting execution goes on",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e2", 2, execInProgress, "Deploy", true)},
			disabled: map[string]bool{"Build": true},
			want:     []string{"enter e2 Deploy", "start e2 Deploy/Ship #1"},
		},
		{
			name:     "retry FAILED_ACTIONS reruns only the failed actions of the group",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 2, cpapi.StageRetryModeFailedActions)},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", bad, 1), ar("e1", "Build", "Unit", ok, 1)},
			want:     []string{"start e1 Build/Lint #2"},
		},
		{
			name:     "after a FAILED_ACTIONS retry succeeds the stage goes on",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 2, cpapi.StageRetryModeFailedActions)},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", ok, 2), ar("e1", "Build", "Unit", ok, 1)},
			want:     []string{"start e1 Build/Package #2"},
		},
		{
			name:     "retry ALL_ACTIONS reruns the stage from its first group",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 2, cpapi.StageRetryModeAllActions)},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", bad, 1), ar("e1", "Build", "Unit", ok, 1)},
			want:     []string{"start e1 Build/Compile #2"},
		},
		{
			name:     "retry of a stage stopped between groups: FAILED_ACTIONS starts the group the stop never reached",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 2, cpapi.StageRetryModeFailedActions)},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1)},
			want:     []string{"start e1 Build/Lint #2", "start e1 Build/Unit #2"},
		},
		{
			name:     "retry of a stage stopped with abandon reruns the abandoned action",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 2, cpapi.StageRetryModeFailedActions)},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", ok, 1), ar("e1", "Build", "Unit", actionAbandoned, 1)},
			want:     []string{"start e1 Build/Unit #2"},
		},
		{
			name:     "ALL_ACTIONS: after the first group reran, the later group reruns too",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 2, cpapi.StageRetryModeAllActions)},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 2), ar("e1", "Build", "Lint", bad, 1), ar("e1", "Build", "Unit", ok, 1)},
			want:     []string{"start e1 Build/Lint #2", "start e1 Build/Unit #2"},
		},
		{
			name:     "an action failing again after a retry fails the stage again",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execInProgress, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageInProgress, 2, cpapi.StageRetryModeFailedActions)},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", bad, 2), ar("e1", "Build", "Unit", ok, 1)},
			want:     []string{"stage e1 Build Failed", "finish e1 Failed"},
		},
		{
			name:     "stop: in-progress actions finish first, nothing new starts",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execStopping, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageStopping, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", ok, 1), ar("e1", "Build", "Unit", ip, 1)},
			want:     []string{},
		},
		{
			name:     "stop: once nothing runs the execution is Stopped",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execStopping, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageStopping, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", ok, 1), ar("e1", "Build", "Unit", ok, 1)},
			want:     []string{"stage e1 Build Stopped", "finish e1 Stopped"},
		},
		{
			name:     "stop and abandon: abandoned actions end the execution at once",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execStopping, "Build", false)},
			stages:   []*StageRun{sr("e1", "Build", stageStopping, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", ok, 1), ar("e1", "Build", "Lint", actionAbandoned, 1), ar("e1", "Build", "Unit", actionAbandoned, 1)},
			want:     []string{"stage e1 Build Stopped", "finish e1 Stopped"},
		},
		{
			name:     "stop of a waiting execution ends it at once",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execStopping, "Deploy", true)},
			want:     []string{"finish e1 Stopped"},
		},
		{
			name:     "a stopping execution frees its stage for the next one",
			pipeline: decl("", threeStages...),
			execs:    []*Execution{ex("e1", 1, execStopping, "Build", false), ex("e2", 2, execInProgress, "Build", true)},
			stages:   []*StageRun{sr("e1", "Build", stageStopping, 1, "")},
			actions:  []*ActionRun{ar("e1", "Build", "Compile", actionAbandoned, 1)},
			want:     []string{"stage e1 Build Stopped", "finish e1 Stopped", "enter e2 Build", "start e2 Build/Compile #1"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := &State{Pipeline: c.pipeline, Executions: c.execs, Stages: c.stages, Actions: c.actions, DisabledInbound: c.disabled}
			before := fmt.Sprintf("%+v", *st)
			got := describe(Plan(st))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Plan =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
			if after := fmt.Sprintf("%+v", *st); after != before {
				t.Errorf("Plan modified its input")
			}
		})
	}
}
