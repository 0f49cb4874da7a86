package providers

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/worker"
)

// fakeDeployments records the calls and answers with statuses in turn.
type fakeDeployments struct {
	mu        sync.Mutex
	createErr error
	statuses  []string
	errInfo   *cdapi.ErrorInformation
	revision  *cdapi.RevisionLocation
	polls     int
}

func (f *fakeDeployments) RegisterApplicationRevision(_ context.Context, in *cdapi.RegisterApplicationRevisionInput) (*struct{}, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revision = in.Revision
	return nil, nil
}

func (f *fakeDeployments) CreateDeployment(context.Context, *cdapi.CreateDeploymentInput) (*cdapi.CreateDeploymentOutput, error) {
	if f.createErr != nil {
		return nil, f.createErr
	}
	return &cdapi.CreateDeploymentOutput{DeploymentId: "d-ABCDEFGHI"}, nil
}

func (f *fakeDeployments) GetDeployment(context.Context, *cdapi.GetDeploymentInput) (*cdapi.GetDeploymentOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.statuses[min(f.polls, len(f.statuses)-1)]
	f.polls++
	info := &cdapi.DeploymentInfo{DeploymentId: "d-ABCDEFGHI", Status: st}
	if st == cdapi.DeploymentStatusFailed {
		info.ErrorInformation = f.errInfo
	}
	return &cdapi.GetDeploymentOutput{DeploymentInfo: info}, nil
}

func codeDeployJob(t *testing.T, fake *fakeDeployments) (*CodeDeploy, *worker.Job) {
	t.Helper()
	st, err := artifact.NewFSStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Put(context.Background(), "arts", "p/Bundle/x.zip", strings.NewReader("zip bytes"))
	if err != nil {
		t.Fatal(err)
	}
	j := &worker.Job{ID: "job-1", Data: &cpapi.JobData{
		ActionConfiguration: &cpapi.ActionConfiguration{Configuration: map[string]string{"ApplicationName": "shop", "DeploymentGroupName": "fleet"}},
		InputArtifacts: []cpapi.Artifact{{Name: "Bundle", Location: &cpapi.ArtifactLocation{Type: "S3",
			S3Location: &cpapi.S3ArtifactLocation{BucketName: "arts", ObjectKey: "p/Bundle/x.zip"}}}},
	}}
	return &CodeDeploy{Deps: Deps{Artifacts: st, Deployments: fake}}, j
}

func TestCodeDeployActionSucceeds(t *testing.T) {
	fake := &fakeDeployments{statuses: []string{cdapi.DeploymentStatusCreated, cdapi.DeploymentStatusInProgress, cdapi.DeploymentStatusSucceeded}}
	x, j := codeDeployJob(t, fake)
	res, err := x.Run(context.Background(), j)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Summary != "Deployment Succeeded" || res.ExternalExecutionID != "d-ABCDEFGHI" {
		t.Errorf("result %+v", res)
	}
	if s3 := fake.revision.S3Location; s3 == nil || s3.Bucket != "arts" || s3.Key != "p/Bundle/x.zip" || s3.BundleType != "zip" || s3.ETag == "" {
		t.Errorf("registered revision %+v", fake.revision.S3Location)
	}
}

func TestCodeDeployActionFails(t *testing.T) {
	fake := &fakeDeployments{statuses: []string{cdapi.DeploymentStatusFailed},
		errInfo: &cdapi.ErrorInformation{Code: "HEALTH_CONSTRAINTS", Message: "The overall deployment failed because too many individual instances failed deployment"}}
	x, j := codeDeployJob(t, fake)
	_, err := x.Run(context.Background(), j)
	var f *worker.Failure
	if !errors.As(err, &f) || f.Type != cpapi.FailureTypeJobFailed || !strings.Contains(f.Message, "too many individual instances failed") || f.ExternalExecutionID != "d-ABCDEFGHI" {
		t.Errorf("Run error %#v", err)
	}
}

func TestCodeDeployActionBusyGroup(t *testing.T) {
	busy := awsproto.Errorf(cdapi.DeploymentLimitExceededException, "The Deployment Group 'fleet' is already deploying deployment 'd-AAAAAAAAA'")
	x, j := codeDeployJob(t, &fakeDeployments{createErr: busy})
	_, err := x.Run(context.Background(), j)
	var f *worker.Failure
	if !errors.As(err, &f) || f.Type != cpapi.FailureTypeJobFailed || !strings.Contains(f.Message, "is already deploying deployment 'd-AAAAAAAAA'") {
		t.Errorf("Run error %#v", err)
	}
}

func TestCodeDeployActionStops(t *testing.T) {
	x, j := codeDeployJob(t, &fakeDeployments{statuses: []string{cdapi.DeploymentStatusInProgress}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.Run(ctx, j); !errors.Is(err, context.Canceled) {
		t.Errorf("Run after stop = %v, want context.Canceled", err)
	}
}
