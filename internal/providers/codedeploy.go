package providers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/awsproto"
	"github.com/slipway-cd/slipway/internal/cdapi"
	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/worker"
)

// Deployments is the CodeDeploy control plane the CodeDeploy deploy
// action drives; *codedeploy.Service is one (the server passes its own).
type Deployments interface {
	RegisterApplicationRevision(ctx context.Context, in *cdapi.RegisterApplicationRevisionInput) (*struct{}, error)
	CreateDeployment(ctx context.Context, in *cdapi.CreateDeploymentInput) (*cdapi.CreateDeploymentOutput, error)
	GetDeployment(ctx context.Context, in *cdapi.GetDeploymentInput) (*cdapi.GetDeploymentOutput, error)
}

// DeploymentPollInterval is how often the CodeDeploy action reads the
// status of the deployment it waits for.
const DeploymentPollInterval = 200 * time.Millisecond

// CodeDeploy runs Deploy/AWS/CodeDeploy actions: the input artifact (a
// zip in the artifact store) is registered as an S3 revision
// (bundleType zip) of ApplicationName and deployed to
// DeploymentGroupName; the job waits for the deployment and ends with it.
type CodeDeploy struct{ Deps }

// Type returns Deploy/AWS/CodeDeploy/1.
func (c *CodeDeploy) Type() cpapi.ActionTypeId {
	return awsType(cpapi.ActionCategoryDeploy, "CodeDeploy")
}

// Run deploys the input artifact and waits for the deployment. Its ID is
// the external execution ID.
func (c *CodeDeploy) Run(ctx context.Context, j *worker.Job) (*worker.Result, error) {
	cfg := config(j)
	app, group := cfg["ApplicationName"], cfg["DeploymentGroupName"]
	if len(j.Data.InputArtifacts) == 0 || j.Data.InputArtifacts[0].Location == nil || j.Data.InputArtifacts[0].Location.S3Location == nil {
		return nil, worker.Failf("the action has no input artifact to deploy")
	}
	in := j.Data.InputArtifacts[0]
	loc := in.Location.S3Location
	info, err := c.Artifacts.Head(ctx, loc.BucketName, loc.ObjectKey)
	if errors.Is(err, artifact.ErrNotFound) {
		return nil, worker.Failf("input artifact %s is missing from the artifact store (%s/%s)", in.Name, loc.BucketName, loc.ObjectKey)
	}
	if err != nil {
		return nil, fmt.Errorf("read input artifact %s: %w", in.Name, err)
	}
	rev := &cdapi.RevisionLocation{RevisionType: cdapi.RevisionLocationTypeS3, S3Location: &cdapi.S3Location{
		Bucket: loc.BucketName, Key: loc.ObjectKey, BundleType: cdapi.BundleTypeZip, ETag: info.ETag}}
	log := j.LogOutput()
	if _, err := c.Deployments.RegisterApplicationRevision(ctx, &cdapi.RegisterApplicationRevisionInput{
		ApplicationName: app, Revision: rev, Description: "Registered by CodePipeline"}); err != nil {
		return nil, deployFailure(err)
	}
	out, err := c.Deployments.CreateDeployment(ctx, &cdapi.CreateDeploymentInput{
		ApplicationName: app, DeploymentGroupName: group, Revision: rev})
	if err != nil {
		return nil, deployFailure(err)
	}
	id := out.DeploymentId
	fmt.Fprintf(log, "Created deployment %s of s3://%s/%s to %s/%s\n", id, loc.BucketName, loc.ObjectKey, app, group)
	t := time.NewTicker(DeploymentPollInterval)
	defer t.Stop()
	last := ""
	for {
		got, err := c.Deployments.GetDeployment(ctx, &cdapi.GetDeploymentInput{DeploymentId: id})
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("read deployment %s: %w", id, err)
		}
		if err == nil && got.DeploymentInfo != nil {
			d := got.DeploymentInfo
			if d.Status != last {
				fmt.Fprintf(log, "Deployment %s: %s\n", id, d.Status)
				last = d.Status
			}
			switch d.Status {
			case cdapi.DeploymentStatusSucceeded:
				return &worker.Result{Summary: "Deployment Succeeded", ExternalExecutionID: id}, nil
			case cdapi.DeploymentStatusFailed, cdapi.DeploymentStatusStopped:
				msg := "Deployment " + id + " " + d.Status
				if e := d.ErrorInformation; e != nil && e.Message != "" {
					msg = e.Message
					if e.Code != "" {
						msg = e.Code + ": " + e.Message
					}
				}
				return nil, &worker.Failure{Type: cpapi.FailureTypeJobFailed, Message: msg, ExternalExecutionID: id}
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// deployFailure turns a CodeDeploy error into the job's failure: API
// errors (a busy group: "The Deployment Group '…' is already deploying
// deployment '…'", a missing application or group) fail the job with
// their message; anything else is the server's own failure.
func deployFailure(err error) error {
	if e := awsproto.AsError(err); e != nil {
		return &worker.Failure{Type: cpapi.FailureTypeJobFailed, Message: e.Message}
	}
	return err
}
