package pipeline_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/pipeline/pipelinetest"
)

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	cases := pipelinetest.InvalidCases()
	if len(cases) < 45 {
		t.Fatalf("only %d invalid cases", len(cases))
	}
	seen := make(map[string]bool)
	for _, tc := range cases {
		if seen[tc.Name] {
			t.Fatalf("duplicate case name %q", tc.Name)
		}
		seen[tc.Name] = true
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			p := tc.Pipeline(t)
			if err := p.Validate(); (err == nil) == tc.ModelInvalid {
				t.Fatalf("model validation: got %v, want failure %v", err, tc.ModelInvalid)
			}
			e := pipelinetest.AsAPIError(t, pipeline.Validate(p, pipelinetest.Catalog(), tc.Limits))
			if e.Code != tc.Code {
				t.Errorf("code = %s, want %s (message %q)", e.Code, tc.Code, e.Message)
			}
			if !strings.Contains(e.Message, tc.Msg) {
				t.Errorf("message = %q\nwant it to contain %q", e.Message, tc.Msg)
			}
			again := pipelinetest.AsAPIError(t, pipeline.Validate(p, pipelinetest.Catalog(), tc.Limits))
			if again.Message != e.Message {
				t.Errorf("message is not deterministic: %q then %q", e.Message, again.Message)
			}
		})
	}
}

// validCases are declarations Validate must accept.
func validCases(t *testing.T) []struct {
	name string
	p    *cpapi.PipelineDeclaration
	lim  pipeline.Limits
} {
	sample := func() *cpapi.PipelineDeclaration { return pipelinetest.DecodePipeline(t, pipelinetest.SamplePipeline) }

	withProduction := sample()
	withProduction.Stages = append(withProduction.Stages, pipelinetest.DecodeStage(t, pipelinetest.ProductionStage))

	gitHub := sample()
	gitHub.Stages[0] = pipelinetest.DecodeStage(t, pipelinetest.GitHubSourceStage)

	custom := sample()
	custom.Stages = []cpapi.StageDeclaration{
		custom.Stages[0],
		{Name: "MyBuildStage", Actions: []cpapi.ActionDeclaration{pipelinetest.CustomBuild("MyBuildCustomAction", 1, "MyApp", "MyBuiltApp")}},
		custom.Stages[1],
	}
	custom.Stages[2].Actions[0].InputArtifacts = pipelinetest.Inputs("MyBuiltApp")
	custom.Stages[1].Actions[0].Configuration["JobList"] = "job-1"

	parallel := pipelinetest.ValidBase()
	parallel.Stages[2].Actions = []cpapi.ActionDeclaration{
		pipelinetest.Approval("Approve", 1), pipelinetest.CodeDeploy("DeployA", 2, "BuildOut"), pipelinetest.CodeDeploy("DeployB", 2, "BuildOut"),
	}

	gaps := pipelinetest.ValidBase()
	gaps.Stages[1].Actions[1].RunOrder = pipelinetest.I32(3)

	longPipeline := pipelinetest.ValidBase()
	for k := range 8 {
		longPipeline.Stages = append(longPipeline.Stages, cpapi.StageDeclaration{
			Name: fmt.Sprintf("Approve%d", k), Actions: []cpapi.ActionDeclaration{pipelinetest.Approval("Approve", 1)},
		})
	}

	inferredV2 := pipelinetest.ValidV2()
	inferredV2.PipelineType = ""

	crossRegion := pipelinetest.ValidBase()
	crossRegion.ArtifactStore = nil
	crossRegion.ArtifactStores = map[string]cpapi.ArtifactStore{
		"us-east-1": pipelinetest.EastStore(),
		"eu-west-1": {Type: "S3", Location: "codepipeline-eu-west-1-1234567890"},
	}
	crossRegion.Stages[2].Actions[0].Region = "eu-west-1"

	kms := pipelinetest.ValidBase()
	kms.ArtifactStore.EncryptionKey = &cpapi.EncryptionKey{
		Id: "arn:aws:kms:us-east-1:123456789012:key/2222222-3333333-4444-556677EXAMPLE", Type: "KMS",
	}

	references := pipelinetest.ValidV2()
	build := &references.Stages[1].Actions[0]
	build.Namespace = "BuildVariables"
	test := &references.Stages[1].Actions[1]
	test.Configuration["EnvironmentVariables"] = `[{"name":"IMAGE","value":"#{BuildVariables.Image}"},` +
		`{"name":"RUN","value":"#{codepipeline.PipelineExecutionId}"}]`
	references.Variables = append(references.Variables, cpapi.PipelineVariableDeclaration{Name: "Poll"})
	references.Stages[0].Actions[0].Configuration["DetectChanges"] = "#{variables.Poll}"

	s3Deploy := pipelinetest.ValidBase()
	s3Deploy.Stages[2].Actions[0].ActionTypeId = pipelinetest.TypeOf("Deploy", "AWS", "S3")
	s3Deploy.Stages[2].Actions[0].Configuration = map[string]string{"BucketName": "site", "Extract": "true"}

	normalized := pipelinetest.ValidV2()
	for i := range normalized.Stages {
		for j := range normalized.Stages[i].Actions {
			normalized.Stages[i].Actions[j].RunOrder = nil
		}
	}
	normalized.Stages[1].Actions[1].RunOrder = pipelinetest.I32(2)
	pipeline.Normalize(normalized)

	return []struct {
		name string
		p    *cpapi.PipelineDeclaration
		lim  pipeline.Limits
	}{
		{"base", pipelinetest.ValidBase(), pipeline.Limits{}},
		{"V2 with variables, triggers, QUEUED and Commands", pipelinetest.ValidV2(), pipeline.Limits{}},
		{"user guide sample pipeline", sample(), pipeline.Limits{}},
		{"sample with approval and deploy stage", withProduction, pipeline.Limits{}},
		{"GitHub source with masked token", gitHub, pipeline.Limits{}},
		{"custom build action", custom, pipeline.Limits{}},
		{"parallel groups 1, 2, 2", parallel, pipeline.Limits{}},
		{"runOrder gaps 1, 3", gaps, pipeline.Limits{}},
		{"eleven stages with a raised limit", longPipeline, pipeline.Limits{MaxStages: 50}},
		{"V2 features without pipelineType", inferredV2, pipeline.Limits{}},
		{"cross-region action with artifactStores", crossRegion, pipeline.Limits{Region: "us-east-1"}},
		{"artifact store with a KMS key", kms, pipeline.Limits{Region: "us-east-1"}},
		{"variable references", references, pipeline.Limits{}},
		{"S3 deploy extracting", s3Deploy, pipeline.Limits{}},
		{"normalized V2 pipeline", normalized, pipeline.Limits{}},
	}
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range validCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.p.Validate(); err != nil {
				t.Fatalf("model validation: %v", err)
			}
			if err := pipeline.Validate(tc.p, pipelinetest.Catalog(), tc.lim); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	t.Parallel()
	p := pipelinetest.ValidV2()
	p.Stages[1].Actions[0].RunOrder = nil
	p.PipelineType = ""
	before := pipeline.DeepCopy(p)
	if err := pipeline.Validate(p, nil, pipeline.Limits{}); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !reflect.DeepEqual(before, p) {
		t.Fatal("Validate modified the declaration")
	}
}

func TestValidateNil(t *testing.T) {
	t.Parallel()
	e := pipelinetest.AsAPIError(t, pipeline.Validate(nil, nil, pipeline.Limits{}))
	if e.Code != cpapi.ValidationException {
		t.Fatalf("code = %s", e.Code)
	}
}
