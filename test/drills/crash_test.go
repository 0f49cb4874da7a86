package drills

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// persist calls fn until it succeeds, fails with a client error (an API
// error answered with a 4xx status), or ctx ends: connection errors and
// 5xx answers are what a server being killed and restarted produces.
func persist(ctx context.Context, fn func() error) error {
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if code := apiCode(err); code != "" && !strings.Contains(code, "Internal") && !strings.Contains(code, "ServiceUnavailable") {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// jobJournal records the work of custom-action job workers, keyed by
// pipeline execution and action.
type jobJournal struct {
	mu   sync.Mutex
	work map[string]int // "<execution>/<action>" -> times the work was done
	bad  []string
}

func (j *jobJournal) record(exec, action string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if exec == "" || action == "" {
		j.bad = append(j.bad, fmt.Sprintf("job without execution or action (%q, %q)", exec, action))
		return
	}
	j.work[exec+"/"+action]++
}

func (j *jobJournal) count(exec, action string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.work[exec+"/"+action]
}

// runJobWorker polls for jobs of one custom action type until ctx ends:
// it acknowledges each job, does its work (records it in the journal)
// and reports success, retrying each call across server restarts.
func runJobWorker(ctx context.Context, c *codepipeline.Client, typ *types.ActionTypeId, j *jobJournal) {
	for ctx.Err() == nil {
		out, err := c.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(3)})
		if err != nil || len(out.Jobs) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		for _, job := range out.Jobs {
			var ack *codepipeline.AcknowledgeJobOutput
			if err := persist(ctx, func() (err error) {
				ack, err = c.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: job.Id, Nonce: job.Nonce})
				return err
			}); err != nil || ack.Status != types.JobStatusInProgress {
				continue // offered to another worker meanwhile: not ours
			}
			pc := job.Data.PipelineContext
			j.record(aws.ToString(pc.PipelineExecutionId), aws.ToString(pc.Action.Name))
			time.Sleep(time.Duration(rand.IntN(100)) * time.Millisecond)
			_ = persist(ctx, func() error {
				_, err := c.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: job.Id,
					CurrentRevision:  &types.CurrentRevision{Revision: aws.String("r-" + aws.ToString(job.Id)), ChangeIdentifier: aws.String("c")},
					ExecutionDetails: &types.ExecutionDetails{Summary: aws.String("done by the drill worker")}})
				return err
			})
		}
	}
}

// Drill 1: the server is SIGKILLed at random moments, 20 times, while
// pipeline executions (custom actions run by job workers in the test) and
// deployments to real agents go on; it restarts on the same data dir each
// time. Every execution and deployment the API acknowledged ends
// Succeeded, and no action's work is done twice for one execution.
func TestDrillServerKill(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := newServer(t, filepath.Join(root, "data"), "--workers", "0", "--job-timeout", "2m", "--agent-lease", "20s")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cp, cd := s.cp(1), s.cd(1)
	mustCP := func(what string, fn func() error) {
		t.Helper()
		if err := persist(ctx, fn); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, s.tail())
		}
	}

	srcType := &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerCustom, Provider: aws.String("DrillSource"), Version: aws.String("1")}
	buildType := &types.ActionTypeId{Category: types.ActionCategoryBuild, Owner: types.ActionOwnerCustom, Provider: aws.String("DrillBuild"), Version: aws.String("1")}
	for _, in := range []*codepipeline.CreateCustomActionTypeInput{customType(types.ActionCategorySource, "DrillSource", 0, 1), customType(types.ActionCategoryBuild, "DrillBuild", 1, 0)} {
		mustCP("CreateCustomActionType", func() error { _, err := cp.CreateCustomActionType(ctx, in); return err })
	}
	pipelines := []string{"KillQueued", "KillParallel", "KillQueuedToo"}
	started := map[string]string{} // execution -> pipeline
	for i, mode := range []types.ExecutionMode{types.ExecutionModeQueued, types.ExecutionModeParallel, types.ExecutionModeQueued} {
		decl := pipelineDecl(pipelines[i], mode,
			customAction("Fetch", types.ActionCategorySource, "DrillSource", nil, []string{"Code"}),
			customAction("Build", types.ActionCategoryBuild, "DrillBuild", []string{"Code"}, nil),
			customAction("Check", types.ActionCategoryBuild, "DrillBuild", []string{"Code"}, nil))
		mustCP("CreatePipeline", func() error {
			_, err := cp.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl})
			return err
		})
		// CreatePipeline starts the first execution.
		eventually(t, 10*time.Second, "the first execution of "+pipelines[i], func() (bool, string) {
			out, err := cp.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(pipelines[i])})
			if err != nil || len(out.PipelineExecutionSummaries) == 0 {
				return false, fmt.Sprint(err)
			}
			started[aws.ToString(out.PipelineExecutionSummaries[0].PipelineExecutionId)] = pipelines[i]
			return true, ""
		})
	}

	// Two agents, one deployment group over both.
	agents := []*agentProc{newAgent(t, s, "kill-a", "", 2*time.Second), newAgent(t, s, "kill-b", "", 2*time.Second)}
	deployGroup(t, cd, "killapp", "fleet", "CodeDeployDefault.AllAtOnce", "kill-a", "kill-b")
	var revs []*cdtypes.RevisionLocation
	for v := range 3 {
		revs = append(revs, pushBundle(t, s, "killapp", writeTree(t, appBundle(fmt.Sprintf("v%d", v), "0.3")), fmt.Sprintf("drill-bundles/kill-v%d.zip", v)))
	}

	journal := &jobJournal{work: map[string]int{}}
	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, typ := range []*types.ActionTypeId{srcType, srcType, buildType, buildType} {
		wg.Go(func() { runJobWorker(wctx, cp, typ, journal) })
	}
	defer func() { stopWorkers(); wg.Wait() }()

	var deployments []string
	deploymentActive := func() bool {
		if len(deployments) == 0 {
			return false
		}
		out, err := cd.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(deployments[len(deployments)-1])})
		if err != nil {
			return true
		}
		switch out.DeploymentInfo.Status {
		case cdtypes.DeploymentStatusSucceeded, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			return false
		}
		return true
	}
	const iterations = 20
	for i := range iterations {
		// New work: executions (acknowledged once StartPipelineExecution
		// returns an ID) and a deployment when the last one has ended.
		for range 2 {
			name := pipelines[rand.IntN(len(pipelines))]
			out, err := cp.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String(name)})
			if err != nil {
				t.Fatalf("StartPipelineExecution: %v", err)
			}
			started[aws.ToString(out.PipelineExecutionId)] = name
		}
		if !deploymentActive() {
			out, err := cd.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("killapp"),
				DeploymentGroupName: aws.String("fleet"), Revision: revs[len(deployments)%len(revs)]})
			if err != nil {
				t.Fatalf("CreateDeployment: %v", err)
			}
			deployments = append(deployments, aws.ToString(out.DeploymentId))
		}
		time.Sleep(time.Duration(100+rand.IntN(900)) * time.Millisecond)
		s.kill()
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		s.start()
		t.Logf("kill %d/%d: %d executions, %d deployments started", i+1, iterations, len(started), len(deployments))
	}

	// Everything acknowledged ends: executions Succeeded, deployments
	// Succeeded.
	var pending []string
	eventually(t, 150*time.Second, "every execution to succeed", func() (bool, string) {
		pending = pending[:0]
		for id, name := range started {
			out, err := cp.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(name), PipelineExecutionId: aws.String(id)})
			if err != nil {
				pending = append(pending, id+": "+err.Error())
				continue
			}
			switch st := out.PipelineExecution.Status; st {
			case types.PipelineExecutionStatusSucceeded:
			case types.PipelineExecutionStatusInProgress:
				pending = append(pending, id+" "+string(st))
			default:
				t.Fatalf("execution %s of %s ended %s: %s\n%s", id, name, st, aws.ToString(out.PipelineExecution.StatusSummary), s.tail())
			}
		}
		return len(pending) == 0, strings.Join(pending, "; ")
	})
	for _, id := range deployments {
		d := waitDeployment(t, cd, id, 90*time.Second)
		if d.Status != cdtypes.DeploymentStatusSucceeded {
			t.Errorf("deployment %s ended %s (%+v)\n%s", id, d.Status, d.ErrorInformation, describeInstances(t, cd, id))
		}
	}
	stopWorkers()
	wg.Wait()

	// No action's work was done twice for one execution, and every
	// succeeded execution had each action's work done once.
	journal.mu.Lock()
	defer journal.mu.Unlock()
	for _, b := range journal.bad {
		t.Error(b)
	}
	for key, n := range journal.work {
		if n != 1 {
			t.Errorf("the work of %s was done %d times", key, n)
		}
	}
	for id := range started {
		for _, action := range []string{"Fetch", "Build", "Check"} {
			if n := journal.work[id+"/"+action]; n != 1 {
				t.Errorf("execution %s succeeded with the work of %s done %d times", id, action, n)
			}
		}
	}
	// Each lifecycle hook ran at most once per deployment and instance.
	for _, a := range agents {
		b, err := os.ReadFile(filepath.Join(a.install, "hooks.log"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if line == "" {
				continue
			}
			if seen[line] {
				t.Errorf("%s: hook %q ran twice", a.name, line)
			}
			seen[line] = true
		}
		for _, id := range deployments {
			if !seen[id+" ApplicationStart"] {
				t.Errorf("%s: deployment %s succeeded without running ApplicationStart", a.name, id)
			}
		}
	}
	t.Logf("%d executions and %d deployments survived %d kills; %d action runs recorded", len(started), len(deployments), iterations, len(journal.work))
}
