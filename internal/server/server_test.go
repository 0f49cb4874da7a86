package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"

	"github.com/slipway-cd/slipway/internal/auth"
	cpsvc "github.com/slipway-cd/slipway/internal/codepipeline"
	"github.com/slipway-cd/slipway/internal/server"
)

type bundle struct {
	dir    string
	srv    *server.Server
	url    string
	client *codepipeline.Client
}

// start runs a server on a fresh (or the given) data directory behind a real
// HTTP listener and returns an SDK client signed with its admin key.
func start(t *testing.T, dir string, mutate func(*server.Config)) *bundle {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := server.Config{DataDir: dir, Stdout: io.Discard, Logger: slog.New(slog.DiscardHandler)}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	stop := srv.StartBackground()
	t.Cleanup(func() { ts.Close(); stop(); srv.Close() })
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(dir, "credentials"), "default")
	if err != nil {
		t.Fatalf("read credentials: %v", err)
	}
	return &bundle{dir: dir, srv: srv, url: ts.URL, client: newClient(ts.URL, id, secret)}
}

func newClient(url, id, secret string) *codepipeline.Client {
	return codepipeline.New(codepipeline.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// samplePipeline is the user guide's sample pipeline (S3 source, CodeDeploy
// deploy) under the given name.
func samplePipeline(name string) *types.PipelineDeclaration {
	return &types.PipelineDeclaration{
		Name:    aws.String(name),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{
			Type: types.ArtifactStoreTypeS3, Location: aws.String("codepipeline-us-east-1-1234567890"),
		},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{{
				Name:            aws.String("Source"),
				ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerAws, Provider: aws.String("S3"), Version: aws.String("1")},
				OutputArtifacts: []types.OutputArtifact{{Name: aws.String("MyApp")}},
				Configuration:   map[string]string{"S3Bucket": "demo-bucket", "S3ObjectKey": "app.zip"},
				RunOrder:        aws.Int32(1),
			}}},
			{Name: aws.String("Beta"), Actions: []types.ActionDeclaration{{
				Name:           aws.String("Deploy"),
				ActionTypeId:   &types.ActionTypeId{Category: types.ActionCategoryDeploy, Owner: types.ActionOwnerAws, Provider: aws.String("CodeDeploy"), Version: aws.String("1")},
				InputArtifacts: []types.InputArtifact{{Name: aws.String("MyApp")}},
				Configuration:  map[string]string{"ApplicationName": "App", "DeploymentGroupName": "Fleet"},
			}}},
		},
	}
}

// wantAPIError checks that err is the SDK's typed exception for code.
func wantAPIError(t *testing.T, err error, code, contains string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if typ := fmt.Sprintf("%T", ae); typ == "*smithy.GenericAPIError" && code != "UnrecognizedClientException" && code != "InvalidSignatureException" {
		t.Errorf("error %s was not decoded into the SDK's typed exception (got %s)", code, typ)
	}
	if !strings.Contains(ae.ErrorMessage(), contains) {
		t.Errorf("message %q does not contain %q", ae.ErrorMessage(), contains)
	}
}

func TestPipelineLifecycle(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()
	c := b.client

	created, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{
		Pipeline: samplePipeline("Demo"),
		Tags:     []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	})
	if err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	if v := aws.ToInt32(created.Pipeline.Version); v != 1 {
		t.Errorf("created version = %d, want 1", v)
	}
	if len(created.Tags) != 1 {
		t.Errorf("created tags = %v", created.Tags)
	}
	if ro := aws.ToInt32(created.Pipeline.Stages[1].Actions[0].RunOrder); ro != 1 {
		t.Errorf("default runOrder = %d, want 1", ro)
	}

	got, err := c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("Demo")})
	if err != nil {
		t.Fatalf("GetPipeline: %v", err)
	}
	wantARN := "arn:aws:codepipeline:us-east-1:" + b.srv.AccountID() + ":Demo"
	if arn := aws.ToString(got.Metadata.PipelineArn); arn != wantARN {
		t.Errorf("pipelineArn = %s, want %s", arn, wantARN)
	}
	if got.Metadata.Created == nil || got.Metadata.Updated == nil || got.Metadata.Created.IsZero() {
		t.Errorf("metadata times missing: %+v", got.Metadata)
	}
	if cfg := got.Pipeline.Stages[0].Actions[0].Configuration; cfg["S3ObjectKey"] != "app.zip" {
		t.Errorf("configuration = %v", cfg)
	}

	upd := got.Pipeline
	upd.Stages[1].Actions = append(upd.Stages[1].Actions, types.ActionDeclaration{
		Name:         aws.String("Approve"),
		ActionTypeId: &types.ActionTypeId{Category: types.ActionCategoryApproval, Owner: types.ActionOwnerAws, Provider: aws.String("Manual"), Version: aws.String("1")},
		RunOrder:     aws.Int32(2),
	})
	updated, err := c.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: upd})
	if err != nil {
		t.Fatalf("UpdatePipeline: %v", err)
	}
	if v := aws.ToInt32(updated.Pipeline.Version); v != 2 {
		t.Errorf("updated version = %d, want 2", v)
	}
	v1, err := c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("Demo"), Version: aws.Int32(1)})
	if err != nil {
		t.Fatalf("GetPipeline version 1: %v", err)
	}
	if n := len(v1.Pipeline.Stages[1].Actions); n != 1 || aws.ToInt32(v1.Pipeline.Version) != 1 {
		t.Errorf("version 1 has %d actions in Beta, version %d; want 1 and 1", n, aws.ToInt32(v1.Pipeline.Version))
	}
	_, err = c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("Demo"), Version: aws.Int32(9)})
	wantAPIError(t, err, "PipelineVersionNotFoundException", "no version 9")

	arn := aws.String(wantARN)
	if _, err := c.TagResource(ctx, &codepipeline.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("ops")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.UntagResource(ctx, &codepipeline.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"env"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	tags, err := c.ListTagsForResource(ctx, &codepipeline.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "ops" {
		t.Errorf("tags = %+v, want team=ops", tags.Tags)
	}
	_, err = c.ListTagsForResource(ctx, &codepipeline.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:codepipeline:us-east-1:" + b.srv.AccountID() + ":Nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "Nope")
	_, err = c.ListTagsForResource(ctx, &codepipeline.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:codepipeline:eu-west-9:123456789012:Demo")})
	wantAPIError(t, err, "InvalidArnException", "eu-west-9")
	_, err = c.ListTagsForResource(ctx, &codepipeline.ListTagsForResourceInput{ResourceArn: aws.String("not-an-arn")})
	wantAPIError(t, err, "ValidationException", "resourceArn")

	if _, err := c.DeletePipeline(ctx, &codepipeline.DeletePipelineInput{Name: aws.String("Demo")}); err != nil {
		t.Fatalf("DeletePipeline: %v", err)
	}
	_, err = c.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("Demo")})
	wantAPIError(t, err, "PipelineNotFoundException", "Demo")
	if _, err := c.DeletePipeline(ctx, &codepipeline.DeletePipelineInput{Name: aws.String("Demo")}); err != nil {
		t.Errorf("deleting a deleted pipeline: %v", err)
	}
}

func TestListPipelinesPaging(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()
	for _, n := range []string{"e", "a", "d", "b", "c"} {
		if _, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: samplePipeline(n)}); err != nil {
			t.Fatalf("CreatePipeline %s: %v", n, err)
		}
	}
	var names []string
	pages := 0
	p := codepipeline.NewListPipelinesPaginator(b.client, &codepipeline.ListPipelinesInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListPipelines: %v", err)
		}
		pages++
		for _, s := range out.Pipelines {
			names = append(names, aws.ToString(s.Name))
			if aws.ToInt32(s.Version) != 1 || s.Created == nil {
				t.Errorf("summary %+v lacks version or created", s)
			}
		}
	}
	if got := strings.Join(names, ","); got != "a,b,c,d,e" || pages != 3 {
		t.Errorf("listed %s in %d pages, want a,b,c,d,e in 3", got, pages)
	}
	_, err := b.client.ListPipelines(ctx, &codepipeline.ListPipelinesInput{NextToken: aws.String("garbage")})
	wantAPIError(t, err, "InvalidNextTokenException", "nextToken")
}

func TestPipelineLimit(t *testing.T) {
	t.Parallel()
	b := start(t, "", func(c *server.Config) { c.Limits = cpsvc.DefaultLimits(); c.Limits.Pipelines = 2 })
	ctx := context.Background()
	for _, n := range []string{"one", "two"} {
		if _, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: samplePipeline(n)}); err != nil {
			t.Fatalf("CreatePipeline %s: %v", n, err)
		}
	}
	_, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: samplePipeline("three")})
	wantAPIError(t, err, "LimitExceededException", "2 pipelines")
	_, err = b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: samplePipeline("one")})
	wantAPIError(t, err, "PipelineNameInUseException", `"one"`)
}

// An update that fails validation leaves the stored pipeline untouched.
func TestFailedUpdateKeepsPreviousVersion(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()
	if _, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: samplePipeline("Keep")}); err != nil {
		t.Fatal(err)
	}
	bad := samplePipeline("Keep")
	bad.Stages[1].Actions[0].InputArtifacts[0].Name = aws.String("Missing")
	_, err := b.client.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: bad})
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.HasPrefix(ae.ErrorCode(), "Invalid") {
		t.Fatalf("UpdatePipeline with a dangling input artifact: err = %v, want an Invalid...Exception", err)
	}
	got, err := b.client.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("Keep")})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToInt32(got.Pipeline.Version); v != 1 {
		t.Errorf("version after failed update = %d, want 1", v)
	}
	if in := aws.ToString(got.Pipeline.Stages[1].Actions[0].InputArtifacts[0].Name); in != "MyApp" {
		t.Errorf("input artifact after failed update = %s, want MyApp", in)
	}
	_, err = b.client.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("Keep"), Version: aws.Int32(2)})
	wantAPIError(t, err, "PipelineVersionNotFoundException", "version 2")
}

func TestSecretsMaskedAndKept(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()
	p := samplePipeline("Secret")
	p.Stages[0].Actions[0] = types.ActionDeclaration{
		Name:            aws.String("GitHub"),
		ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerThirdParty, Provider: aws.String("GitHub"), Version: aws.String("1")},
		OutputArtifacts: []types.OutputArtifact{{Name: aws.String("MyApp")}},
		Configuration:   map[string]string{"Owner": "me", "Repo": "app", "Branch": "main", "OAuthToken": "s3cr3t-token"},
	}
	created, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: p})
	if err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	if tok := created.Pipeline.Stages[0].Actions[0].Configuration["OAuthToken"]; tok != "****" {
		t.Errorf("CreatePipeline returned OAuthToken %q, want ****", tok)
	}
	got, err := b.client.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("Secret")})
	if err != nil {
		t.Fatal(err)
	}
	if tok := got.Pipeline.Stages[0].Actions[0].Configuration["OAuthToken"]; tok != "****" {
		t.Errorf("GetPipeline returned OAuthToken %q, want ****", tok)
	}
	// Sending the masked value back keeps the secret.
	if _, err := b.client.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: got.Pipeline}); err != nil {
		t.Fatalf("UpdatePipeline with ****: %v", err)
	}
	// Renaming the action loses it: the server says to supply it again.
	got.Pipeline.Stages[0].Actions[0].Name = aws.String("GitHubRenamed")
	_, err = b.client.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: got.Pipeline})
	wantAPIError(t, err, "InvalidActionDeclarationException", "OAuthToken")
}

func TestActionTypes(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()
	c := b.client
	list, err := c.ListActionTypes(ctx, &codepipeline.ListActionTypesInput{})
	if err != nil {
		t.Fatalf("ListActionTypes: %v", err)
	}
	have := map[string]bool{}
	for _, at := range list.ActionTypes {
		have[string(at.Id.Category)+"/"+aws.ToString(at.Id.Provider)] = true
	}
	for _, want := range []string{"Source/S3", "Source/CodeCommit", "Source/GitHub", "Source/CodeStarSourceConnection", "Build/CodeBuild", "Test/CodeBuild", "Deploy/CodeDeploy", "Deploy/S3", "Approval/Manual", "Invoke/Lambda", "Compute/Commands"} {
		if !have[want] {
			t.Errorf("ListActionTypes lacks %s", want)
		}
	}

	_, err = c.CreateCustomActionType(ctx, &codepipeline.CreateCustomActionTypeInput{
		Category: types.ActionCategoryBuild, Provider: aws.String("My-Build-Provider-Name"), Version: aws.String("1"),
		Settings: &types.ActionTypeSettings{
			EntityUrlTemplate:    aws.String("https://my-build-instance/job/{Config:ProjectName}/"),
			ExecutionUrlTemplate: aws.String("https://my-build-instance/job/{Config:ProjectName}/lastSuccessfulBuild/{ExternalExecutionId}/"),
		},
		ConfigurationProperties: []types.ActionConfigurationProperty{{
			Name: aws.String("ProjectName"), Required: true, Key: true, Secret: false, Queryable: true, Type: types.ActionConfigurationPropertyTypeString,
		}},
		InputArtifactDetails:  &types.ArtifactDetails{MinimumCount: 1, MaximumCount: 1},
		OutputArtifactDetails: &types.ArtifactDetails{MinimumCount: 0, MaximumCount: 1},
	})
	if err != nil {
		t.Fatalf("CreateCustomActionType: %v", err)
	}
	list, err = c.ListActionTypes(ctx, &codepipeline.ListActionTypesInput{ActionOwnerFilter: types.ActionOwnerCustom})
	if err != nil {
		t.Fatalf("ListActionTypes Custom: %v", err)
	}
	if len(list.ActionTypes) != 1 || aws.ToString(list.ActionTypes[0].Id.Provider) != "My-Build-Provider-Name" ||
		len(list.ActionTypes[0].ActionConfigurationProperties) != 1 {
		t.Errorf("custom action types = %+v", list.ActionTypes)
	}
	// GetActionType describes AWS and ThirdParty types (the model allows no other owner).
	at, err := c.GetActionType(ctx, &codepipeline.GetActionTypeInput{Category: types.ActionCategorySource, Owner: aws.String("AWS"), Provider: aws.String("S3"), Version: aws.String("1")})
	if err != nil {
		t.Fatalf("GetActionType: %v", err)
	}
	props := map[string]bool{}
	for _, p := range at.ActionType.Properties {
		props[aws.ToString(p.Name)] = !p.Optional
	}
	if !props["S3Bucket"] || !props["S3ObjectKey"] {
		t.Errorf("S3 source properties = %v, want S3Bucket and S3ObjectKey required", props)
	}
	if at.ActionType.OutputArtifactDetails.MaximumCount != 1 {
		t.Errorf("S3 source output artifacts max = %d, want 1", at.ActionType.OutputArtifactDetails.MaximumCount)
	}
	_, err = c.GetActionType(ctx, &codepipeline.GetActionTypeInput{Category: types.ActionCategorySource, Owner: aws.String("AWS"), Provider: aws.String("Nope"), Version: aws.String("1")})
	wantAPIError(t, err, "ActionTypeNotFoundException", "Nope")

	// A pipeline can now use the custom type; its required property is enforced.
	p := samplePipeline("Custom")
	p.Stages[1].Actions[0] = types.ActionDeclaration{
		Name:            aws.String("Build"),
		ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategoryBuild, Owner: types.ActionOwnerCustom, Provider: aws.String("My-Build-Provider-Name"), Version: aws.String("1")},
		InputArtifacts:  []types.InputArtifact{{Name: aws.String("MyApp")}},
		OutputArtifacts: []types.OutputArtifact{{Name: aws.String("Built")}},
		Configuration:   map[string]string{"ProjectName": "web"},
	}
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: p}); err != nil {
		t.Fatalf("CreatePipeline with custom action: %v", err)
	}
	delete(p.Stages[1].Actions[0].Configuration, "ProjectName")
	p.Name = aws.String("Custom2")
	_, err = c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: p})
	wantAPIError(t, err, "InvalidActionDeclarationException", "ProjectName")

	if _, err := c.DeleteCustomActionType(ctx, &codepipeline.DeleteCustomActionTypeInput{Category: types.ActionCategoryBuild, Provider: aws.String("My-Build-Provider-Name"), Version: aws.String("1")}); err != nil {
		t.Fatalf("DeleteCustomActionType: %v", err)
	}
	list, err = c.ListActionTypes(ctx, &codepipeline.ListActionTypesInput{ActionOwnerFilter: types.ActionOwnerCustom})
	if err != nil || len(list.ActionTypes) != 0 {
		t.Errorf("after delete: custom action types = %+v, err %v", list, err)
	}
	_, err = c.DeleteCustomActionType(ctx, &codepipeline.DeleteCustomActionTypeInput{Category: types.ActionCategoryBuild, Provider: aws.String("My-Build-Provider-Name"), Version: aws.String("1")})
	wantAPIError(t, err, "ValidationException", "My-Build-Provider-Name")
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ctx := context.Background()
	id, _, _, err := auth.ReadCredentialsFile(filepath.Join(b.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	_, err = newClient(b.url, id, "wrong-secret").ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	wantAPIError(t, err, "InvalidSignatureException", "signature")
	_, err = newClient(b.url, "AKIAIOSFODNN7EXAMPLE", "whatever").ListPipelines(ctx, &codepipeline.ListPipelinesInput{})
	wantAPIError(t, err, "UnrecognizedClientException", "security token")
}

// State survives a restart on the same data directory, and no second admin
// key is made.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := start(t, dir, nil)
	if _, err := b.client.CreatePipeline(context.Background(), &codepipeline.CreatePipelineInput{Pipeline: samplePipeline("Durable")}); err != nil {
		t.Fatal(err)
	}
	account := b.srv.AccountID()
	if err := b.srv.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := start(t, dir, nil)
	if b2.srv.AccountID() != account {
		t.Errorf("account id changed across restart: %s -> %s", account, b2.srv.AccountID())
	}
	got, err := b2.client.GetPipeline(context.Background(), &codepipeline.GetPipelineInput{Name: aws.String("Durable")})
	if err != nil {
		t.Fatalf("GetPipeline after restart: %v", err)
	}
	if aws.ToString(got.Pipeline.Name) != "Durable" {
		t.Errorf("got %v", got.Pipeline.Name)
	}
}

func staticCreds(id, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, secret, "")
}
