package engine

import (
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

func TestResolveVariables(t *testing.T) {
	t.Parallel()
	vars := Vars{
		ExecutionID: "e-1",
		Pipeline:    map[string]string{"Env": "prod", "Empty": ""},
		Namespaces:  map[string]map[string]string{"BuildVars": {"Image": "app:42"}, "Quiet": {}},
	}
	cases := []struct {
		name    string
		config  map[string]string
		want    map[string]string
		wantErr string
	}{
		{"no references", map[string]string{"A": "plain"}, map[string]string{"A": "plain"}, ""},
		{"execution id", map[string]string{"A": "run-#{codepipeline.PipelineExecutionId}"}, map[string]string{"A": "run-e-1"}, ""},
		{"pipeline variable", map[string]string{"A": "#{variables.Env}/#{variables.Empty}x"}, map[string]string{"A": "prod/x"}, ""},
		{"namespace variable from an earlier stage", map[string]string{"Image": "#{BuildVars.Image}"}, map[string]string{"Image": "app:42"}, ""},
		{"several in one value", map[string]string{"A": "#{variables.Env}-#{BuildVars.Image}-#{variables.Env}"}, map[string]string{"A": "prod-app:42-prod"}, ""},
		{"unknown codepipeline variable", map[string]string{"A": "#{codepipeline.PipelineName}"}, nil, `configuration "A" refers to #{codepipeline.PipelineName}, which is not a CodePipeline variable`},
		{"undeclared pipeline variable", map[string]string{"A": "#{variables.Nope}"}, nil, `#{variables.Nope}, which is not a pipeline variable`},
		{"namespace of no earlier action", map[string]string{"A": "#{DeployVars.Url}"}, nil, `#{DeployVars.Url}, which names no namespace`},
		{"missing key in a namespace", map[string]string{"A": "#{Quiet.Key}"}, nil, `#{Quiet.Key}, which is not an output variable of namespace Quiet`},
		{"the first bad key is reported", map[string]string{"B": "#{variables.X}", "A": "#{variables.Y}"}, nil, `configuration "A"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := ResolveVariables(c.config, vars)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// Artifacts flow from the actions that produce them to later actions of
// the same execution, in the same or later stages.
func TestInputArtifacts(t *testing.T) {
	t.Parallel()
	loc := func(key string) *cpapi.ArtifactLocation {
		return &cpapi.ArtifactLocation{Type: "S3", S3Location: ArtifactLocation("bucket", "Pipeline", key, "abc1234")}
	}
	produced := map[string]cpapi.Artifact{
		"SourceOut": {Name: "SourceOut", Revision: "c0ffee", Location: loc("SourceOut")}, // stage 1
		"BuildOut":  {Name: "BuildOut", Location: loc("BuildOut")},                       // stage 2
	}
	got, err := InputArtifacts([]cpapi.InputArtifact{{Name: "BuildOut"}, {Name: "SourceOut"}}, produced)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "BuildOut" || got[1].Revision != "c0ffee" ||
		got[1].Location.S3Location.ObjectKey != "Pipeline/SourceOut/abc1234" {
		t.Errorf("InputArtifacts = %+v", got)
	}
	if _, err := InputArtifacts([]cpapi.InputArtifact{{Name: "TestOut"}}, produced); err == nil ||
		!strings.Contains(err.Error(), `"TestOut" was not produced`) {
		t.Errorf("missing artifact: err = %v", err)
	}
	if key := ArtifactLocation("b", "AVeryLongPipelineNameIndeed", "LongArtifactName", "x").ObjectKey; key != "AVeryLongPipelineNam/LongArtifa/x" {
		t.Errorf("location key = %q, want names cut to 20 and 10 characters", key)
	}
}
