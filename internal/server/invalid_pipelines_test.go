package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"

	cpsvc "github.com/slipway-cd/slipway/internal/codepipeline"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/pipeline"
	"github.com/slipway-cd/slipway/internal/pipeline/pipelinetest"
)

// minReachedCases is how many invalid cases must reach the server and come
// back as the SDK's typed exception for TestInvalidPipelinesThroughSDK to
// pass.
const minReachedCases = 40

// TestInvalidPipelinesThroughSDK sends the invalid pipelines of
// pipelinetest.InvalidCases, the table pipeline.Validate is tested with, to
// a real server through the AWS SDK, and checks that each comes back as the
// SDK's typed exception with the pure validator's code and message.
func TestInvalidPipelinesThroughSDK(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()

	customTypes := pipelinetest.CustomTypes()
	for _, at := range customTypes {
		if _, err := b.client.CreateCustomActionType(ctx, customActionTypeInput(t, at)); err != nil {
			t.Fatalf("CreateCustomActionType %s/%s: %v", at.Id.Category, at.Id.Provider, err)
		}
	}
	list, err := b.client.ListActionTypes(ctx, &codepipeline.ListActionTypesInput{ActionOwnerFilter: types.ActionOwnerCustom})
	if err != nil {
		t.Fatalf("ListActionTypes: %v", err)
	}
	if len(list.ActionTypes) != len(customTypes) {
		t.Fatalf("%d custom action types registered, want %d", len(list.ActionTypes), len(customTypes))
	}

	// The server runs with the default structure limits; cases that need
	// other limits cannot be reproduced through it.
	serverLimits := cpsvc.DefaultLimits().Structure
	cases := pipelinetest.InvalidCases()
	var reached, clientRejected, skippedLimits int
	for i, tc := range cases {
		if tc.Limits != (pipeline.Limits{}) && tc.Limits != serverLimits {
			skippedLimits++
			t.Logf("skipped (needs limits %+v): %s", tc.Limits, tc.Name)
			continue
		}
		var rejectedByClient bool
		ok := t.Run(tc.Name, func(t *testing.T) {
			p := tc.Pipeline(t)
			// Give each case its own pipeline name, unless the expected
			// message mentions the name.
			if !strings.Contains(tc.Msg, fmt.Sprintf("%q", p.Name)) {
				p.Name = fmt.Sprintf("Invalid-%02d", i)
			}
			decl := sdkPipeline(t, p)
			_, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl})
			if err == nil {
				t.Fatalf("CreatePipeline accepted the pipeline; want %s containing %q", tc.Code, tc.Msg)
			}
			var invalidParams smithy.InvalidParamsError
			if errors.As(err, &invalidParams) {
				rejectedByClient = true
				t.Skipf("the SDK rejected the input before sending it: %v", err)
			}
			code, msg := tc.Code, tc.Msg
			if tc.ModelInvalid {
				// The server checks the model's constraints before the
				// structure rules.
				code, msg = cpapi.ValidationException, "failed to satisfy constraint"
			}
			wantAPIError(t, err, code, msg)
			if !isTypedException(err, code) {
				var ae smithy.APIError
				errors.As(err, &ae)
				t.Errorf("error %T (%v) is not the SDK's typed %s", ae, err, code)
			}
		})
		switch {
		case rejectedByClient:
			clientRejected++
		case ok:
			reached++
		}
	}
	t.Logf("%d invalid cases: %d reached the server and got their typed exception, %d rejected by the SDK's client-side validation, %d skipped for their limits",
		len(cases), reached, clientRejected, skippedLimits)
	if reached < minReachedCases {
		t.Errorf("only %d cases reached the server and got their typed exception; want at least %d", reached, minReachedCases)
	}

	// Nothing was stored.
	out, err := b.client.ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	if err != nil {
		t.Fatalf("ListPipelines: %v", err)
	}
	if len(out.Pipelines) != 0 {
		names := make([]string, len(out.Pipelines))
		for i, s := range out.Pipelines {
			names[i] = aws.ToString(s.Name)
		}
		t.Errorf("failed creates stored pipelines: %v", names)
	}

	// The valid bases pass through the same conversion and are accepted, so
	// the rejections above are due to the mutations.
	for name, p := range map[string]*cpapi.PipelineDeclaration{"ValidBase": pipelinetest.ValidBase(), "ValidV2": pipelinetest.ValidV2()} {
		p.Name = name
		if _, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: sdkPipeline(t, p)}); err != nil {
			t.Errorf("CreatePipeline %s: %v", name, err)
		}
	}
}

// TestSDKPipelineConversion checks that the JSON round trip of sdkPipeline
// fills the SDK's nested structs, enums and *int32 members.
func TestSDKPipelineConversion(t *testing.T) {
	t.Parallel()
	p := pipelinetest.ValidV2()
	p.Stages[2].Blockers = []cpapi.BlockerDeclaration{{Name: "Window", Type: "Schedule"}}
	d := sdkPipeline(t, p)
	if aws.ToString(d.Name) != "MyPipeline" || aws.ToString(d.RoleArn) != pipelinetest.RoleArn || aws.ToInt32(d.Version) != 1 {
		t.Errorf("name, roleArn, version = %v, %v, %v", aws.ToString(d.Name), aws.ToString(d.RoleArn), d.Version)
	}
	if d.PipelineType != types.PipelineTypeV2 || d.ExecutionMode != types.ExecutionModeQueued {
		t.Errorf("pipelineType, executionMode = %q, %q", d.PipelineType, d.ExecutionMode)
	}
	if d.ArtifactStore == nil || d.ArtifactStore.Type != types.ArtifactStoreTypeS3 || aws.ToString(d.ArtifactStore.Location) == "" {
		t.Errorf("artifactStore = %+v", d.ArtifactStore)
	}
	build := d.Stages[1].Actions[0]
	if id := build.ActionTypeId; id == nil || id.Category != types.ActionCategoryBuild || id.Owner != types.ActionOwnerAws ||
		aws.ToString(id.Provider) != "CodeBuild" || aws.ToString(id.Version) != "1" {
		t.Errorf("actionTypeId = %+v", build.ActionTypeId)
	}
	if aws.ToInt32(build.RunOrder) != 1 || aws.ToInt32(d.Stages[1].Actions[1].RunOrder) != 2 {
		t.Errorf("runOrders = %v, %v", build.RunOrder, d.Stages[1].Actions[1].RunOrder)
	}
	if len(build.InputArtifacts) != 1 || aws.ToString(build.InputArtifacts[0].Name) != "SourceOut" || build.Configuration["ProjectName"] != "Build-project" {
		t.Errorf("build action = %+v", build)
	}
	if lint := d.Stages[1].Actions[2]; len(lint.Commands) != 1 || lint.Commands[0] != "make lint" {
		t.Errorf("commands = %v", lint.Commands)
	}
	if aws.ToString(d.Stages[0].Actions[0].Namespace) != "SourceVariables" {
		t.Errorf("namespace = %v", d.Stages[0].Actions[0].Namespace)
	}
	if bl := d.Stages[2].Blockers; len(bl) != 1 || aws.ToString(bl[0].Name) != "Window" || bl[0].Type != types.BlockerTypeSchedule {
		t.Errorf("blockers = %+v", bl)
	}
	if len(d.Triggers) != 1 || d.Triggers[0].ProviderType != types.PipelineTriggerProviderTypeCodeStarSourceConnection {
		t.Fatalf("triggers = %+v", d.Triggers)
	}
	git := d.Triggers[0].GitConfiguration
	if git == nil || aws.ToString(git.SourceActionName) != "Source" || len(git.Push) != 1 ||
		git.Push[0].Branches == nil || len(git.Push[0].Branches.Includes) != 1 || git.Push[0].Branches.Includes[0] != "main" {
		t.Errorf("gitConfiguration = %+v", git)
	}
	if len(d.Variables) != 1 || aws.ToString(d.Variables[0].Name) != "Env" || aws.ToString(d.Variables[0].DefaultValue) != "dev" {
		t.Errorf("variables = %+v", d.Variables)
	}

	at := customActionTypeInput(t, pipelinetest.QueueTesterType())
	if at.Category != types.ActionCategoryTest || aws.ToString(at.Provider) != "QueueTester" || len(at.ConfigurationProperties) != 2 {
		t.Fatalf("custom action type input = %+v", at)
	}
	if q := at.ConfigurationProperties[0]; aws.ToString(q.Name) != "QueueName" || !q.Required || !q.Key || !q.Queryable || q.Secret ||
		q.Type != types.ActionConfigurationPropertyTypeString {
		t.Errorf("QueueName property = %+v", q)
	}
	if at.InputArtifactDetails == nil || at.InputArtifactDetails.MinimumCount != 1 || at.InputArtifactDetails.MaximumCount != 1 {
		t.Errorf("inputArtifactDetails = %+v", at.InputArtifactDetails)
	}
}

// sdkPipeline converts p to the SDK's declaration by a JSON round trip:
// encoding/json matches the model's lowerCamel member names to the SDK's
// exported field names case-insensitively. It fails the test when a member
// of p has no SDK field or does not survive the way back.
func sdkPipeline(t *testing.T, p *cpapi.PipelineDeclaration) *types.PipelineDeclaration {
	t.Helper()
	d := viaJSON[types.PipelineDeclaration](t, p)
	// Back again: the SDK's fields marshal under their Go names, which the
	// cpapi decoder matches case-insensitively too. Nothing may be lost.
	sdkBody, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("encode SDK declaration: %v", err)
	}
	var back cpapi.PipelineDeclaration
	if err := json.Unmarshal(sdkBody, &back); err != nil {
		t.Fatalf("decode SDK declaration: %v", err)
	}
	want, _ := json.Marshal(p)
	got, _ := json.Marshal(&back)
	if !bytes.Equal(want, got) {
		t.Fatalf("the declaration did not survive the SDK conversion:\n sent %s\n back %s", want, got)
	}
	return &d
}

// customActionTypeInput converts a custom action type to the input of
// CreateCustomActionType.
func customActionTypeInput(t *testing.T, at cpapi.ActionType) *codepipeline.CreateCustomActionTypeInput {
	t.Helper()
	if at.Id == nil || at.Id.Owner != cpapi.ActionOwnerCustom {
		t.Fatalf("action type %+v is not a custom action type", at.Id)
	}
	return &codepipeline.CreateCustomActionTypeInput{
		Category:                types.ActionCategory(at.Id.Category),
		Provider:                aws.String(at.Id.Provider),
		Version:                 aws.String(at.Id.Version),
		Settings:                viaJSON[*types.ActionTypeSettings](t, at.Settings),
		ConfigurationProperties: viaJSON[[]types.ActionConfigurationProperty](t, at.ActionConfigurationProperties),
		InputArtifactDetails:    viaJSON[*types.ArtifactDetails](t, at.InputArtifactDetails),
		OutputArtifactDetails:   viaJSON[*types.ArtifactDetails](t, at.OutputArtifactDetails),
	}
}

// viaJSON encodes v and decodes it into a T, failing the test when an
// encoded member has no field in T.
func viaJSON[T any](t *testing.T, v any) T {
	t.Helper()
	var out T
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode %T into %T: %v\n%s", v, out, err, body)
	}
	return out
}

// isTypedException reports whether err wraps the SDK's modeled exception
// type for code.
func isTypedException(err error, code string) bool {
	switch code {
	case "InvalidStructureException":
		return isA[*types.InvalidStructureException](err)
	case "InvalidStageDeclarationException":
		return isA[*types.InvalidStageDeclarationException](err)
	case "InvalidActionDeclarationException":
		return isA[*types.InvalidActionDeclarationException](err)
	case "InvalidBlockerDeclarationException":
		return isA[*types.InvalidBlockerDeclarationException](err)
	case "ValidationException":
		return isA[*types.ValidationException](err)
	case "LimitExceededException":
		return isA[*types.LimitExceededException](err)
	}
	return false
}

func isA[E error](err error) bool {
	var e E
	return errors.As(err, &e)
}
