package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/deploy"
	"github.com/slipway-cd/slipway/internal/engine"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// TestServersShareWakeUps runs two servers in this process on one
// PostgreSQL database, with their own data directories and one master key:
// X serves requests only (its engine and deployment runner do not run),
// Y runs them with sweeps and resyncs an hour apart, so that Y acts on
// what X's requests change only through the wake-ups X publishes. A
// pipeline started through X runs to the end on Y's engine; an agent
// long-polling X (with a long poll wait) gets every command Y's runner
// creates; a third server whose data directory has another master key
// refuses to start.
func TestServersShareWakeUps(t *testing.T) {
	t.Parallel()
	dsn := postgresTestDB(t)
	logger := slog.New(slog.DiscardHandler)
	dirX, dirY, shared := t.TempDir(), t.TempDir(), t.TempDir()

	x, err := server.New(context.Background(), server.Config{DataDir: dirX, SharedDir: shared, Database: dsn, Stdout: io.Discard, Logger: logger,
		Deploy: deploy.Config{PollWait: time.Minute}})
	if err != nil {
		t.Fatalf("server X: %v", err)
	}
	tsX := httptest.NewServer(x.Handler())
	t.Cleanup(func() { tsX.Close(); x.Close() })

	key, err := os.ReadFile(filepath.Join(dirX, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirY, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	y, err := server.New(context.Background(), server.Config{DataDir: dirY, SharedDir: shared, Database: dsn, Stdout: io.Discard, Logger: logger,
		Workers: -1, SourcePoll: -1, S3Poll: -1,
		Engine: engine.Config{SweepInterval: time.Hour, ResyncInterval: time.Hour},
		Deploy: deploy.Config{Sweep: time.Hour}})
	if err != nil {
		t.Fatalf("server Y with X's master key: %v", err)
	}
	tsY := httptest.NewServer(y.Handler())
	stopY := y.StartBackground()
	t.Cleanup(func() { tsY.Close(); stopY(); y.Close() })

	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(dirX, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dirY, "credentials")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Y made an admin key of its own (credentials file: %v)", err)
	}

	t.Run("PipelineRunsOnOtherServer", func(t *testing.T) {
		b := &bundle{dir: dirX, url: tsX.URL, client: newClient(tsX.URL, id, secret)}
		testPipelineAcrossServers(t, b)
	})
	t.Run("AgentLongPollOnOtherServer", func(t *testing.T) {
		testAgentAcrossServers(t, tsX.URL, id, secret)
	})
	t.Run("MasterKeyMismatch", func(t *testing.T) {
		dirZ := t.TempDir() // no master.key: the server makes a new one
		_, err := server.New(context.Background(), server.Config{DataDir: dirZ, SharedDir: shared, Database: dsn, Stdout: io.Discard, Logger: logger})
		if !errors.Is(err, auth.ErrMasterKeyMismatch) {
			t.Fatalf("server.New with another master key = %v, want auth.ErrMasterKeyMismatch", err)
		}
		for _, want := range []string{"this database was sealed with a different master key", "copy master.key",
			filepath.Join(dirZ, "master.key")} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		// With the right key it starts.
		if err := os.WriteFile(filepath.Join(dirZ, "master.key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
		z, err := server.New(context.Background(), server.Config{DataDir: dirZ, SharedDir: shared, Database: dsn, Stdout: io.Discard, Logger: logger})
		if err != nil {
			t.Fatalf("server.New with the first server's master key: %v", err)
		}
		z.Close()
	})
}

// testPipelineAcrossServers creates a pipeline (Source -> Build, both
// custom action types) through X and plays its job worker against X: each
// job exists only once Y's engine, woken by X, has reconciled.
func testPipelineAcrossServers(t *testing.T, b *bundle) {
	ctx := t.Context()
	c := b.client
	for _, in := range []*codepipeline.CreateCustomActionTypeInput{
		customType(types.ActionCategorySource, "WakeSrc", 0, 1),
		customType(types.ActionCategoryBuild, "WakeBuild", 1, 0),
	} {
		if _, err := c.CreateCustomActionType(ctx, in); err != nil {
			t.Fatalf("CreateCustomActionType: %v", err)
		}
	}
	p := &types.PipelineDeclaration{
		Name:          aws.String("across"),
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("slipway-artifacts")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{customAction("Fetch", types.ActionCategorySource, "WakeSrc", nil, []string{"Code"}, map[string]string{"ProjectName": "src"})}},
			{Name: aws.String("Build"), Actions: []types.ActionDeclaration{customAction("Compile", types.ActionCategoryBuild, "WakeBuild", []string{"Code"}, nil, map[string]string{"ProjectName": "build"})}},
		},
	}
	execID := startPipeline(t, b, p)
	for _, provider := range []string{"WakeSrc", "WakeBuild"} {
		category := types.ActionCategorySource
		if provider == "WakeBuild" {
			category = types.ActionCategoryBuild
		}
		typ := &types.ActionTypeId{Category: category, Owner: types.ActionOwnerCustom, Provider: aws.String(provider), Version: aws.String("1")}
		var job types.Job
		eventually(t, "a "+provider+" job queued by the other server's engine", func() (bool, string) {
			out, err := c.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(1)})
			if err != nil {
				t.Fatalf("PollForJobs: %v", err)
			}
			if len(out.Jobs) == 0 {
				return false, "no job"
			}
			job = out.Jobs[0]
			return true, ""
		})
		if _, err := c.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: job.Id, Nonce: job.Nonce}); err != nil {
			t.Fatalf("AcknowledgeJob: %v", err)
		}
		in := &codepipeline.PutJobSuccessResultInput{JobId: job.Id}
		if provider == "WakeSrc" {
			in.CurrentRevision = &types.CurrentRevision{Revision: aws.String("rev-1"), ChangeIdentifier: aws.String("rev-1")}
		}
		if _, err := c.PutJobSuccessResult(ctx, in); err != nil {
			t.Fatalf("PutJobSuccessResult: %v", err)
		}
	}
	waitExecution(t, c, "across", execID, types.PipelineExecutionStatusSucceeded)
}

// testAgentAcrossServers deploys through X to one instance whose agent
// long-polls X; Y's runner creates every command, after a wake-up X
// published when the deployment was created or a command completed, and
// X's long poll ends when Y's wake-up arrives (a poll that ends without a
// command fails the test).
func testAgentAcrossServers(t *testing.T, endpoint, id, secret string) {
	ctx := t.Context()
	cd := codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: staticCreds(id, secret), RetryMaxAttempts: 1})
	ext := slipwayapi.New(endpoint, "us-east-1", staticCreds(id, secret))
	creds, err := ext.CreateInstanceCredentials(ctx, &slipwayapi.CreateInstanceCredentialsInput{InstanceName: "far-1"})
	if err != nil {
		t.Fatalf("CreateInstanceCredentials: %v", err)
	}
	mustDo[*codedeploy.RegisterOnPremisesInstanceOutput](t, "register")(cd.RegisterOnPremisesInstance(ctx, &codedeploy.RegisterOnPremisesInstanceInput{
		InstanceName: aws.String("far-1"), IamUserArn: aws.String(creds.UserArn)}))
	mustDo[*codedeploy.AddTagsToOnPremisesInstancesOutput](t, "tag")(cd.AddTagsToOnPremisesInstances(ctx, &codedeploy.AddTagsToOnPremisesInstancesInput{
		InstanceNames: []string{"far-1"}, Tags: []cdtypes.Tag{{Key: aws.String("role"), Value: aws.String("far")}}}))
	mustDo[*codedeploy.CreateApplicationOutput](t, "app")(cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("far")}))
	mustDo[*codedeploy.CreateDeploymentGroupOutput](t, "group")(cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("far"), DeploymentGroupName: aws.String("fleet"), ServiceRoleArn: aws.String(deployRole),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{kvFilter("role", "far")}}))
	mustDo[*codedeploy.RegisterApplicationRevisionOutput](t, "revision")(cd.RegisterApplicationRevision(ctx, &codedeploy.RegisterApplicationRevisionInput{
		ApplicationName: aws.String("far"), Revision: s3Rev("v1.zip")}))
	a := &agent{t: t, url: endpoint, name: "far-1", hostID: creds.UserArn,
		creds: staticCreds(creds.AccessKeyID, creds.SecretAccessKey), signer: v4.NewSigner()}

	out, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("far"),
		DeploymentGroupName: aws.String("fleet"), Revision: s3Rev("v1.zip")})
	if err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}
	depID := aws.ToString(out.DeploymentId)
	var ran []string
	for {
		cmd := a.poll()
		if cmd == nil {
			t.Fatalf("a long poll on X ended without a command (commands run so far: %v): Y's wake-up did not reach it", ran)
		}
		a.run(cmd, never)
		ran = append(ran, cmd.CommandName)
		inst, err := cd.GetDeploymentInstance(ctx, &codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(depID), InstanceId: aws.String("far-1")})
		if err != nil {
			t.Fatalf("GetDeploymentInstance: %v", err)
		}
		pending := 0
		for _, e := range inst.InstanceSummary.LifecycleEvents {
			if e.Status == cdtypes.LifecycleEventStatusPending {
				pending++
			}
		}
		if pending == 0 {
			break
		}
	}
	if len(ran) < 2 {
		t.Errorf("ran %v, want the whole lifecycle", ran)
	}
	eventually(t, "deployment Succeeded", func() (bool, string) {
		d, err := cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(depID)})
		if err != nil {
			t.Fatalf("GetDeployment: %v", err)
		}
		return d.DeploymentInfo.Status == cdtypes.DeploymentStatusSucceeded, string(d.DeploymentInfo.Status)
	})
}
