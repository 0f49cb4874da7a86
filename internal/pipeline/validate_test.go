package pipeline

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
)

// invalidCase breaks one rule of a valid pipeline.
type invalidCase struct {
	name string
	// base returns the valid pipeline to mutate; nil means validBase.
	base   func() *cpapi.PipelineDeclaration
	lim    Limits
	mutate func(t *testing.T, p *cpapi.PipelineDeclaration)
	code   string
	msg    string
	// modelInvalid marks cases the model validation also rejects; Validate
	// must still report them (it is robust to unvalidated input).
	modelInvalid bool
}

const (
	codeStructure = cpapi.InvalidStructureException
	codeStage     = cpapi.InvalidStageDeclarationException
	codeAction    = cpapi.InvalidActionDeclarationException
	codeBlocker   = cpapi.InvalidBlockerDeclarationException
	codeInvalid   = cpapi.ValidationException
)

func invalidCases() []invalidCase {
	var cases []invalidCase
	cases = append(cases, pipelineCases()...)
	cases = append(cases, stageCases()...)
	cases = append(cases, placementCases()...)
	cases = append(cases, actionTypeCases()...)
	cases = append(cases, artifactCases()...)
	cases = append(cases, configurationCases()...)
	cases = append(cases, variableCases()...)
	cases = append(cases, v2Cases()...)
	return cases
}

func eastStore() cpapi.ArtifactStore {
	return cpapi.ArtifactStore{Type: "S3", Location: "codepipeline-us-east-1-1234567890"}
}

func pipelineCases() []invalidCase {
	return []invalidCase{
		{
			name:   "one stage",
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) { p.Stages = p.Stages[:1] },
			code:   codeStructure, msg: `pipeline "MyPipeline" has 1 stage; a pipeline must contain at least 2 stages`,
		},
		{
			name: "eleven stages with the default limit",
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				for k := range 8 {
					p.Stages = append(p.Stages, cpapi.StageDeclaration{
						Name: fmt.Sprintf("Approve%d", k), Actions: []cpapi.ActionDeclaration{approval("Approve", 1)},
					})
				}
			},
			code: codeStructure, msg: `pipeline "MyPipeline" has 11 stages; at most 10 stages are allowed`,
		},
		{
			name: "more stages than a configured limit",
			lim:  Limits{MaxStages: 4},
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				for k := range 2 {
					p.Stages = append(p.Stages, cpapi.StageDeclaration{
						Name: fmt.Sprintf("Approve%d", k), Actions: []cpapi.ActionDeclaration{approval("Approve", 1)},
					})
				}
			},
			code: codeStructure, msg: `has 5 stages; at most 4 stages are allowed`,
		},
		{
			name:   "no artifact store",
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) { p.ArtifactStore = nil },
			code:   codeStructure, msg: `pipeline "MyPipeline" has no artifact store; set artifactStore`,
		},
		{
			name: "artifactStore and artifactStores",
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.ArtifactStores = map[string]cpapi.ArtifactStore{"us-east-1": eastStore()}
			},
			code: codeStructure, msg: `sets both artifactStore and artifactStores`,
		},
		{
			name: "artifactStores without the action's region",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				p.ArtifactStore = nil
				p.ArtifactStores = map[string]cpapi.ArtifactStore{"us-east-1": eastStore()}
				actionNamed(t, p, "Deploy", "Deploy").Region = "eu-west-1"
			},
			code: codeStructure, msg: `stage "Deploy": action "Deploy" runs in region "eu-west-1", but artifactStores has no entry`,
		},
		{
			name: "artifactStores without the pipeline's region",
			lim:  Limits{Region: "us-east-1"},
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.ArtifactStore = nil
				p.ArtifactStores = map[string]cpapi.ArtifactStore{"eu-west-1": eastStore()}
			},
			code: codeStructure, msg: `artifactStores has no entry for the pipeline's region "us-east-1"`,
		},
		{
			name: "cross-region action with a single artifactStore",
			lim:  Limits{Region: "us-east-1"},
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").Region = "eu-west-1"
			},
			code: codeStructure, msg: `stage "Deploy": action "Deploy" runs in region "eu-west-1", outside the pipeline's region "us-east-1"`,
		},
	}
}

func stageCases() []invalidCase {
	return []invalidCase{
		{
			name:   "duplicate stage names",
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) { p.Stages[2].Name = "Build" },
			code:   codeStage, msg: `stage "Build": stages 2 and 3 are both named "Build"`,
		},
		{
			name: "stage without actions",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				stageNamed(t, p, "Deploy").Actions = []cpapi.ActionDeclaration{}
			},
			code: codeStage, msg: `stage "Deploy": the stage has no actions`,
		},
		{
			name: "21 actions in a stage",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				orders := make([]int32, 21)
				for k := range orders {
					orders[k] = int32(k%5 + 1)
				}
				stageNamed(t, p, "Deploy").Actions = approvals("Approve", orders...)
			},
			code: codeStage, msg: `stage "Deploy": the stage has 21 actions; at most 20 are allowed`,
		},
		{
			name: "six parallel actions",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				stageNamed(t, p, "Deploy").Actions = approvals("Approve", 1, 1, 1, 1, 1, 1)
			},
			code: codeStage, msg: `stage "Deploy": 6 actions have runOrder 1; at most 5 actions may run in parallel`,
		},
		{
			name: "parallel actions over a configured limit",
			lim:  Limits{MaxParallelActions: 2},
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				stageNamed(t, p, "Deploy").Actions = approvals("Approve", 1, 3, 3, 3)
			},
			code: codeStage, msg: `stage "Deploy": 3 actions have runOrder 3; at most 2 actions may run in parallel`,
		},
		{
			name: "six sequential groups",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				stageNamed(t, p, "Deploy").Actions = approvals("Approve", 1, 2, 3, 4, 5, 6)
			},
			code: codeStage, msg: `stage "Deploy": the actions use 6 different runOrder values (1, 2, 3, 4, 5, 6); at most 5`,
		},
		{
			name: "duplicate blocker names",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				stageNamed(t, p, "Deploy").Blockers = []cpapi.BlockerDeclaration{
					{Name: "Window", Type: "Schedule"}, {Name: "Window", Type: "Schedule"},
				}
			},
			code: codeBlocker, msg: `stage "Deploy": blocker "Window" is declared more than once`,
		},
		{
			name: "blocker type other than Schedule",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				stageNamed(t, p, "Deploy").Blockers = []cpapi.BlockerDeclaration{{Name: "Window", Type: "Manual"}}
			},
			code: codeBlocker, msg: `stage "Deploy": blocker "Window" has type "Manual"; the only blocker type is "Schedule"`,
			modelInvalid: true,
		},
		{
			name: "action without actionTypeId",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").ActionTypeId = nil
			},
			code: codeAction, msg: `stage "Deploy": action "Deploy" has no actionTypeId`,
			modelInvalid: true,
		},
		{
			name: "ROLLBACK on the first stage",
			base: validV2,
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				stageNamed(t, p, "Source").OnFailure = &cpapi.FailureConditions{Result: "ROLLBACK"}
			},
			code: codeStage, msg: `stage "Source": onFailure has result ROLLBACK, but the first stage cannot be rolled back`,
		},
		{
			name: "ROLLBACK in PARALLEL mode",
			base: validV2,
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				p.ExecutionMode = "PARALLEL"
				stageNamed(t, p, "Deploy").OnFailure = &cpapi.FailureConditions{Result: "ROLLBACK"}
			},
			code: codeStage, msg: `stage "Deploy": onFailure has result ROLLBACK, which pipelines in PARALLEL execution mode do not support`,
		},
	}
}

func placementCases() []invalidCase {
	return []invalidCase{
		{
			name: "first stage without a source action",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				stageNamed(t, p, "Source").Actions = []cpapi.ActionDeclaration{approval("Approve", 1)}
			},
			code: codeStructure, msg: `stage "Source": the first stage must contain at least one source action`,
		},
		{
			name: "build action in the first stage",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				s := stageNamed(t, p, "Source")
				s.Actions = append(s.Actions, codeBuild("Build", "EarlyBuild", 2, []string{"SourceOut"}, nil))
			},
			code: codeStructure, msg: `stage "Source": action "EarlyBuild" is a Build action; the first stage can only contain source actions`,
		},
		{
			name: "approval action in the first stage",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				s := stageNamed(t, p, "Source")
				s.Actions = append(s.Actions, approval("Approve", 2))
			},
			code: codeStructure, msg: `stage "Source": action "Approve" is an approval action, which cannot be added to the first stage`,
		},
		{
			name: "source action outside the first stage",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				s := stageNamed(t, p, "Build")
				s.Actions = append(s.Actions, codeCommitSource("Second", "SecondOut"))
			},
			code: codeStructure, msg: `stage "Build": action "Second" is a source action; only the first stage may contain source actions`,
		},
		{
			name: "only source actions",
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.Stages = []cpapi.StageDeclaration{
					p.Stages[0],
					{Name: "More", Actions: []cpapi.ActionDeclaration{codeCommitSource("Other", "OtherOut")}},
				}
			},
			code: codeStructure, msg: `pipeline "MyPipeline" contains only source actions`,
		},
	}
}

func actionTypeCases() []invalidCase {
	return []invalidCase{
		{
			name:   "duplicate action names in a stage",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) { actionNamed(t, p, "Build", "Test").Name = "Build" },
			code:   codeAction, msg: `stage "Build": action "Build" is declared more than once in the stage`,
		},
		{
			name: "unknown provider",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Build").ActionTypeId.Provider = "CodeBuld"
			},
			code: codeAction,
			msg:  `stage "Build": action "Build" uses action type Build/AWS/CodeBuld version "1", which does not exist; providers of Build actions with owner AWS: CodeBuild`,
		},
		{
			name: "built-in type with version 2",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Build").ActionTypeId.Version = "2"
			},
			code: codeAction, msg: `action "Build" uses action type Build/AWS/CodeBuild version "2", which does not exist; available versions of Build/AWS/CodeBuild: "1"`,
		},
		{
			name: "owner other than AWS, ThirdParty or Custom",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").ActionTypeId.Owner = "Amazon"
			},
			code: codeAction, msg: `stage "Deploy": action "Deploy" has owner "Amazon"; the owner must be AWS, ThirdParty or Custom`,
			modelInvalid: true,
		},
		{
			name: "provider of another category",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").ActionTypeId.Provider = "CodeBuild"
			},
			code: codeAction, msg: `uses action type Deploy/AWS/CodeBuild version "1", which does not exist; providers of Deploy actions with owner AWS: CodeDeploy, S3`,
		},
		{
			name: "third-party provider that does not exist",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Source", "Source").ActionTypeId.Owner = "ThirdParty"
			},
			code: codeAction, msg: `stage "Source": action "Source" uses action type Source/ThirdParty/S3 version "1", which does not exist; providers of Source actions with owner ThirdParty: GitHub`,
		},
		{
			name: "custom type that is not registered",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Build").ActionTypeId = &cpapi.ActionTypeId{
					Category: "Build", Owner: "Custom", Provider: "Unknown-Provider", Version: "1",
				}
			},
			code: codeAction, msg: `uses the custom action type Build/Custom/Unknown-Provider version "1", which is not registered; create it with CreateCustomActionType`,
		},
		{
			name: "Commands action without commands",
			base: validV2,
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Lint").Commands = nil
			},
			code: codeAction, msg: `stage "Build": action "Lint" is a Commands action but has no commands`,
		},
		{
			name: "commands on a CodeBuild action",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Build").Commands = []string{"make"}
			},
			code: codeAction, msg: `stage "Build": action "Build" has "commands", which only Compute/AWS/Commands actions accept`,
		},
	}
}

func artifactCases() []invalidCase {
	return []invalidCase{
		{
			name: "CodeDeploy without an input artifact",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").InputArtifacts = nil
			},
			code: codeAction, msg: `stage "Deploy": action "Deploy" has 0 input artifacts, but action type Deploy/AWS/CodeDeploy version "1" accepts exactly 1`,
		},
		{
			name: "CodeDeploy with two input artifacts",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").InputArtifacts = inputs("BuildOut", "SourceOut")
			},
			code: codeAction, msg: `action "Deploy" has 2 input artifacts, but action type Deploy/AWS/CodeDeploy version "1" accepts exactly 1`,
		},
		{
			name: "CodeDeploy with an output artifact",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").OutputArtifacts = outputs("DeployOut")
			},
			code: codeAction, msg: `action "Deploy" has 1 output artifact, but action type Deploy/AWS/CodeDeploy version "1" accepts none`,
		},
		{
			name: "source without an output artifact",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Source", "Source").OutputArtifacts = nil
			},
			code: codeAction, msg: `stage "Source": action "Source" has 0 output artifacts, but action type Source/AWS/S3 version "1" accepts exactly 1`,
		},
		{
			name: "CodeBuild with six input artifacts",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Build").InputArtifacts = inputs("A", "B", "C", "D", "E", "F")
			},
			code: codeAction, msg: `action "Build" has 6 input artifacts, but action type Build/AWS/CodeBuild version "1" accepts 1 to 5`,
		},
		{
			name: "approval with an input artifact",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				a := approval("Approve", 1)
				a.InputArtifacts = inputs("BuildOut")
				s := stageNamed(t, p, "Deploy")
				s.Actions = append(s.Actions, a)
			},
			code: codeAction, msg: `stage "Deploy": action "Approve" has 1 input artifact, but action type Approval/AWS/Manual version "1" accepts none`,
		},
		{
			name: "Lambda with six output artifacts",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				a := lambda("Notify", 1, "hello")
				a.OutputArtifacts = outputs("N1", "N2", "N3", "N4", "N5", "N6")
				s := stageNamed(t, p, "Deploy")
				s.Actions = append(s.Actions, a)
			},
			code: codeAction, msg: `action "Notify" has 6 output artifacts, but action type Invoke/AWS/Lambda version "1" accepts at most 5`,
		},
		{
			name: "Commands with two output artifacts",
			base: validV2,
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Lint").OutputArtifacts = outputs("LintA", "LintB")
			},
			code: codeAction, msg: `action "Lint" has 2 output artifacts, but action type Compute/AWS/Commands version "1" accepts at most 1`,
		},
		{
			name: "output artifact name used twice in the pipeline",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Test").OutputArtifacts = outputs("SourceOut")
			},
			code: codeStructure, msg: `stage "Build": action "Test" has output artifact "SourceOut", which action "Source" in stage "Source" already produces`,
		},
		{
			name: "output artifact listed twice by one action",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Build").OutputArtifacts = outputs("BuildOut", "BuildOut")
			},
			code: codeStructure, msg: `stage "Build": action "Build" lists output artifact "BuildOut" twice`,
		},
		{
			name: "input artifact nobody produces",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").InputArtifacts = inputs("Missing")
			},
			code: codeStructure, msg: `stage "Deploy": action "Deploy" input artifact "Missing" is not produced by any earlier action; list it in the outputArtifacts of an action that runs before it`,
		},
		{
			name:   "input artifact of a parallel action",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) { actionNamed(t, p, "Build", "Test").RunOrder = i32(1) },
			code:   codeStructure, msg: `stage "Build": action "Test" input artifact "BuildOut" is produced by action "Build", which runs in parallel with it (both have runOrder 1)`,
		},
		{
			name: "input artifact of a later action in the stage",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				test := actionNamed(t, p, "Build", "Test")
				test.OutputArtifacts = outputs("TestOut")
				build := actionNamed(t, p, "Build", "Build")
				build.InputArtifacts = inputs("SourceOut", "TestOut")
				build.Configuration["PrimarySource"] = "SourceOut"
			},
			code: codeStructure, msg: `stage "Build": action "Build" input artifact "TestOut" is produced by action "Test" in stage "Build", which runs after it`,
		},
		{
			name: "input artifact of a later stage",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				notify := lambda("Notify", 1, "hello")
				notify.OutputArtifacts = outputs("NotifyOut")
				s := stageNamed(t, p, "Deploy")
				s.Actions = append(s.Actions, notify)
				test := actionNamed(t, p, "Build", "Test")
				test.InputArtifacts = inputs("BuildOut", "NotifyOut")
				test.Configuration["PrimarySource"] = "BuildOut"
			},
			code: codeStructure, msg: `stage "Build": action "Test" input artifact "NotifyOut" is produced by action "Notify" in stage "Deploy", which runs after it`,
		},
		{
			name: "input artifact of the action itself",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				test := actionNamed(t, p, "Build", "Test")
				test.InputArtifacts = inputs("BuildOut", "TestOut")
				test.OutputArtifacts = outputs("TestOut")
				test.Configuration["PrimarySource"] = "BuildOut"
			},
			code: codeStructure, msg: `stage "Build": action "Test" input artifact "TestOut" is its own output artifact`,
		},
	}
}

func configurationCases() []invalidCase {
	return []invalidCase{
		{
			name: "missing required configuration key",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				delete(actionNamed(t, p, "Source", "Source").Configuration, "S3ObjectKey")
			},
			code: codeAction, msg: `stage "Source": action "Source" is missing the required configuration key "S3ObjectKey" of action type Source/AWS/S3 version "1"`,
		},
		{
			name: "required configuration key with an empty value",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Test").Configuration["ProjectName"] = ""
			},
			code: codeAction, msg: `stage "Build": action "Test" is missing the required configuration key "ProjectName"`,
		},
		{
			name: "GitHub source without OAuthToken",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				a := actionNamed(t, p, "Source", "Source")
				a.ActionTypeId = typeOf("Source", "ThirdParty", "GitHub")
				a.Configuration = map[string]string{"Owner": "o", "Repo": "r", "Branch": "main"}
			},
			code: codeAction, msg: `action "Source" is missing the required configuration key "OAuthToken" of action type Source/ThirdParty/GitHub version "1"`,
		},
		{
			name: "configuration key a built-in type does not define",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").Configuration["Foo"] = "bar"
			},
			code: codeAction, msg: `stage "Deploy": action "Deploy" has the configuration key "Foo", which action type Deploy/AWS/CodeDeploy version "1" does not define; remove it (valid keys: ApplicationName, DeploymentGroupName)`,
		},
		{
			name: "configuration key a custom type does not define",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				a := customBuild("Custom", 3, "SourceOut", "CustomOut")
				a.Configuration["Branch"] = "main"
				s := stageNamed(t, p, "Build")
				s.Actions = append(s.Actions, a)
			},
			code: codeAction, msg: `action "Custom" has the configuration key "Branch", which action type Build/Custom/My-Build-Provider-Name version "1" does not define; remove it (valid keys: ProjectName, ApiToken)`,
		},
		{
			name: "configuration on a Commands action",
			base: validV2,
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Lint").Configuration = map[string]string{"ProjectName": "x"}
			},
			code: codeAction, msg: `action "Lint" has the configuration key "ProjectName", which action type Compute/AWS/Commands version "1" does not define; remove it (this action type takes no configuration)`,
		},
		{
			name: "Boolean property with another value",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Source", "Source").Configuration["PollForSourceChanges"] = "yes"
			},
			code: codeAction, msg: `stage "Source": action "Source" has configuration "PollForSourceChanges", which must be a Boolean; use true or false`,
		},
		{
			name: "Number property with another value",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				a := queueTester("Queue", 3, "BuildOut")
				a.Configuration["Retries"] = "three"
				s := stageNamed(t, p, "Build")
				s.Actions = append(s.Actions, a)
			},
			code: codeAction, msg: `action "Queue" has configuration "Retries", which must be a Number`,
		},
		{
			name: "queryable property value with spaces",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				a := queueTester("Queue", 3, "BuildOut")
				a.Configuration["QueueName"] = "smoke tests"
				s := stageNamed(t, p, "Build")
				s.Actions = append(s.Actions, a)
			},
			code: codeAction, msg: `action "Queue" has configuration "QueueName", a queryable property, whose value is not 1 to 20 letters`,
		},
		{
			name: "S3 deploy without ObjectKey when not extracting",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				a := actionNamed(t, p, "Deploy", "Deploy")
				a.ActionTypeId = typeOf("Deploy", "AWS", "S3")
				a.Configuration = map[string]string{"BucketName": "site", "Extract": "false"}
			},
			code: codeAction, msg: `stage "Deploy": action "Deploy" has "Extract": "false" but no "ObjectKey"`,
		},
		{
			name: "CodeBuild with two inputs and no PrimarySource",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Test").InputArtifacts = inputs("BuildOut", "SourceOut")
			},
			code: codeAction, msg: `stage "Build": action "Test" has 2 input artifacts but no PrimarySource configuration`,
		},
		{
			name: "CodeBuild PrimarySource that is not an input",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Build").Configuration["PrimarySource"] = "Other"
			},
			code: codeAction, msg: `action "Build" has PrimarySource "Other", which is not one of its input artifacts ("SourceOut")`,
		},
	}
}

func variableCases() []invalidCase {
	return []invalidCase{
		{
			name: "duplicate namespaces",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Test").Namespace = "SourceVariables"
			},
			code: codeAction, msg: `stage "Build": action "Test" has namespace "SourceVariables", which action "Source" in stage "Source" already uses`,
		},
		{
			name: "reserved namespace",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Test").Namespace = "codepipeline"
			},
			code: codeAction, msg: `action "Test" has the reserved namespace "codepipeline"`,
		},
		{
			name: "reference to a namespace no action declares",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").Configuration["ApplicationName"] = "app-#{BuildVariables.Suffix}"
			},
			code: codeAction, msg: `stage "Deploy": action "Deploy" has configuration "ApplicationName" referring to namespace "BuildVariables", which no action declares`,
		},
		{
			name: "reference to the namespace of a later action",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Build", "Test").Namespace = "TestVariables"
				actionNamed(t, p, "Build", "Build").Configuration["EnvironmentVariables"] =
					`[{"name":"X","value":"#{TestVariables.Result}"}]`
			},
			code: codeAction, msg: `action "Build" has configuration "EnvironmentVariables" referring to namespace "TestVariables" of action "Test" in stage "Build", which does not run before it`,
		},
		{
			name: "reference to the namespace of a parallel action",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				first := lambda("Notify1", 1, "hello")
				first.Namespace = "N1"
				second := lambda("Notify2", 1, "#{N1.MessageId}")
				s := stageNamed(t, p, "Deploy")
				s.Actions = append(s.Actions, first, second)
			},
			code: codeAction, msg: `stage "Deploy": action "Notify2" has configuration "UserParameters" referring to namespace "N1" of action "Notify1" in stage "Deploy", which does not run before it`,
		},
		{
			name: "reference to the action's own namespace",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				a := actionNamed(t, p, "Build", "Test")
				a.Namespace = "TestVariables"
				a.Configuration["EnvironmentVariables"] = `[{"name":"X","value":"#{TestVariables.Result}"}]`
			},
			code: codeAction, msg: `action "Test" has configuration "EnvironmentVariables" referring to its own namespace "TestVariables"`,
		},
		{
			name: "reference to an undeclared pipeline variable",
			base: validV2,
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").Configuration["DeploymentGroupName"] = "#{variables.Missing}"
			},
			code: codeAction, msg: `stage "Deploy": action "Deploy" has configuration "DeploymentGroupName" referring to the pipeline variable "Missing", which is not declared`,
		},
		{
			name: "reference to an unknown codepipeline variable",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").Configuration["DeploymentGroupName"] = "#{codepipeline.ExecutionId}"
			},
			code: codeAction, msg: `has configuration "DeploymentGroupName" referring to #{codepipeline.ExecutionId}; the only codepipeline variable is #{codepipeline.PipelineExecutionId}`,
		},
		{
			name: "malformed variable reference",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				actionNamed(t, p, "Deploy", "Deploy").Configuration["DeploymentGroupName"] = "#{SourceVariables}"
			},
			code: codeAction, msg: `action "Deploy" has configuration "DeploymentGroupName" with the malformed variable reference "#{SourceVariables}"`,
		},
	}
}

func v2Cases() []invalidCase {
	return []invalidCase{
		{
			name: "pipeline variables on a V1 pipeline",
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.PipelineType = "V1"
				p.Variables = []cpapi.PipelineVariableDeclaration{{Name: "Env"}}
			},
			code: codeInvalid, msg: `pipeline "MyPipeline" has pipelineType V1 but uses pipeline variables, which only V2 pipelines support`,
		},
		{
			name: "triggers on a V1 pipeline",
			base: validV2,
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.PipelineType, p.ExecutionMode, p.Variables = "V1", "", nil
			},
			code: codeInvalid, msg: `has pipelineType V1 but uses triggers, which only V2 pipelines support; set "pipelineType": "V2"`,
		},
		{
			name: "QUEUED mode on a V1 pipeline",
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.PipelineType, p.ExecutionMode = "V1", "QUEUED"
			},
			code: codeInvalid, msg: `has pipelineType V1 but uses executionMode QUEUED`,
		},
		{
			name: "stage conditions on a V1 pipeline",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				p.PipelineType = "V1"
				stageNamed(t, p, "Deploy").OnFailure = &cpapi.FailureConditions{
					Result: "RETRY", RetryConfiguration: &cpapi.RetryConfiguration{RetryMode: "FAILED_ACTIONS"},
				}
			},
			code: codeInvalid, msg: `has pipelineType V1 but uses stage "Deploy" onFailure conditions`,
		},
		{
			name: "Commands action on a V1 pipeline",
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				p.PipelineType = "V1"
				s := stageNamed(t, p, "Build")
				s.Actions = append(s.Actions, commands("Lint", 1, "SourceOut"))
			},
			code: codeInvalid, msg: `has pipelineType V1 but uses stage "Build" action "Lint" of type Compute/AWS/Commands`,
		},
		{
			name: "duplicate pipeline variables",
			base: validV2,
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.Variables = append(p.Variables, cpapi.PipelineVariableDeclaration{Name: "Env"})
			},
			code: codeInvalid, msg: `declares the pipeline variable "Env" more than once in variables`,
		},
		{
			name: "more triggers than the limit",
			base: validV2,
			lim:  Limits{MaxTriggers: 1},
			mutate: func(t *testing.T, p *cpapi.PipelineDeclaration) {
				s := stageNamed(t, p, "Source")
				s.Actions = append(s.Actions, codeStarSource("Source2", "Source2Out"))
				trigger := p.Triggers[0]
				trigger.GitConfiguration = &cpapi.GitConfiguration{SourceActionName: "Source2"}
				p.Triggers = append(p.Triggers, trigger)
			},
			code: codeInvalid, msg: `pipeline "MyPipeline" has 2 triggers; the maximum is 1`,
		},
		{
			name: "trigger naming no action",
			base: validV2,
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.Triggers[0].GitConfiguration.SourceActionName = "Nope"
			},
			code: codeStructure, msg: `triggers[0].gitConfiguration.sourceActionName "Nope" names no action of the pipeline`,
		},
		{
			name: "trigger naming a build action",
			base: validV2,
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.Triggers[0].GitConfiguration.SourceActionName = "Build"
			},
			code: codeStructure, msg: `triggers[0].gitConfiguration.sourceActionName "Build" names a Build action, not a source action`,
		},
		{
			name: "trigger naming an S3 source action",
			base: validV2,
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				src := s3Source("Source", "SourceOut")
				src.Namespace = "SourceVariables"
				p.Stages[0].Actions[0] = src
				p.Stages[1].Actions[0].Configuration["EnvironmentVariables"] = "#{variables.Env}"
			},
			code: codeStructure, msg: `triggers[0].gitConfiguration.sourceActionName "Source" names a source action with provider "S3"; triggers only work with CodeStarSourceConnection source actions`,
		},
		{
			name: "two triggers for one source action",
			base: validV2,
			mutate: func(_ *testing.T, p *cpapi.PipelineDeclaration) {
				p.Triggers = append(p.Triggers, p.Triggers[0])
			},
			code: codeStructure, msg: `triggers[0] and triggers[1] both name the source action "Source"`,
		},
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	cases := invalidCases()
	if len(cases) < 45 {
		t.Fatalf("only %d invalid cases", len(cases))
	}
	seen := make(map[string]bool)
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := tc.base
			if base == nil {
				base = validBase
			}
			p := base()
			tc.mutate(t, p)
			if err := p.Validate(); (err == nil) == tc.modelInvalid {
				t.Fatalf("model validation: got %v, want failure %v", err, tc.modelInvalid)
			}
			e := asAPIError(t, Validate(p, testCatalog(), tc.lim))
			if e.Code != tc.code {
				t.Errorf("code = %s, want %s (message %q)", e.Code, tc.code, e.Message)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message = %q\nwant it to contain %q", e.Message, tc.msg)
			}
			again := asAPIError(t, Validate(p, testCatalog(), tc.lim))
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
	lim  Limits
} {
	sample := func() *cpapi.PipelineDeclaration { return decodePipeline(t, samplePipeline) }

	withProduction := sample()
	withProduction.Stages = append(withProduction.Stages, decodeStage(t, productionStage))

	gitHub := sample()
	gitHub.Stages[0] = decodeStage(t, gitHubSourceStage)

	custom := sample()
	custom.Stages = []cpapi.StageDeclaration{
		custom.Stages[0],
		{Name: "MyBuildStage", Actions: []cpapi.ActionDeclaration{customBuild("MyBuildCustomAction", 1, "MyApp", "MyBuiltApp")}},
		custom.Stages[1],
	}
	custom.Stages[2].Actions[0].InputArtifacts = inputs("MyBuiltApp")
	custom.Stages[1].Actions[0].Configuration["JobList"] = "job-1"

	parallel := validBase()
	parallel.Stages[2].Actions = []cpapi.ActionDeclaration{
		approval("Approve", 1), codeDeploy("DeployA", 2, "BuildOut"), codeDeploy("DeployB", 2, "BuildOut"),
	}

	gaps := validBase()
	gaps.Stages[1].Actions[1].RunOrder = i32(3)

	longPipeline := validBase()
	for k := range 8 {
		longPipeline.Stages = append(longPipeline.Stages, cpapi.StageDeclaration{
			Name: fmt.Sprintf("Approve%d", k), Actions: []cpapi.ActionDeclaration{approval("Approve", 1)},
		})
	}

	inferredV2 := validV2()
	inferredV2.PipelineType = ""

	crossRegion := validBase()
	crossRegion.ArtifactStore = nil
	crossRegion.ArtifactStores = map[string]cpapi.ArtifactStore{
		"us-east-1": eastStore(),
		"eu-west-1": {Type: "S3", Location: "codepipeline-eu-west-1-1234567890"},
	}
	crossRegion.Stages[2].Actions[0].Region = "eu-west-1"

	kms := validBase()
	kms.ArtifactStore.EncryptionKey = &cpapi.EncryptionKey{
		Id: "arn:aws:kms:us-east-1:123456789012:key/2222222-3333333-4444-556677EXAMPLE", Type: "KMS",
	}

	references := validV2()
	build := &references.Stages[1].Actions[0]
	build.Namespace = "BuildVariables"
	test := &references.Stages[1].Actions[1]
	test.Configuration["EnvironmentVariables"] = `[{"name":"IMAGE","value":"#{BuildVariables.Image}"},` +
		`{"name":"RUN","value":"#{codepipeline.PipelineExecutionId}"}]`
	references.Variables = append(references.Variables, cpapi.PipelineVariableDeclaration{Name: "Poll"})
	references.Stages[0].Actions[0].Configuration["DetectChanges"] = "#{variables.Poll}"

	s3Deploy := validBase()
	s3Deploy.Stages[2].Actions[0].ActionTypeId = typeOf("Deploy", "AWS", "S3")
	s3Deploy.Stages[2].Actions[0].Configuration = map[string]string{"BucketName": "site", "Extract": "true"}

	normalized := validV2()
	for i := range normalized.Stages {
		for j := range normalized.Stages[i].Actions {
			normalized.Stages[i].Actions[j].RunOrder = nil
		}
	}
	normalized.Stages[1].Actions[1].RunOrder = i32(2)
	Normalize(normalized)

	return []struct {
		name string
		p    *cpapi.PipelineDeclaration
		lim  Limits
	}{
		{"base", validBase(), Limits{}},
		{"V2 with variables, triggers, QUEUED and Commands", validV2(), Limits{}},
		{"user guide sample pipeline", sample(), Limits{}},
		{"sample with approval and deploy stage", withProduction, Limits{}},
		{"GitHub source with masked token", gitHub, Limits{}},
		{"custom build action", custom, Limits{}},
		{"parallel groups 1, 2, 2", parallel, Limits{}},
		{"runOrder gaps 1, 3", gaps, Limits{}},
		{"eleven stages with a raised limit", longPipeline, Limits{MaxStages: 50}},
		{"V2 features without pipelineType", inferredV2, Limits{}},
		{"cross-region action with artifactStores", crossRegion, Limits{Region: "us-east-1"}},
		{"artifact store with a KMS key", kms, Limits{Region: "us-east-1"}},
		{"variable references", references, Limits{}},
		{"S3 deploy extracting", s3Deploy, Limits{}},
		{"normalized V2 pipeline", normalized, Limits{}},
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
			if err := Validate(tc.p, testCatalog(), tc.lim); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	t.Parallel()
	p := validV2()
	p.Stages[1].Actions[0].RunOrder = nil
	p.PipelineType = ""
	before := deepCopy(p)
	if err := Validate(p, nil, Limits{}); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !reflect.DeepEqual(before, p) {
		t.Fatal("Validate modified the declaration")
	}
}

func TestValidateNil(t *testing.T) {
	t.Parallel()
	e := asAPIError(t, Validate(nil, nil, Limits{}))
	if e.Code != cpapi.ValidationException {
		t.Fatalf("code = %s", e.Code)
	}
}

func TestDefaultLimits(t *testing.T) {
	t.Parallel()
	want := Limits{MaxStages: 10, MaxActionsPerStage: 20, MaxParallelActions: 5, MaxSequentialActions: 5, MaxTriggers: 50}
	if got := DefaultLimits(); got != want {
		t.Fatalf("DefaultLimits() = %+v, want %+v", got, want)
	}
	if got := (Limits{MaxStages: 50, MaxTriggers: -1}).withDefaults(); got.MaxStages != 50 || got.MaxTriggers != 50 {
		t.Fatalf("withDefaults = %+v", got)
	}
}
