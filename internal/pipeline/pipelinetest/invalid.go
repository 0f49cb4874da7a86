package pipelinetest

import (
	"fmt"
	"testing"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
)

// InvalidCase breaks one rule of a valid pipeline.
type InvalidCase struct {
	// Name describes the broken rule; it is unique within InvalidCases.
	Name string
	// Base returns the valid pipeline to mutate; nil means ValidBase.
	Base func() *cpapi.PipelineDeclaration
	// Limits are the limits to validate with; the zero value means the
	// defaults (pipeline.DefaultLimits, no region).
	Limits pipeline.Limits
	// Mutate breaks the rule in p, a fresh copy of Base's pipeline.
	Mutate func(t testing.TB, p *cpapi.PipelineDeclaration)
	// Code is the exception code pipeline.Validate reports, and Msg a
	// substring of its message.
	Code, Msg string
	// ModelInvalid marks cases the model validation also rejects; Validate
	// must still report them (it is robust to unvalidated input), and a
	// server, which runs the model validation first, answers
	// ValidationException instead.
	ModelInvalid bool
}

// Pipeline returns the case's broken pipeline: a fresh Base (ValidBase when
// Base is nil) with Mutate applied.
func (c InvalidCase) Pipeline(t testing.TB) *cpapi.PipelineDeclaration {
	t.Helper()
	base := c.Base
	if base == nil {
		base = ValidBase
	}
	p := base()
	c.Mutate(t, p)
	return p
}

const (
	codeStructure = cpapi.InvalidStructureException
	codeStage     = cpapi.InvalidStageDeclarationException
	codeAction    = cpapi.InvalidActionDeclarationException
	codeBlocker   = cpapi.InvalidBlockerDeclarationException
	codeInvalid   = cpapi.ValidationException
)

// InvalidCases returns the table of invalid pipelines, each breaking one
// rule of a valid pipeline. It returns fresh values on every call. The
// custom action types some cases use are those of CustomTypes.
func InvalidCases() []InvalidCase {
	var cases []InvalidCase
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

func pipelineCases() []InvalidCase {
	return []InvalidCase{
		{
			Name:   "one stage",
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) { p.Stages = p.Stages[:1] },
			Code:   codeStructure, Msg: `pipeline "MyPipeline" has 1 stage; a pipeline must contain at least 2 stages`,
		},
		{
			Name: "eleven stages with the default limit",
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				for k := range 8 {
					p.Stages = append(p.Stages, cpapi.StageDeclaration{
						Name: fmt.Sprintf("Approve%d", k), Actions: []cpapi.ActionDeclaration{Approval("Approve", 1)},
					})
				}
			},
			Code: codeStructure, Msg: `pipeline "MyPipeline" has 11 stages; at most 10 stages are allowed`,
		},
		{
			Name:   "more stages than a configured limit",
			Limits: pipeline.Limits{MaxStages: 4},
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				for k := range 2 {
					p.Stages = append(p.Stages, cpapi.StageDeclaration{
						Name: fmt.Sprintf("Approve%d", k), Actions: []cpapi.ActionDeclaration{Approval("Approve", 1)},
					})
				}
			},
			Code: codeStructure, Msg: `has 5 stages; at most 4 stages are allowed`,
		},
		{
			Name:   "no artifact store",
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) { p.ArtifactStore = nil },
			Code:   codeStructure, Msg: `pipeline "MyPipeline" has no artifact store; set artifactStore`,
		},
		{
			Name: "artifactStore and artifactStores",
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.ArtifactStores = map[string]cpapi.ArtifactStore{"us-east-1": EastStore()}
			},
			Code: codeStructure, Msg: `sets both artifactStore and artifactStores`,
		},
		{
			Name: "artifactStores without the action's region",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				p.ArtifactStore = nil
				p.ArtifactStores = map[string]cpapi.ArtifactStore{"us-east-1": EastStore()}
				ActionNamed(t, p, "Deploy", "Deploy").Region = "eu-west-1"
			},
			Code: codeStructure, Msg: `stage "Deploy": action "Deploy" runs in region "eu-west-1", but artifactStores has no entry`,
		},
		{
			Name:   "artifactStores without the pipeline's region",
			Limits: pipeline.Limits{Region: "us-east-1"},
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.ArtifactStore = nil
				p.ArtifactStores = map[string]cpapi.ArtifactStore{"eu-west-1": EastStore()}
			},
			Code: codeStructure, Msg: `artifactStores has no entry for the pipeline's region "us-east-1"`,
		},
		{
			Name:   "cross-region action with a single artifactStore",
			Limits: pipeline.Limits{Region: "us-east-1"},
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").Region = "eu-west-1"
			},
			Code: codeStructure, Msg: `stage "Deploy": action "Deploy" runs in region "eu-west-1", outside the pipeline's region "us-east-1"`,
		},
	}
}

func stageCases() []InvalidCase {
	return []InvalidCase{
		{
			Name:   "duplicate stage names",
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) { p.Stages[2].Name = "Build" },
			Code:   codeStage, Msg: `stage "Build": stages 2 and 3 are both named "Build"`,
		},
		{
			Name: "stage without actions",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				StageNamed(t, p, "Deploy").Actions = []cpapi.ActionDeclaration{}
			},
			Code: codeStage, Msg: `stage "Deploy": the stage has no actions`,
		},
		{
			Name: "21 actions in a stage",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				orders := make([]int32, 21)
				for k := range orders {
					orders[k] = int32(k%5 + 1)
				}
				StageNamed(t, p, "Deploy").Actions = Approvals("Approve", orders...)
			},
			Code: codeStage, Msg: `stage "Deploy": the stage has 21 actions; at most 20 are allowed`,
		},
		{
			Name: "six parallel actions",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				StageNamed(t, p, "Deploy").Actions = Approvals("Approve", 1, 1, 1, 1, 1, 1)
			},
			Code: codeStage, Msg: `stage "Deploy": 6 actions have runOrder 1; at most 5 actions may run in parallel`,
		},
		{
			Name:   "parallel actions over a configured limit",
			Limits: pipeline.Limits{MaxParallelActions: 2},
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				StageNamed(t, p, "Deploy").Actions = Approvals("Approve", 1, 3, 3, 3)
			},
			Code: codeStage, Msg: `stage "Deploy": 3 actions have runOrder 3; at most 2 actions may run in parallel`,
		},
		{
			Name: "six sequential groups",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				StageNamed(t, p, "Deploy").Actions = Approvals("Approve", 1, 2, 3, 4, 5, 6)
			},
			Code: codeStage, Msg: `stage "Deploy": the actions use 6 different runOrder values (1, 2, 3, 4, 5, 6); at most 5`,
		},
		{
			Name: "duplicate blocker names",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				StageNamed(t, p, "Deploy").Blockers = []cpapi.BlockerDeclaration{
					{Name: "Window", Type: "Schedule"}, {Name: "Window", Type: "Schedule"},
				}
			},
			Code: codeBlocker, Msg: `stage "Deploy": blocker "Window" is declared more than once`,
		},
		{
			Name: "blocker type other than Schedule",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				StageNamed(t, p, "Deploy").Blockers = []cpapi.BlockerDeclaration{{Name: "Window", Type: "Manual"}}
			},
			Code: codeBlocker, Msg: `stage "Deploy": blocker "Window" has type "Manual"; the only blocker type is "Schedule"`,
			ModelInvalid: true,
		},
		{
			Name: "action without actionTypeId",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").ActionTypeId = nil
			},
			Code: codeAction, Msg: `stage "Deploy": action "Deploy" has no actionTypeId`,
			ModelInvalid: true,
		},
		{
			Name: "ROLLBACK on the first stage",
			Base: ValidV2,
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				StageNamed(t, p, "Source").OnFailure = &cpapi.FailureConditions{Result: "ROLLBACK"}
			},
			Code: codeStage, Msg: `stage "Source": onFailure has result ROLLBACK, but the first stage cannot be rolled back`,
		},
		{
			Name: "ROLLBACK in PARALLEL mode",
			Base: ValidV2,
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				p.ExecutionMode = "PARALLEL"
				StageNamed(t, p, "Deploy").OnFailure = &cpapi.FailureConditions{Result: "ROLLBACK"}
			},
			Code: codeStage, Msg: `stage "Deploy": onFailure has result ROLLBACK, which pipelines in PARALLEL execution mode do not support`,
		},
	}
}

func placementCases() []InvalidCase {
	return []InvalidCase{
		{
			Name: "first stage without a source action",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				StageNamed(t, p, "Source").Actions = []cpapi.ActionDeclaration{Approval("Approve", 1)}
			},
			Code: codeStructure, Msg: `stage "Source": the first stage must contain at least one source action`,
		},
		{
			Name: "build action in the first stage",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				s := StageNamed(t, p, "Source")
				s.Actions = append(s.Actions, CodeBuild("Build", "EarlyBuild", 2, []string{"SourceOut"}, nil))
			},
			Code: codeStructure, Msg: `stage "Source": action "EarlyBuild" is a Build action; the first stage can only contain source actions`,
		},
		{
			Name: "approval action in the first stage",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				s := StageNamed(t, p, "Source")
				s.Actions = append(s.Actions, Approval("Approve", 2))
			},
			Code: codeStructure, Msg: `stage "Source": action "Approve" is an approval action, which cannot be added to the first stage`,
		},
		{
			Name: "source action outside the first stage",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				s := StageNamed(t, p, "Build")
				s.Actions = append(s.Actions, CodeCommitSource("Second", "SecondOut"))
			},
			Code: codeStructure, Msg: `stage "Build": action "Second" is a source action; only the first stage may contain source actions`,
		},
		{
			Name: "only source actions",
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.Stages = []cpapi.StageDeclaration{
					p.Stages[0],
					{Name: "More", Actions: []cpapi.ActionDeclaration{CodeCommitSource("Other", "OtherOut")}},
				}
			},
			Code: codeStructure, Msg: `pipeline "MyPipeline" contains only source actions`,
		},
	}
}

func actionTypeCases() []InvalidCase {
	return []InvalidCase{
		{
			Name:   "duplicate action names in a stage",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) { ActionNamed(t, p, "Build", "Test").Name = "Build" },
			Code:   codeAction, Msg: `stage "Build": action "Build" is declared more than once in the stage`,
		},
		{
			Name: "unknown provider",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Build").ActionTypeId.Provider = "CodeBuld"
			},
			Code: codeAction,
			Msg:  `stage "Build": action "Build" uses action type Build/AWS/CodeBuld version "1", which does not exist; providers of Build actions with owner AWS: CodeBuild`,
		},
		{
			Name: "built-in type with version 2",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Build").ActionTypeId.Version = "2"
			},
			Code: codeAction, Msg: `action "Build" uses action type Build/AWS/CodeBuild version "2", which does not exist; available versions of Build/AWS/CodeBuild: "1"`,
		},
		{
			Name: "owner other than AWS, ThirdParty or Custom",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").ActionTypeId.Owner = "Amazon"
			},
			Code: codeAction, Msg: `stage "Deploy": action "Deploy" has owner "Amazon"; the owner must be AWS, ThirdParty or Custom`,
			ModelInvalid: true,
		},
		{
			Name: "provider of another category",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").ActionTypeId.Provider = "CodeBuild"
			},
			Code: codeAction, Msg: `uses action type Deploy/AWS/CodeBuild version "1", which does not exist; providers of Deploy actions with owner AWS: CodeDeploy, S3`,
		},
		{
			Name: "third-party provider that does not exist",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Source", "Source").ActionTypeId.Owner = "ThirdParty"
			},
			Code: codeAction, Msg: `stage "Source": action "Source" uses action type Source/ThirdParty/S3 version "1", which does not exist; providers of Source actions with owner ThirdParty: GitHub`,
		},
		{
			Name: "custom type that is not registered",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Build").ActionTypeId = &cpapi.ActionTypeId{
					Category: "Build", Owner: "Custom", Provider: "Unknown-Provider", Version: "1",
				}
			},
			Code: codeAction, Msg: `uses the custom action type Build/Custom/Unknown-Provider version "1", which is not registered; create it with CreateCustomActionType`,
		},
		{
			Name: "Commands action without commands",
			Base: ValidV2,
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Lint").Commands = nil
			},
			Code: codeAction, Msg: `stage "Build": action "Lint" is a Commands action but has no commands`,
		},
		{
			Name: "commands on a CodeBuild action",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Build").Commands = []string{"make"}
			},
			Code: codeAction, Msg: `stage "Build": action "Build" has "commands", which only Compute/AWS/Commands actions accept`,
		},
	}
}

func artifactCases() []InvalidCase {
	return []InvalidCase{
		{
			Name: "CodeDeploy without an input artifact",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").InputArtifacts = nil
			},
			Code: codeAction, Msg: `stage "Deploy": action "Deploy" has 0 input artifacts, but action type Deploy/AWS/CodeDeploy version "1" accepts exactly 1`,
		},
		{
			Name: "CodeDeploy with two input artifacts",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").InputArtifacts = Inputs("BuildOut", "SourceOut")
			},
			Code: codeAction, Msg: `action "Deploy" has 2 input artifacts, but action type Deploy/AWS/CodeDeploy version "1" accepts exactly 1`,
		},
		{
			Name: "CodeDeploy with an output artifact",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").OutputArtifacts = Outputs("DeployOut")
			},
			Code: codeAction, Msg: `action "Deploy" has 1 output artifact, but action type Deploy/AWS/CodeDeploy version "1" accepts none`,
		},
		{
			Name: "source without an output artifact",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Source", "Source").OutputArtifacts = nil
			},
			Code: codeAction, Msg: `stage "Source": action "Source" has 0 output artifacts, but action type Source/AWS/S3 version "1" accepts exactly 1`,
		},
		{
			Name: "CodeBuild with six input artifacts",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Build").InputArtifacts = Inputs("A", "B", "C", "D", "E", "F")
			},
			Code: codeAction, Msg: `action "Build" has 6 input artifacts, but action type Build/AWS/CodeBuild version "1" accepts 1 to 5`,
		},
		{
			Name: "approval with an input artifact",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				a := Approval("Approve", 1)
				a.InputArtifacts = Inputs("BuildOut")
				s := StageNamed(t, p, "Deploy")
				s.Actions = append(s.Actions, a)
			},
			Code: codeAction, Msg: `stage "Deploy": action "Approve" has 1 input artifact, but action type Approval/AWS/Manual version "1" accepts none`,
		},
		{
			Name: "Lambda with six output artifacts",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				a := Lambda("Notify", 1, "hello")
				a.OutputArtifacts = Outputs("N1", "N2", "N3", "N4", "N5", "N6")
				s := StageNamed(t, p, "Deploy")
				s.Actions = append(s.Actions, a)
			},
			Code: codeAction, Msg: `action "Notify" has 6 output artifacts, but action type Invoke/AWS/Lambda version "1" accepts at most 5`,
		},
		{
			Name: "Commands with two output artifacts",
			Base: ValidV2,
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Lint").OutputArtifacts = Outputs("LintA", "LintB")
			},
			Code: codeAction, Msg: `action "Lint" has 2 output artifacts, but action type Compute/AWS/Commands version "1" accepts at most 1`,
		},
		{
			Name: "output artifact name used twice in the pipeline",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Test").OutputArtifacts = Outputs("SourceOut")
			},
			Code: codeStructure, Msg: `stage "Build": action "Test" has output artifact "SourceOut", which action "Source" in stage "Source" already produces`,
		},
		{
			Name: "output artifact listed twice by one action",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Build").OutputArtifacts = Outputs("BuildOut", "BuildOut")
			},
			Code: codeStructure, Msg: `stage "Build": action "Build" lists output artifact "BuildOut" twice`,
		},
		{
			Name: "input artifact nobody produces",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").InputArtifacts = Inputs("Missing")
			},
			Code: codeStructure, Msg: `stage "Deploy": action "Deploy" input artifact "Missing" is not produced by any earlier action; list it in the outputArtifacts of an action that runs before it`,
		},
		{
			Name:   "input artifact of a parallel action",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) { ActionNamed(t, p, "Build", "Test").RunOrder = I32(1) },
			Code:   codeStructure, Msg: `stage "Build": action "Test" input artifact "BuildOut" is produced by action "Build", which runs in parallel with it (both have runOrder 1)`,
		},
		{
			Name: "input artifact of a later action in the stage",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				test := ActionNamed(t, p, "Build", "Test")
				test.OutputArtifacts = Outputs("TestOut")
				build := ActionNamed(t, p, "Build", "Build")
				build.InputArtifacts = Inputs("SourceOut", "TestOut")
				build.Configuration["PrimarySource"] = "SourceOut"
			},
			Code: codeStructure, Msg: `stage "Build": action "Build" input artifact "TestOut" is produced by action "Test" in stage "Build", which runs after it`,
		},
		{
			Name: "input artifact of a later stage",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				notify := Lambda("Notify", 1, "hello")
				notify.OutputArtifacts = Outputs("NotifyOut")
				s := StageNamed(t, p, "Deploy")
				s.Actions = append(s.Actions, notify)
				test := ActionNamed(t, p, "Build", "Test")
				test.InputArtifacts = Inputs("BuildOut", "NotifyOut")
				test.Configuration["PrimarySource"] = "BuildOut"
			},
			Code: codeStructure, Msg: `stage "Build": action "Test" input artifact "NotifyOut" is produced by action "Notify" in stage "Deploy", which runs after it`,
		},
		{
			Name: "input artifact of the action itself",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				test := ActionNamed(t, p, "Build", "Test")
				test.InputArtifacts = Inputs("BuildOut", "TestOut")
				test.OutputArtifacts = Outputs("TestOut")
				test.Configuration["PrimarySource"] = "BuildOut"
			},
			Code: codeStructure, Msg: `stage "Build": action "Test" input artifact "TestOut" is its own output artifact`,
		},
	}
}

func configurationCases() []InvalidCase {
	return []InvalidCase{
		{
			Name: "missing required configuration key",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				delete(ActionNamed(t, p, "Source", "Source").Configuration, "S3ObjectKey")
			},
			Code: codeAction, Msg: `stage "Source": action "Source" is missing the required configuration key "S3ObjectKey" of action type Source/AWS/S3 version "1"`,
		},
		{
			Name: "required configuration key with an empty value",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Test").Configuration["ProjectName"] = ""
			},
			Code: codeAction, Msg: `stage "Build": action "Test" is missing the required configuration key "ProjectName"`,
		},
		{
			Name: "GitHub source without OAuthToken",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				a := ActionNamed(t, p, "Source", "Source")
				a.ActionTypeId = TypeOf("Source", "ThirdParty", "GitHub")
				a.Configuration = map[string]string{"Owner": "o", "Repo": "r", "Branch": "main"}
			},
			Code: codeAction, Msg: `action "Source" is missing the required configuration key "OAuthToken" of action type Source/ThirdParty/GitHub version "1"`,
		},
		{
			Name: "configuration key a built-in type does not define",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").Configuration["Foo"] = "bar"
			},
			Code: codeAction, Msg: `stage "Deploy": action "Deploy" has the configuration key "Foo", which action type Deploy/AWS/CodeDeploy version "1" does not define; remove it (valid keys: ApplicationName, DeploymentGroupName)`,
		},
		{
			Name: "configuration key a custom type does not define",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				a := CustomBuild("Custom", 3, "SourceOut", "CustomOut")
				a.Configuration["Branch"] = "main"
				s := StageNamed(t, p, "Build")
				s.Actions = append(s.Actions, a)
			},
			Code: codeAction, Msg: `action "Custom" has the configuration key "Branch", which action type Build/Custom/My-Build-Provider-Name version "1" does not define; remove it (valid keys: ProjectName, ApiToken)`,
		},
		{
			Name: "configuration on a Commands action",
			Base: ValidV2,
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Lint").Configuration = map[string]string{"ProjectName": "x"}
			},
			Code: codeAction, Msg: `action "Lint" has the configuration key "ProjectName", which action type Compute/AWS/Commands version "1" does not define; remove it (this action type takes no configuration)`,
		},
		{
			Name: "Boolean property with another value",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Source", "Source").Configuration["PollForSourceChanges"] = "yes"
			},
			Code: codeAction, Msg: `stage "Source": action "Source" has configuration "PollForSourceChanges", which must be a Boolean; use true or false`,
		},
		{
			Name: "Number property with another value",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				a := QueueTester("Queue", 3, "BuildOut")
				a.Configuration["Retries"] = "three"
				s := StageNamed(t, p, "Build")
				s.Actions = append(s.Actions, a)
			},
			Code: codeAction, Msg: `action "Queue" has configuration "Retries", which must be a Number`,
		},
		{
			Name: "queryable property value with spaces",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				a := QueueTester("Queue", 3, "BuildOut")
				a.Configuration["QueueName"] = "smoke tests"
				s := StageNamed(t, p, "Build")
				s.Actions = append(s.Actions, a)
			},
			Code: codeAction, Msg: `action "Queue" has configuration "QueueName", a queryable property, whose value is not 1 to 20 letters`,
		},
		{
			Name: "S3 deploy without ObjectKey when not extracting",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				a := ActionNamed(t, p, "Deploy", "Deploy")
				a.ActionTypeId = TypeOf("Deploy", "AWS", "S3")
				a.Configuration = map[string]string{"BucketName": "site", "Extract": "false"}
			},
			Code: codeAction, Msg: `stage "Deploy": action "Deploy" has "Extract": "false" but no "ObjectKey"`,
		},
		{
			Name: "CodeBuild with two inputs and no PrimarySource",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Test").InputArtifacts = Inputs("BuildOut", "SourceOut")
			},
			Code: codeAction, Msg: `stage "Build": action "Test" has 2 input artifacts but no PrimarySource configuration`,
		},
		{
			Name: "CodeBuild PrimarySource that is not an input",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Build").Configuration["PrimarySource"] = "Other"
			},
			Code: codeAction, Msg: `action "Build" has PrimarySource "Other", which is not one of its input artifacts ("SourceOut")`,
		},
	}
}

func variableCases() []InvalidCase {
	return []InvalidCase{
		{
			Name: "duplicate namespaces",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Test").Namespace = "SourceVariables"
			},
			Code: codeAction, Msg: `stage "Build": action "Test" has namespace "SourceVariables", which action "Source" in stage "Source" already uses`,
		},
		{
			Name: "reserved namespace",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Test").Namespace = "codepipeline"
			},
			Code: codeAction, Msg: `action "Test" has the reserved namespace "codepipeline"`,
		},
		{
			Name: "reference to a namespace no action declares",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").Configuration["ApplicationName"] = "app-#{BuildVariables.Suffix}"
			},
			Code: codeAction, Msg: `stage "Deploy": action "Deploy" has configuration "ApplicationName" referring to namespace "BuildVariables", which no action declares`,
		},
		{
			Name: "reference to the namespace of a later action",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Build", "Test").Namespace = "TestVariables"
				ActionNamed(t, p, "Build", "Build").Configuration["EnvironmentVariables"] =
					`[{"name":"X","value":"#{TestVariables.Result}"}]`
			},
			Code: codeAction, Msg: `action "Build" has configuration "EnvironmentVariables" referring to namespace "TestVariables" of action "Test" in stage "Build", which does not run before it`,
		},
		{
			Name: "reference to the namespace of a parallel action",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				first := Lambda("Notify1", 1, "hello")
				first.Namespace = "N1"
				second := Lambda("Notify2", 1, "#{N1.MessageId}")
				s := StageNamed(t, p, "Deploy")
				s.Actions = append(s.Actions, first, second)
			},
			Code: codeAction, Msg: `stage "Deploy": action "Notify2" has configuration "UserParameters" referring to namespace "N1" of action "Notify1" in stage "Deploy", which does not run before it`,
		},
		{
			Name: "reference to the action's own namespace",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				a := ActionNamed(t, p, "Build", "Test")
				a.Namespace = "TestVariables"
				a.Configuration["EnvironmentVariables"] = `[{"name":"X","value":"#{TestVariables.Result}"}]`
			},
			Code: codeAction, Msg: `action "Test" has configuration "EnvironmentVariables" referring to its own namespace "TestVariables"`,
		},
		{
			Name: "reference to an undeclared pipeline variable",
			Base: ValidV2,
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").Configuration["DeploymentGroupName"] = "#{variables.Missing}"
			},
			Code: codeAction, Msg: `stage "Deploy": action "Deploy" has configuration "DeploymentGroupName" referring to the pipeline variable "Missing", which is not declared`,
		},
		{
			Name: "reference to an unknown codepipeline variable",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").Configuration["DeploymentGroupName"] = "#{codepipeline.ExecutionId}"
			},
			Code: codeAction, Msg: `has configuration "DeploymentGroupName" referring to #{codepipeline.ExecutionId}; the only codepipeline variable is #{codepipeline.PipelineExecutionId}`,
		},
		{
			Name: "malformed variable reference",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				ActionNamed(t, p, "Deploy", "Deploy").Configuration["DeploymentGroupName"] = "#{SourceVariables}"
			},
			Code: codeAction, Msg: `action "Deploy" has configuration "DeploymentGroupName" with the malformed variable reference "#{SourceVariables}"`,
		},
	}
}

func v2Cases() []InvalidCase {
	return []InvalidCase{
		{
			Name: "pipeline variables on a V1 pipeline",
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.PipelineType = "V1"
				p.Variables = []cpapi.PipelineVariableDeclaration{{Name: "Env"}}
			},
			Code: codeInvalid, Msg: `pipeline "MyPipeline" has pipelineType V1 but uses pipeline variables, which only V2 pipelines support`,
		},
		{
			Name: "triggers on a V1 pipeline",
			Base: ValidV2,
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.PipelineType, p.ExecutionMode, p.Variables = "V1", "", nil
			},
			Code: codeInvalid, Msg: `has pipelineType V1 but uses triggers, which only V2 pipelines support; set "pipelineType": "V2"`,
		},
		{
			Name: "QUEUED mode on a V1 pipeline",
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.PipelineType, p.ExecutionMode = "V1", "QUEUED"
			},
			Code: codeInvalid, Msg: `has pipelineType V1 but uses executionMode QUEUED`,
		},
		{
			Name: "stage conditions on a V1 pipeline",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				p.PipelineType = "V1"
				StageNamed(t, p, "Deploy").OnFailure = &cpapi.FailureConditions{
					Result: "RETRY", RetryConfiguration: &cpapi.RetryConfiguration{RetryMode: "FAILED_ACTIONS"},
				}
			},
			Code: codeInvalid, Msg: `has pipelineType V1 but uses stage "Deploy" onFailure conditions`,
		},
		{
			Name: "Commands action on a V1 pipeline",
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				p.PipelineType = "V1"
				s := StageNamed(t, p, "Build")
				s.Actions = append(s.Actions, Commands("Lint", 1, "SourceOut"))
			},
			Code: codeInvalid, Msg: `has pipelineType V1 but uses stage "Build" action "Lint" of type Compute/AWS/Commands`,
		},
		{
			Name: "duplicate pipeline variables",
			Base: ValidV2,
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.Variables = append(p.Variables, cpapi.PipelineVariableDeclaration{Name: "Env"})
			},
			Code: codeInvalid, Msg: `declares the pipeline variable "Env" more than once in variables`,
		},
		{
			Name:   "more triggers than the limit",
			Base:   ValidV2,
			Limits: pipeline.Limits{MaxTriggers: 1},
			Mutate: func(t testing.TB, p *cpapi.PipelineDeclaration) {
				s := StageNamed(t, p, "Source")
				s.Actions = append(s.Actions, CodeStarSource("Source2", "Source2Out"))
				trigger := p.Triggers[0]
				trigger.GitConfiguration = &cpapi.GitConfiguration{SourceActionName: "Source2"}
				p.Triggers = append(p.Triggers, trigger)
			},
			Code: codeInvalid, Msg: `pipeline "MyPipeline" has 2 triggers; the maximum is 1`,
		},
		{
			Name: "trigger naming no action",
			Base: ValidV2,
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.Triggers[0].GitConfiguration.SourceActionName = "Nope"
			},
			Code: codeStructure, Msg: `triggers[0].gitConfiguration.sourceActionName "Nope" names no action of the pipeline`,
		},
		{
			Name: "trigger naming a build action",
			Base: ValidV2,
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.Triggers[0].GitConfiguration.SourceActionName = "Build"
			},
			Code: codeStructure, Msg: `triggers[0].gitConfiguration.sourceActionName "Build" names a Build action, not a source action`,
		},
		{
			Name: "trigger naming an S3 source action",
			Base: ValidV2,
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				src := S3Source("Source", "SourceOut")
				src.Namespace = "SourceVariables"
				p.Stages[0].Actions[0] = src
				p.Stages[1].Actions[0].Configuration["EnvironmentVariables"] = "#{variables.Env}"
			},
			Code: codeStructure, Msg: `triggers[0].gitConfiguration.sourceActionName "Source" names a source action with provider "S3"; triggers only work with CodeStarSourceConnection (and Slipway-hosted CodeCommit) source actions`,
		},
		{
			Name: "two triggers for one source action",
			Base: ValidV2,
			Mutate: func(_ testing.TB, p *cpapi.PipelineDeclaration) {
				p.Triggers = append(p.Triggers, p.Triggers[0])
			},
			Code: codeStructure, Msg: `triggers[0] and triggers[1] both name the source action "Source"`,
		},
	}
}
