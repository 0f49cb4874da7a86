// Package demotest holds what the tests of slipway demo share: following
// the demo pipeline through the AWS SDK (its approval, its execution, the
// deployment on every instance) and checking what the agents installed.
package demotest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/demo"
)

// waitFor bounds every wait: a demo run takes seconds, a broken one never
// ends.
const waitFor = 3 * time.Minute

// RequireGit skips the test when git is missing, or fails it under CI=true
// (where every test must run).
func RequireGit(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the demo needs git: %v", err)
		}
		t.Skipf("the demo needs git: %v", err)
	}
}

// Clients are AWS SDK clients signing with a data directory's admin key.
type Clients struct {
	CP *codepipeline.Client
	CD *codedeploy.Client
}

// NewClients returns clients for the server at endpoint, with the
// credentials file of dataDir.
func NewClients(t testing.TB, endpoint, dataDir string) Clients {
	t.Helper()
	id, secret, region, err := auth.ReadCredentialsFile(filepath.Join(dataDir, "credentials"), "default")
	if err != nil {
		t.Fatalf("read the demo's credentials: %v", err)
	}
	if region == "" {
		region = "us-east-1"
	}
	creds := credentials.NewStaticCredentialsProvider(id, secret, "")
	return Clients{
		CP: codepipeline.New(codepipeline.Options{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: creds}),
		CD: codedeploy.New(codedeploy.Options{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: creds}),
	}
}

// Execution is the demo pipeline's execution of one commit.
type Execution struct {
	ID string
	// Token is the pending approval's token.
	Token string
}

// executionOf returns the execution of commit, or nil and the executions
// there are when none has started yet.
func (c Clients) executionOf(ctx context.Context, commit string) (_ *types.PipelineExecutionSummary, state string, err error) {
	out, err := c.CP.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(demo.PipelineName)})
	if err != nil {
		return nil, "", err
	}
	for _, e := range out.PipelineExecutionSummaries {
		for _, r := range e.SourceRevisions {
			if aws.ToString(r.RevisionId) == commit {
				return &e, "", nil
			}
		}
	}
	var seen []string
	for _, e := range out.PipelineExecutionSummaries {
		var revs []string
		for _, r := range e.SourceRevisions {
			revs = append(revs, aws.ToString(r.RevisionId))
		}
		seen = append(seen, fmt.Sprintf("%s %s %v", aws.ToString(e.PipelineExecutionId), e.Status, revs))
	}
	return nil, "no execution of the commit yet; executions: " + strings.Join(seen, "; "), nil
}

// Describe lists an execution's actions with their status, summary and
// error, for failure messages.
func (c Clients) Describe(ctx context.Context, execID string) string {
	out, err := c.CP.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(demo.PipelineName),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(execID)}})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, a := range out.ActionExecutionDetails {
		fmt.Fprintf(&b, "\n  %s/%s: %s", aws.ToString(a.StageName), aws.ToString(a.ActionName), a.Status)
		if a.Output != nil && a.Output.ExecutionResult != nil {
			fmt.Fprintf(&b, " %q", aws.ToString(a.Output.ExecutionResult.ExternalExecutionSummary))
			if d := a.Output.ExecutionResult.ErrorDetails; d != nil {
				fmt.Fprintf(&b, " error %q", aws.ToString(d.Message))
			}
		}
	}
	return b.String()
}

// poll calls cond every 200 ms until it returns done or an error, or
// waitFor passes; what names the wait in the failure.
func poll(t testing.TB, what string, cond func(ctx context.Context) (done bool, state string, err error)) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(waitFor)
	last := ""
	for time.Now().Before(deadline) {
		done, state, err := cond(ctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if done {
			return
		}
		last = state
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: still waiting after %s; last state: %s", what, waitFor, last)
}

// WaitForApproval waits until the execution of commit waits at the
// approval, and returns it with the approval's token. An execution that
// fails before fails the test.
func (c Clients) WaitForApproval(t testing.TB, commit string) Execution {
	t.Helper()
	var x Execution
	poll(t, "approval of commit "+commit, func(ctx context.Context) (bool, string, error) {
		e, state, err := c.executionOf(ctx, commit)
		if err != nil || e == nil {
			return false, state, err
		}
		id := aws.ToString(e.PipelineExecutionId)
		if e.Status != types.PipelineExecutionStatusInProgress {
			return false, "", fmt.Errorf("execution %s is %s before the approval:%s", id, e.Status, c.Describe(ctx, id))
		}
		st, err := c.CP.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String(demo.PipelineName)})
		if err != nil {
			return false, "", err
		}
		for _, s := range st.StageStates {
			if aws.ToString(s.StageName) != demo.ApprovalStage || s.LatestExecution == nil || aws.ToString(s.LatestExecution.PipelineExecutionId) != id {
				continue
			}
			for _, a := range s.ActionStates {
				if aws.ToString(a.ActionName) == demo.ApprovalAction && a.LatestExecution != nil &&
					a.LatestExecution.Status == types.ActionExecutionStatusInProgress && aws.ToString(a.LatestExecution.Token) != "" {
					x = Execution{ID: id, Token: aws.ToString(a.LatestExecution.Token)}
					return true, "", nil
				}
			}
		}
		return false, "execution " + id + " has not reached the approval", nil
	})
	return x
}

// Approve approves the pending approval through the AWS SDK.
func (c Clients) Approve(t testing.TB, x Execution) {
	t.Helper()
	_, err := c.CP.PutApprovalResult(context.Background(), &codepipeline.PutApprovalResultInput{PipelineName: aws.String(demo.PipelineName),
		StageName: aws.String(demo.ApprovalStage), ActionName: aws.String(demo.ApprovalAction), Token: aws.String(x.Token),
		Result: &types.ApprovalResult{Status: types.ApprovalStatusApproved, Summary: aws.String("ship it")}})
	if err != nil {
		t.Fatalf("PutApprovalResult: %v", err)
	}
}

// WaitForSuccess waits until the execution succeeded, checks that its
// deployment succeeded on every demo instance and returns the deployment
// ID.
func (c Clients) WaitForSuccess(t testing.TB, x Execution) string {
	t.Helper()
	poll(t, "execution "+x.ID, func(ctx context.Context) (bool, string, error) {
		out, err := c.CP.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(demo.PipelineName),
			PipelineExecutionId: aws.String(x.ID)})
		if err != nil {
			return false, "", err
		}
		switch s := out.PipelineExecution.Status; s {
		case types.PipelineExecutionStatusSucceeded:
			return true, "", nil
		case types.PipelineExecutionStatusInProgress:
			return false, string(s), nil
		default:
			return false, "", fmt.Errorf("execution %s is %s:%s", x.ID, s, c.Describe(ctx, x.ID))
		}
	})
	ctx := context.Background()
	acts, err := c.CP.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(demo.PipelineName),
		Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(x.ID)}})
	if err != nil {
		t.Fatal(err)
	}
	var deployment string
	for _, a := range acts.ActionExecutionDetails {
		if aws.ToString(a.ActionName) == "Deploy" && a.Output != nil && a.Output.ExecutionResult != nil {
			deployment = aws.ToString(a.Output.ExecutionResult.ExternalExecutionId)
		}
	}
	if deployment == "" {
		t.Fatalf("the Deploy action of %s names no deployment:%s", x.ID, c.Describe(ctx, x.ID))
	}
	dep, err := c.CD.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(deployment)})
	if err != nil {
		t.Fatal(err)
	}
	if dep.DeploymentInfo.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("deployment %s is %s", deployment, dep.DeploymentInfo.Status)
	}
	targets, err := c.CD.ListDeploymentTargets(ctx, &codedeploy.ListDeploymentTargetsInput{DeploymentId: aws.String(deployment)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.CD.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: aws.String(deployment),
		TargetIds: targets.TargetIds})
	if err != nil {
		t.Fatal(err)
	}
	succeeded := map[string]bool{}
	for _, tg := range got.DeploymentTargets {
		if it := tg.InstanceTarget; it != nil && it.Status == cdtypes.TargetStatusSucceeded {
			succeeded[aws.ToString(it.TargetId)] = true
		}
	}
	for _, name := range demo.InstanceNames {
		if !succeeded[name] {
			t.Errorf("deployment %s did not succeed on %s (succeeded on %v)", deployment, name, succeeded)
		}
	}
	return deployment
}

// CheckInstalled checks what the deployment left in an agent's install
// directory: the built page of the release and commit, and the hooks'
// state files naming the deployment.
func CheckInstalled(t testing.TB, a demo.Agent, release, commit, deployment string) {
	t.Helper()
	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(a.InstallDir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatalf("agent %s: %v", a.Name, err)
		}
		return string(b)
	}
	page := read("srv/demo-app/index.html")
	for _, want := range []string{`id="release">` + release + "<", `id="commit">` + commit + "<"} {
		if !strings.Contains(page, want) {
			t.Errorf("agent %s: index.html lacks %s:\n%s", a.Name, want, page)
		}
	}
	if got, want := read("var/lib/demo-app/version"), "release="+release+"\ncommit="+commit+"\n"; got != want {
		t.Errorf("agent %s: version = %q, want %q", a.Name, got, want)
	}
	if got, want := read("var/lib/demo-app/running"), "deployment="+deployment+"\nrelease="+release+"\ncommit="+commit+"\n"; got != want {
		t.Errorf("agent %s: running = %q, want %q", a.Name, got, want)
	}
	if !strings.Contains(read("var/lib/demo-app/history.log"), deployment) {
		t.Errorf("agent %s: history.log does not record %s", a.Name, deployment)
	}
}
