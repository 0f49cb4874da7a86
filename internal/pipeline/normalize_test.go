package pipeline_test

import (
	"reflect"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/pipeline/pipelinetest"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		p        func() *cpapi.PipelineDeclaration
		wantType string
		wantMode string
	}{
		{"V1 defaults", pipelinetest.ValidBase, "V1", "SUPERSEDED"},
		{"V2 kept", pipelinetest.ValidV2, "V2", "QUEUED"},
		{"V2 inferred from variables", func() *cpapi.PipelineDeclaration {
			p := pipelinetest.ValidBase()
			p.Variables = []cpapi.PipelineVariableDeclaration{{Name: "Env"}}
			return p
		}, "V2", "SUPERSEDED"},
		{"V2 inferred from PARALLEL mode", func() *cpapi.PipelineDeclaration {
			p := pipelinetest.ValidBase()
			p.ExecutionMode = "PARALLEL"
			return p
		}, "V2", "PARALLEL"},
		{"V2 inferred from a stage condition", func() *cpapi.PipelineDeclaration {
			p := pipelinetest.ValidBase()
			p.Stages[2].BeforeEntry = &cpapi.BeforeEntryConditions{Conditions: []cpapi.Condition{{Result: "FAIL"}}}
			return p
		}, "V2", "SUPERSEDED"},
		{"explicit V1 kept", func() *cpapi.PipelineDeclaration {
			p := pipelinetest.ValidBase()
			p.PipelineType = "V1"
			p.Triggers = pipelinetest.ValidV2().Triggers
			return p
		}, "V1", "SUPERSEDED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.p()
			if tc.name != "V2 kept" && tc.name != "explicit V1 kept" {
				p.PipelineType = ""
			}
			p.Stages[1].Actions[0].RunOrder = nil
			p.Stages[2].Actions[0].InputArtifacts = []cpapi.InputArtifact{}
			p.Stages[2].Actions[0].OutputArtifacts = nil
			pipeline.Normalize(p)
			if p.PipelineType != tc.wantType || p.ExecutionMode != tc.wantMode {
				t.Errorf("type, mode = %s, %s; want %s, %s", p.PipelineType, p.ExecutionMode, tc.wantType, tc.wantMode)
			}
			if r := p.Stages[1].Actions[0].RunOrder; r == nil || *r != 1 {
				t.Errorf("runOrder = %v, want 1", r)
			}
			if r := p.Stages[1].Actions[1].RunOrder; *r != 2 {
				t.Errorf("explicit runOrder changed to %d", *r)
			}
			if a := p.Stages[2].Actions[0]; a.InputArtifacts == nil || a.OutputArtifacts != nil {
				t.Errorf("artifact lists changed: %#v, %#v", a.InputArtifacts, a.OutputArtifacts)
			}
			once := pipeline.DeepCopy(p)
			pipeline.Normalize(p)
			if !reflect.DeepEqual(once, p) {
				t.Error("Normalize is not idempotent")
			}
		})
	}
	pipeline.Normalize(nil)
}
