package pipeline

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cpapi"
)

const testRoleArn = "arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"

func i32(v int32) *int32 { return &v }

func typeOf(category, owner, provider string) *cpapi.ActionTypeId {
	return &cpapi.ActionTypeId{Category: category, Owner: owner, Provider: provider, Version: "1"}
}

func inputs(names ...string) []cpapi.InputArtifact {
	out := make([]cpapi.InputArtifact, len(names))
	for i, n := range names {
		out[i] = cpapi.InputArtifact{Name: n}
	}
	return out
}

func outputs(names ...string) []cpapi.OutputArtifact {
	out := make([]cpapi.OutputArtifact, len(names))
	for i, n := range names {
		out[i] = cpapi.OutputArtifact{Name: n}
	}
	return out
}

func s3Source(name, out string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:            name,
		ActionTypeId:    typeOf("Source", "AWS", "S3"),
		Configuration:   map[string]string{"S3Bucket": "awscodepipeline-demobucket-example-date", "S3ObjectKey": "app.zip"},
		OutputArtifacts: outputs(out),
		RunOrder:        i32(1),
	}
}

func codeStarSource(name, out string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:         name,
		ActionTypeId: typeOf("Source", "AWS", "CodeStarSourceConnection"),
		Configuration: map[string]string{
			"ConnectionArn":    "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
			"FullRepositoryId": "example/app",
			"BranchName":       "main",
		},
		OutputArtifacts: outputs(out),
		RunOrder:        i32(1),
	}
}

func codeCommitSource(name, out string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:            name,
		ActionTypeId:    typeOf("Source", "AWS", "CodeCommit"),
		Configuration:   map[string]string{"RepositoryName": "app", "BranchName": "main"},
		OutputArtifacts: outputs(out),
		RunOrder:        i32(1),
	}
}

func codeBuild(category, name string, order int32, in []string, out []string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:            name,
		ActionTypeId:    typeOf(category, "AWS", "CodeBuild"),
		Configuration:   map[string]string{"ProjectName": name + "-project"},
		InputArtifacts:  inputs(in...),
		OutputArtifacts: outputs(out...),
		RunOrder:        i32(order),
	}
}

func codeDeploy(name string, order int32, in string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:         name,
		ActionTypeId: typeOf("Deploy", "AWS", "CodeDeploy"),
		Configuration: map[string]string{
			"ApplicationName":     "CodePipelineDemoApplication",
			"DeploymentGroupName": "CodePipelineDemoFleet",
		},
		InputArtifacts:  inputs(in),
		OutputArtifacts: []cpapi.OutputArtifact{},
		RunOrder:        i32(order),
	}
}

func approval(name string, order int32) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:          name,
		ActionTypeId:  typeOf("Approval", "AWS", "Manual"),
		Configuration: map[string]string{"CustomData": "Please review."},
		RunOrder:      i32(order),
	}
}

func lambda(name string, order int32, params string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:          name,
		ActionTypeId:  typeOf("Invoke", "AWS", "Lambda"),
		Configuration: map[string]string{"FunctionName": "notify", "UserParameters": params},
		RunOrder:      i32(order),
	}
}

func commands(name string, order int32, in string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:           name,
		ActionTypeId:   typeOf("Compute", "AWS", "Commands"),
		Commands:       []string{"make lint"},
		InputArtifacts: inputs(in),
		RunOrder:       i32(order),
	}
}

func approvals(prefix string, orders ...int32) []cpapi.ActionDeclaration {
	out := make([]cpapi.ActionDeclaration, len(orders))
	for i, o := range orders {
		out[i] = approval(fmt.Sprintf("%s%02d", prefix, i+1), o)
	}
	return out
}

// validBase returns a fresh, valid three-stage V1 pipeline:
// Source (S3, namespace SourceVariables) -> Build (Build at runOrder 1,
// Test at runOrder 2) -> Deploy (CodeDeploy).
func validBase() *cpapi.PipelineDeclaration {
	src := s3Source("Source", "SourceOut")
	src.Namespace = "SourceVariables"
	build := codeBuild("Build", "Build", 1, []string{"SourceOut"}, []string{"BuildOut"})
	build.Configuration["EnvironmentVariables"] =
		`[{"name":"VERSION","value":"#{SourceVariables.VersionId}","type":"PLAINTEXT"}]`
	return &cpapi.PipelineDeclaration{
		Name:          "MyPipeline",
		RoleArn:       testRoleArn,
		ArtifactStore: &cpapi.ArtifactStore{Type: "S3", Location: "codepipeline-us-east-1-1234567890"},
		Stages: []cpapi.StageDeclaration{
			{Name: "Source", Actions: []cpapi.ActionDeclaration{src}},
			{Name: "Build", Actions: []cpapi.ActionDeclaration{
				build,
				codeBuild("Test", "Test", 2, []string{"BuildOut"}, nil),
			}},
			{Name: "Deploy", Actions: []cpapi.ActionDeclaration{codeDeploy("Deploy", 1, "BuildOut")}},
		},
		Version: i32(1),
	}
}

// validV2 returns a fresh, valid V2 pipeline: a CodeStarSourceConnection
// source with a trigger, QUEUED mode, a pipeline variable used by the Build
// action, and a Commands action.
func validV2() *cpapi.PipelineDeclaration {
	p := validBase()
	p.PipelineType = "V2"
	p.ExecutionMode = "QUEUED"
	p.Variables = []cpapi.PipelineVariableDeclaration{{Name: "Env", DefaultValue: "dev", Description: "target"}}
	src := codeStarSource("Source", "SourceOut")
	src.Namespace = "SourceVariables"
	p.Stages[0].Actions[0] = src
	p.Triggers = []cpapi.PipelineTriggerDeclaration{{
		ProviderType: "CodeStarSourceConnection",
		GitConfiguration: &cpapi.GitConfiguration{
			SourceActionName: "Source",
			Push:             []cpapi.GitPushFilter{{Branches: &cpapi.GitBranchFilterCriteria{Includes: []string{"main"}}}},
		},
	}}
	build := &p.Stages[1].Actions[0]
	build.Configuration["EnvironmentVariables"] =
		`[{"name":"ENV","value":"#{variables.Env}","type":"PLAINTEXT"},` +
			`{"name":"COMMIT","value":"#{SourceVariables.CommitId}","type":"PLAINTEXT"}]`
	p.Stages[1].Actions = append(p.Stages[1].Actions, commands("Lint", 1, "SourceOut"))
	return p
}

// customBuildType is the custom build action type of the guide's examples
// (reference/codepipeline.md §5.2), with a secret property added.
func customBuildType() cpapi.ActionType {
	return cpapi.ActionType{
		Id: &cpapi.ActionTypeId{Category: "Build", Owner: "Custom", Provider: "My-Build-Provider-Name", Version: "1"},
		Settings: &cpapi.ActionTypeSettings{
			EntityUrlTemplate: "https://my-build-instance/job/{Config:ProjectName}/",
		},
		ActionConfigurationProperties: []cpapi.ActionConfigurationProperty{
			prop("ProjectName", required|key, typeString, "The name of the build project."),
			prop("ApiToken", secret, typeString, "A token for the build server."),
		},
		InputArtifactDetails:  counts(0, 5),
		OutputArtifactDetails: counts(0, 5),
	}
}

// queueTesterType is a custom test action type with a queryable property
// and a Number property.
func queueTesterType() cpapi.ActionType {
	return cpapi.ActionType{
		Id: &cpapi.ActionTypeId{Category: "Test", Owner: "Custom", Provider: "QueueTester", Version: "1"},
		ActionConfigurationProperties: []cpapi.ActionConfigurationProperty{
			prop("QueueName", required|key|queryable, typeString, "The queue workers poll."),
			prop("Retries", 0, typeNumber, "How often to retry."),
		},
		InputArtifactDetails:  counts(1, 1),
		OutputArtifactDetails: counts(0, 0),
	}
}

func testCatalog() *Catalog {
	return NewCatalog([]cpapi.ActionType{customBuildType(), queueTesterType()})
}

func customBuild(name string, order int32, in, out string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:            name,
		ActionTypeId:    &cpapi.ActionTypeId{Category: "Build", Owner: "Custom", Provider: "My-Build-Provider-Name", Version: "1"},
		Configuration:   map[string]string{"ProjectName": "MyBuildProject"},
		InputArtifacts:  inputs(in),
		OutputArtifacts: outputs(out),
		RunOrder:        i32(order),
	}
}

func queueTester(name string, order int32, in string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:           name,
		ActionTypeId:   &cpapi.ActionTypeId{Category: "Test", Owner: "Custom", Provider: "QueueTester", Version: "1"},
		Configuration:  map[string]string{"QueueName": "smoke_tests"},
		InputArtifacts: inputs(in),
		RunOrder:       i32(order),
	}
}

// stageNamed returns the stage of p named name; it fails the test when
// there is none.
func stageNamed(t testing.TB, p *cpapi.PipelineDeclaration, name string) *cpapi.StageDeclaration {
	t.Helper()
	for i := range p.Stages {
		if p.Stages[i].Name == name {
			return &p.Stages[i]
		}
	}
	t.Fatalf("no stage %q", name)
	return nil
}

// actionNamed returns the action of p named action in stage; it fails the
// test when there is none.
func actionNamed(t testing.TB, p *cpapi.PipelineDeclaration, stage, action string) *cpapi.ActionDeclaration {
	t.Helper()
	s := stageNamed(t, p, stage)
	for j := range s.Actions {
		if s.Actions[j].Name == action {
			return &s.Actions[j]
		}
	}
	t.Fatalf("no action %q in stage %q", action, stage)
	return nil
}

// decodePipeline decodes a {"pipeline": {...}} document.
func decodePipeline(t testing.TB, doc string) *cpapi.PipelineDeclaration {
	t.Helper()
	var env struct {
		Pipeline *cpapi.PipelineDeclaration `json:"pipeline"`
	}
	if err := json.Unmarshal([]byte(doc), &env); err != nil {
		t.Fatalf("decode pipeline: %v", err)
	}
	return env.Pipeline
}

// asAPIError returns err as an *awsproto.Error; it fails the test when err
// is nil or of another type.
func asAPIError(t testing.TB, err error) *awsproto.Error {
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

// samplePipeline is the sample pipeline of the user guide's "Create a
// Pipeline (CLI)" (reference/codepipeline.md §2.8), with the roleArn typo
// fixed and a valid account id.
const samplePipeline = `{
  "pipeline": {
    "roleArn": "arn:aws:iam::123456789012:role/AWS-CodePipeline-Service",
    "stages": [
      {
        "name": "Source",
        "actions": [
          {
            "inputArtifacts": [],
            "name": "Source",
            "actionTypeId": {"category": "Source", "owner": "AWS", "version": "1", "provider": "S3"},
            "outputArtifacts": [{"name": "MyApp"}],
            "configuration": {
              "S3Bucket": "awscodepipeline-demobucket-example-date",
              "S3ObjectKey": "ExampleCodePipelineSampleBundle.zip"
            },
            "runOrder": 1
          }
        ]
      },
      {
        "name": "Beta",
        "actions": [
          {
            "inputArtifacts": [{"name": "MyApp"}],
            "name": "Deploy-CodeDeploy-Application",
            "actionTypeId": {"category": "Deploy", "owner": "AWS", "version": "1", "provider": "CodeDeploy"},
            "outputArtifacts": [],
            "configuration": {
              "ApplicationName": "CodePipelineDemoApplication",
              "DeploymentGroupName": "CodePipelineDemoFleet"
            },
            "runOrder": 1
          }
        ]
      }
    ],
    "artifactStore": {"type": "S3", "location": "codepipeline-us-east-1-1234567890"},
    "name": "MyPipelineName",
    "version": 1
  }
}`

// productionStage is the approval-then-deploy stage of
// reference/codepipeline.md §2.9.
const productionStage = `{
  "name": "Production",
  "actions": [
    {
      "inputArtifacts": [],
      "name": "MyApprovalStage",
      "actionTypeId": {"category": "Approval", "owner": "AWS", "version": "1", "provider": "Manual"},
      "outputArtifacts": [],
      "configuration": {
        "NotificationArn": "arn:aws:sns:us-east-1:80398EXAMPLE:MyApprovalTopic",
        "ExternalEntityLink": "http://example.com",
        "CustomData": "The latest changes include feedback from Bob."
      },
      "runOrder": 1
    },
    {
      "inputArtifacts": [{"name": "MyApp"}],
      "name": "MyDeploymentStage",
      "actionTypeId": {"category": "Deploy", "owner": "AWS", "version": "1", "provider": "CodeDeploy"},
      "outputArtifacts": [],
      "configuration": {
        "ApplicationName": "MyDemoApplication",
        "DeploymentGroupName": "MyProductionFleet"
      },
      "runOrder": 2
    }
  ]
}`

// gitHubSourceStage is the GitHub source stage of reference/codepipeline.md
// §2.9.
const gitHubSourceStage = `{
  "name": "Source",
  "actions": [
    {
      "inputArtifacts": [],
      "name": "Source",
      "actionTypeId": {"category": "Source", "owner": "ThirdParty", "version": "1", "provider": "GitHub"},
      "outputArtifacts": [{"name": "MyApp"}],
      "configuration": {
        "Owner": "MyGitHubAccountName",
        "Repo": "MyGitHubRepositoryName",
        "Branch": "master",
        "OAuthToken": "****"
      },
      "runOrder": 1
    }
  ]
}`

func decodeStage(t testing.TB, doc string) cpapi.StageDeclaration {
	t.Helper()
	var s cpapi.StageDeclaration
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatalf("decode stage: %v", err)
	}
	return s
}
