package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/slipway-cd/slipway/internal/hostcmd"
)

// TestDeploymentQueue: a group tagged slipway:queue=true queues a
// deployment created while another runs, a newer queued deployment
// supersedes the older one, and the queued one starts when the active
// one ends; an untagged group still refuses the second deployment.
func TestDeploymentQueue(t *testing.T) {
	t.Parallel()
	e := newDeployEnv(t)
	ctx := context.Background()
	ok := func(string, string) *hostcmd.Diagnostics { return nil }

	// Without the tag: DeploymentLimitExceededException, as before.
	x := e.create(&codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v1.zip")})
	_, err := e.cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("web"), Revision: s3Rev("v2.zip")})
	wantDeployError(t, err, "DeploymentLimitExceededException", fmt.Sprintf("The Deployment Group 'web' is already deploying deployment '%s'", x))
	if _, d := e.drive(x, ok); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("deployment %s: %s", x, d.Status)
	}

	mustDo[*codedeploy.CreateDeploymentGroupOutput](t, "group")(e.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("queued"), ServiceRoleArn: aws.String(deployRole),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{kvFilter("role", "web")},
		Tags:                         []cdtypes.Tag{{Key: aws.String("slipway:queue"), Value: aws.String("true")}}}))
	in := func(key string) *codedeploy.CreateDeploymentInput {
		return &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("queued"), Revision: s3Rev(key)}
	}
	a := e.create(in("v1.zip"))
	b := e.create(in("v2.zip"))
	if s := e.get(b).Status; s != cdtypes.DeploymentStatusQueued {
		t.Fatalf("B %s: %s, want Queued", b, s)
	}
	c := e.create(in("v2.zip"))
	if d := e.get(c); d.Status != cdtypes.DeploymentStatusQueued || d.StartTime != nil {
		t.Fatalf("C %s: %s (start %v), want Queued", c, d.Status, d.StartTime)
	}
	db := e.get(b)
	if db.Status != cdtypes.DeploymentStatusStopped || db.ErrorInformation == nil || db.ErrorInformation.Code != cdtypes.ErrorCodeManualStop ||
		!strings.Contains(aws.ToString(db.ErrorInformation.Message), "superseded by deployment "+c) || db.CompleteTime == nil {
		t.Fatalf("B %s after C: %s %+v, want Stopped, superseded by %s", b, db.Status, db.ErrorInformation, c)
	}
	if db.DeploymentOverview.Skipped != 2 || db.DeploymentOverview.Pending != 0 {
		t.Fatalf("B overview %+v", db.DeploymentOverview)
	}
	_, err = e.cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(b)})
	wantDeployError(t, err, "DeploymentAlreadyCompletedException", b)
	list := mustDo[*codedeploy.ListDeploymentsOutput](t, "ListDeployments")(e.cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("queued"), IncludeOnlyStatuses: []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusQueued}}))
	if len(list.Deployments) != 1 || list.Deployments[0] != c {
		t.Fatalf("queued deployments %v, want [%s]", list.Deployments, c)
	}
	grp := mustDo[*codedeploy.GetDeploymentGroupOutput](t, "GetDeploymentGroup")(e.cd.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("queued")})).DeploymentGroupInfo
	if grp.LastAttemptedDeployment == nil || aws.ToString(grp.LastAttemptedDeployment.DeploymentId) != a {
		t.Fatalf("last attempted %+v, want %s", grp.LastAttemptedDeployment, a)
	}

	// A ends; C starts and runs to success.
	if _, d := e.drive(a, ok); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("A %s: %s", a, d.Status)
	}
	if s := e.get(c).Status; s == cdtypes.DeploymentStatusQueued {
		t.Fatalf("C %s still queued after A ended", c)
	}
	// A queued deployment stopped by the user ends at once.
	d2 := e.create(in("v1.zip"))
	if s := e.get(d2).Status; s != cdtypes.DeploymentStatusQueued {
		t.Fatalf("D %s: %s, want Queued", d2, s)
	}
	stop := mustDo[*codedeploy.StopDeploymentOutput](t, "StopDeployment")(e.cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(d2)}))
	if stop.Status != cdtypes.StopStatusSucceeded {
		t.Fatalf("stop queued: %s", stop.Status)
	}
	if d := e.get(d2); d.Status != cdtypes.DeploymentStatusStopped || d.ErrorInformation == nil || d.ErrorInformation.Code != cdtypes.ErrorCodeManualStop {
		t.Fatalf("D %s after stop: %s %+v", d2, d.Status, d.ErrorInformation)
	}

	ran, dc := e.drive(c, ok)
	if dc.Status != cdtypes.DeploymentStatusSucceeded || dc.DeploymentOverview.Succeeded != 2 || len(ran["web-1"]) == 0 || len(ran["web-2"]) == 0 {
		t.Fatalf("C %s: %s %+v ran %v", c, dc.Status, dc.DeploymentOverview, ran)
	}
	da := e.get(a)
	if dc.StartTime == nil || da.CompleteTime == nil || dc.StartTime.Before(*da.CompleteTime) {
		t.Fatalf("C started %v, A completed %v", dc.StartTime, da.CompleteTime)
	}
	if dc.PreviousRevision == nil || aws.ToString(dc.PreviousRevision.S3Location.Key) != "v1.zip" {
		t.Fatalf("C previous revision %+v, want v1.zip", dc.PreviousRevision)
	}
	grp = mustDo[*codedeploy.GetDeploymentGroupOutput](t, "GetDeploymentGroup")(e.cd.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("queued")})).DeploymentGroupInfo
	if aws.ToString(grp.LastSuccessfulDeployment.DeploymentId) != c || aws.ToString(grp.TargetRevision.S3Location.Key) != "v2.zip" {
		t.Fatalf("group after C: last success %+v target %+v", grp.LastSuccessfulDeployment, grp.TargetRevision)
	}
}
