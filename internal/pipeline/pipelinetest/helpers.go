package pipelinetest

import (
	"encoding/json"
	"testing"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
)

// StageNamed returns the stage of p named name; it fails the test when
// there is none.
func StageNamed(t testing.TB, p *cpapi.PipelineDeclaration, name string) *cpapi.StageDeclaration {
	t.Helper()
	for i := range p.Stages {
		if p.Stages[i].Name == name {
			return &p.Stages[i]
		}
	}
	t.Fatalf("no stage %q", name)
	return nil
}

// ActionNamed returns the action of p named action in stage; it fails the
// test when there is none.
func ActionNamed(t testing.TB, p *cpapi.PipelineDeclaration, stage, action string) *cpapi.ActionDeclaration {
	t.Helper()
	s := StageNamed(t, p, stage)
	for j := range s.Actions {
		if s.Actions[j].Name == action {
			return &s.Actions[j]
		}
	}
	t.Fatalf("no action %q in stage %q", action, stage)
	return nil
}

// DecodePipeline decodes a {"pipeline": {...}} document.
func DecodePipeline(t testing.TB, doc string) *cpapi.PipelineDeclaration {
	t.Helper()
	var env struct {
		Pipeline *cpapi.PipelineDeclaration `json:"pipeline"`
	}
	if err := json.Unmarshal([]byte(doc), &env); err != nil {
		t.Fatalf("decode pipeline: %v", err)
	}
	return env.Pipeline
}

// AsAPIError returns err as an *awsproto.Error; it fails the test when err
// is nil or of another type.
func AsAPIError(t testing.TB, err error) *awsproto.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	e := awsproto.AsError(err)
	if e == nil {
		t.Fatalf("error %T %v is not an *awsproto.Error", err, err)
	}
	return e
}

// DecodeStage decodes a stage declaration document.
func DecodeStage(t testing.TB, doc string) cpapi.StageDeclaration {
	t.Helper()
	var s cpapi.StageDeclaration
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatalf("decode stage: %v", err)
	}
	return s
}
