package pipeline_test

import (
	"encoding/json"
	"testing"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/pipeline/pipelinetest"
)

// FuzzValidate decodes arbitrary JSON as a pipeline declaration and runs the
// model validation, Normalize, Validate, Mask and KeepSecrets on it. None of
// them may panic, and Validate must be deterministic and return only
// *awsproto.Error values.
func FuzzValidate(f *testing.F) {
	for _, p := range []*cpapi.PipelineDeclaration{
		pipelinetest.ValidBase(),
		pipelinetest.ValidV2(),
		secretPipeline(f),
		pipelinetest.DecodePipeline(f, pipelinetest.SamplePipeline),
	} {
		b, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	seeds := []string{
		`{}`,
		`{"name":"p","stages":[]}`,
		`{"name":"p","stages":[{"name":"S","actions":[{"name":"A"}]}]}`,
		`{"name":"p","stages":[{"name":"S","actions":[{"name":"A","actionTypeId":{"category":"Source"},"runOrder":-3}]},{"name":"S","actions":[]}]}`,
		`{"name":"p","artifactStores":{"":{}},"triggers":[{"gitConfiguration":null},{}],"variables":[{"name":""},{"name":""}]}`,
		`{"name":"p","stages":[{"name":"S","actions":[{"name":"A","configuration":{"k":"#{a.b}#{#{}}#{"}}]}]}`,
		`{"name":"p","stages":[{"name":"S","onFailure":{"result":"ROLLBACK","conditions":[{}]},"blockers":[{},{}]}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	cat := pipelinetest.Catalog()
	f.Fuzz(func(t *testing.T, data []byte) {
		var p cpapi.PipelineDeclaration
		if json.Unmarshal(data, &p) != nil {
			return
		}
		_ = p.Validate()
		checkDeterministic(t, &p, cat)
		pipeline.Normalize(&p)
		checkDeterministic(t, &p, cat)
		masked := pipeline.Mask(&p, cat)
		_ = pipeline.KeepSecrets(masked, &p, cat)
		_ = pipeline.KeepSecrets(masked, nil, nil)
	})
}

func checkDeterministic(t *testing.T, p *cpapi.PipelineDeclaration, cat *pipeline.Catalog) {
	t.Helper()
	lim := pipeline.Limits{Region: "us-east-1"}
	first, second := pipeline.Validate(p, cat, lim), pipeline.Validate(p, cat, lim)
	if (first == nil) != (second == nil) {
		t.Fatalf("Validate is not deterministic: %v then %v", first, second)
	}
	if first == nil {
		return
	}
	e := awsproto.AsError(first)
	if e == nil {
		t.Fatalf("Validate returned %T %v", first, first)
	}
	if e.Message != awsproto.AsError(second).Message {
		t.Fatalf("Validate is not deterministic: %q then %q", e.Message, awsproto.AsError(second).Message)
	}
}
