// Package pipelinetest holds pipeline fixtures shared by tests: valid base
// declarations, custom action types and a table of invalid pipelines, one
// broken rule each.
package pipelinetest

import (
	"fmt"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
)

// RoleArn is the service role of the fixtures' pipelines.
const RoleArn = "arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"

// I32 returns a pointer to v.
func I32(v int32) *int32 { return &v }

// TypeOf returns the version 1 action type id category/owner/provider.
func TypeOf(category, owner, provider string) *cpapi.ActionTypeId {
	return &cpapi.ActionTypeId{Category: category, Owner: owner, Provider: provider, Version: "1"}
}

// Inputs returns input artifacts with the given names.
func Inputs(names ...string) []cpapi.InputArtifact {
	out := make([]cpapi.InputArtifact, len(names))
	for i, n := range names {
		out[i] = cpapi.InputArtifact{Name: n}
	}
	return out
}

// Outputs returns output artifacts with the given names.
func Outputs(names ...string) []cpapi.OutputArtifact {
	out := make([]cpapi.OutputArtifact, len(names))
	for i, n := range names {
		out[i] = cpapi.OutputArtifact{Name: n}
	}
	return out
}

// S3Source returns an S3 source action producing the artifact out.
func S3Source(name, out string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:            name,
		ActionTypeId:    TypeOf("Source", "AWS", "S3"),
		Configuration:   map[string]string{"S3Bucket": "awscodepipeline-demobucket-example-date", "S3ObjectKey": "app.zip"},
		OutputArtifacts: Outputs(out),
		RunOrder:        I32(1),
	}
}

// CodeStarSource returns a CodeStarSourceConnection source action
// producing the artifact out.
func CodeStarSource(name, out string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:         name,
		ActionTypeId: TypeOf("Source", "AWS", "CodeStarSourceConnection"),
		Configuration: map[string]string{
			"ConnectionArn":    "arn:aws:codeconnections:us-east-1:123456789012:connection/abc",
			"FullRepositoryId": "example/app",
			"BranchName":       "main",
		},
		OutputArtifacts: Outputs(out),
		RunOrder:        I32(1),
	}
}

// CodeCommitSource returns a CodeCommit source action producing the
// artifact out.
func CodeCommitSource(name, out string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:            name,
		ActionTypeId:    TypeOf("Source", "AWS", "CodeCommit"),
		Configuration:   map[string]string{"RepositoryName": "app", "BranchName": "main"},
		OutputArtifacts: Outputs(out),
		RunOrder:        I32(1),
	}
}

// CodeBuild returns a CodeBuild action of category (Build or Test) with
// the project name+"-project".
func CodeBuild(category, name string, order int32, in []string, out []string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:            name,
		ActionTypeId:    TypeOf(category, "AWS", "CodeBuild"),
		Configuration:   map[string]string{"ProjectName": name + "-project"},
		InputArtifacts:  Inputs(in...),
		OutputArtifacts: Outputs(out...),
		RunOrder:        I32(order),
	}
}

// CodeDeploy returns a CodeDeploy action deploying the artifact in.
func CodeDeploy(name string, order int32, in string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:         name,
		ActionTypeId: TypeOf("Deploy", "AWS", "CodeDeploy"),
		Configuration: map[string]string{
			"ApplicationName":     "CodePipelineDemoApplication",
			"DeploymentGroupName": "CodePipelineDemoFleet",
		},
		InputArtifacts:  Inputs(in),
		OutputArtifacts: []cpapi.OutputArtifact{},
		RunOrder:        I32(order),
	}
}

// Approval returns a manual approval action.
func Approval(name string, order int32) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:          name,
		ActionTypeId:  TypeOf("Approval", "AWS", "Manual"),
		Configuration: map[string]string{"CustomData": "Please review."},
		RunOrder:      I32(order),
	}
}

// Lambda returns a Lambda invoke action with the given UserParameters.
func Lambda(name string, order int32, params string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:          name,
		ActionTypeId:  TypeOf("Invoke", "AWS", "Lambda"),
		Configuration: map[string]string{"FunctionName": "notify", "UserParameters": params},
		RunOrder:      I32(order),
	}
}

// Commands returns a Commands action running "make lint" on the artifact
// in.
func Commands(name string, order int32, in string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:           name,
		ActionTypeId:   TypeOf("Compute", "AWS", "Commands"),
		Commands:       []string{"make lint"},
		InputArtifacts: Inputs(in),
		RunOrder:       I32(order),
	}
}

// Approvals returns approval actions named prefix01, prefix02, ... with
// the given runOrders.
func Approvals(prefix string, orders ...int32) []cpapi.ActionDeclaration {
	out := make([]cpapi.ActionDeclaration, len(orders))
	for i, o := range orders {
		out[i] = Approval(fmt.Sprintf("%s%02d", prefix, i+1), o)
	}
	return out
}

// ValidBase returns a fresh, valid three-stage V1 pipeline:
// Source (S3, namespace SourceVariables) -> Build (Build at runOrder 1,
// Test at runOrder 2) -> Deploy (CodeDeploy).
func ValidBase() *cpapi.PipelineDeclaration {
	src := S3Source("Source", "SourceOut")
	src.Namespace = "SourceVariables"
	build := CodeBuild("Build", "Build", 1, []string{"SourceOut"}, []string{"BuildOut"})
	build.Configuration["EnvironmentVariables"] =
		`[{"name":"VERSION","value":"#{SourceVariables.VersionId}","type":"PLAINTEXT"}]`
	return &cpapi.PipelineDeclaration{
		Name:          "MyPipeline",
		RoleArn:       RoleArn,
		ArtifactStore: &cpapi.ArtifactStore{Type: "S3", Location: "codepipeline-us-east-1-1234567890"},
		Stages: []cpapi.StageDeclaration{
			{Name: "Source", Actions: []cpapi.ActionDeclaration{src}},
			{Name: "Build", Actions: []cpapi.ActionDeclaration{
				build,
				CodeBuild("Test", "Test", 2, []string{"BuildOut"}, nil),
			}},
			{Name: "Deploy", Actions: []cpapi.ActionDeclaration{CodeDeploy("Deploy", 1, "BuildOut")}},
		},
		Version: I32(1),
	}
}

// ValidV2 returns a fresh, valid V2 pipeline: a CodeStarSourceConnection
// source with a trigger, QUEUED mode, a pipeline variable used by the Build
// action, and a Commands action.
func ValidV2() *cpapi.PipelineDeclaration {
	p := ValidBase()
	p.PipelineType = "V2"
	p.ExecutionMode = "QUEUED"
	p.Variables = []cpapi.PipelineVariableDeclaration{{Name: "Env", DefaultValue: "dev", Description: "target"}}
	src := CodeStarSource("Source", "SourceOut")
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
	p.Stages[1].Actions = append(p.Stages[1].Actions, Commands("Lint", 1, "SourceOut"))
	return p
}

// CustomBuildType is the custom build action type of the guide's examples
// (reference/codepipeline.md §5.2), with a secret property added.
func CustomBuildType() cpapi.ActionType {
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

// QueueTesterType is a custom test action type with a queryable property
// and a Number property.
func QueueTesterType() cpapi.ActionType {
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

// CustomTypes returns the custom action types the fixtures use:
// CustomBuildType and QueueTesterType.
func CustomTypes() []cpapi.ActionType {
	return []cpapi.ActionType{CustomBuildType(), QueueTesterType()}
}

// Catalog returns the built-in action types plus CustomTypes.
func Catalog() *pipeline.Catalog {
	return pipeline.NewCatalog(CustomTypes())
}

// CustomBuild returns an action of CustomBuildType.
func CustomBuild(name string, order int32, in, out string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:            name,
		ActionTypeId:    &cpapi.ActionTypeId{Category: "Build", Owner: "Custom", Provider: "My-Build-Provider-Name", Version: "1"},
		Configuration:   map[string]string{"ProjectName": "MyBuildProject"},
		InputArtifacts:  Inputs(in),
		OutputArtifacts: Outputs(out),
		RunOrder:        I32(order),
	}
}

// QueueTester returns an action of QueueTesterType.
func QueueTester(name string, order int32, in string) cpapi.ActionDeclaration {
	return cpapi.ActionDeclaration{
		Name:           name,
		ActionTypeId:   &cpapi.ActionTypeId{Category: "Test", Owner: "Custom", Provider: "QueueTester", Version: "1"},
		Configuration:  map[string]string{"QueueName": "smoke_tests"},
		InputArtifacts: Inputs(in),
		RunOrder:       I32(order),
	}
}

// EastStore returns an S3 artifact store in us-east-1.
func EastStore() cpapi.ArtifactStore {
	return cpapi.ArtifactStore{Type: "S3", Location: "codepipeline-us-east-1-1234567890"}
}

// Property flags for prop.
const (
	required = 1 << iota
	key
	secret
	queryable
)

const (
	typeString = cpapi.ActionConfigurationPropertyTypeString
	typeNumber = cpapi.ActionConfigurationPropertyTypeNumber
)

func prop(name string, flags int, typ, description string) cpapi.ActionConfigurationProperty {
	return cpapi.ActionConfigurationProperty{
		Name:        name,
		Required:    boolPtr(flags&required != 0),
		Key:         boolPtr(flags&key != 0),
		Secret:      boolPtr(flags&secret != 0),
		Queryable:   boolPtr(flags&queryable != 0),
		Description: description,
		Type:        typ,
	}
}

func counts(minimum, maximum int32) *cpapi.ArtifactDetails {
	return &cpapi.ArtifactDetails{MinimumCount: &minimum, MaximumCount: &maximum}
}

func boolPtr(b bool) *bool { return &b }
