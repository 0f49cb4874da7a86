package drills

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/artifact"
)

// workerProc is a `slipway worker` process.
type workerProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startWorker(t *testing.T, s *serverProc, root, name string) *workerProc {
	t.Helper()
	logf, err := os.Create(filepath.Join(root, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: exec.Command(bins.slipway, "worker", "--endpoint", s.url(), "--data-dir", s.dir, "--concurrency", "1",
		"--poll", "100ms", "--heartbeat", "500ms", "--work-dir", filepath.Join(root, name+"-work"),
		"--artifact-dir", filepath.Join(s.dir, artifact.FSDirName)), done: make(chan struct{})}
	w.cmd.Stdout, w.cmd.Stderr = logf, logf
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.cmd.Wait(); logf.Close(); close(w.done) }()
	t.Cleanup(func() { w.kill() })
	return w
}

func (w *workerProc) kill() {
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.done
}

// completeSourceJob claims the custom source job, stores files as its
// output artifact and reports success with revision.
func completeSourceJob(t *testing.T, s *serverProc, cp *codepipeline.Client, provider string, files map[string]string, revision string) {
	t.Helper()
	ctx := context.Background()
	typ := &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerCustom, Provider: aws.String(provider), Version: aws.String("1")}
	var job types.Job
	eventually(t, 15*time.Second, "a source job", func() (bool, string) {
		out, err := cp.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(1)})
		if err != nil {
			return false, err.Error()
		}
		if len(out.Jobs) == 0 {
			return false, "no job"
		}
		job = out.Jobs[0]
		return true, ""
	})
	if _, err := cp.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: job.Id, Nonce: job.Nonce}); err != nil {
		t.Fatalf("AcknowledgeJob: %v", err)
	}
	loc := job.Data.OutputArtifacts[0].Location.S3Location
	fs, err := artifact.NewFSStore(filepath.Join(s.dir, artifact.FSDirName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Put(ctx, aws.ToString(loc.BucketName), aws.ToString(loc.ObjectKey), bytes.NewReader(zipFiles(t, files))); err != nil {
		t.Fatalf("store the source artifact: %v", err)
	}
	if _, err := cp.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: job.Id,
		CurrentRevision: &types.CurrentRevision{Revision: aws.String(revision), ChangeIdentifier: aws.String(revision)}}); err != nil {
		t.Fatalf("PutJobSuccessResult: %v", err)
	}
}

func waitExecution(t *testing.T, s *serverProc, cp *codepipeline.Client, pipeline, id string, within time.Duration, want types.PipelineExecutionStatus) *types.PipelineExecution {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.tail())
		}
	}()
	var pe *types.PipelineExecution
	eventually(t, within, "execution "+id+" to be "+string(want), func() (bool, string) {
		out, err := cp.GetPipelineExecution(context.Background(), &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(pipeline), PipelineExecutionId: aws.String(id)})
		if err != nil {
			return false, err.Error()
		}
		pe = out.PipelineExecution
		if pe.Status != types.PipelineExecutionStatusInProgress && pe.Status != want {
			t.Fatalf("execution %s is %s (%s), want %s", id, pe.Status, aws.ToString(pe.StatusSummary), want)
		}
		return pe.Status == want, string(pe.Status)
	})
	return pe
}

// Drill 4: a `slipway worker` process is SIGKILLed while it runs a
// CodeBuild action that sleeps. The server's heartbeat lease (short, via
// --heartbeat-lease) times the job out, so the action and the execution
// fail instead of staying InProgress; a new worker then runs the retried
// action to success.
func TestDrillWorkerKilled(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := newServer(t, filepath.Join(root, "data"), "--workers", "0", "--heartbeat-lease", "3s", "--job-timeout", "10m")
	cp := s.cp(3)
	ctx := context.Background()
	if _, err := cp.CreateCustomActionType(ctx, customType(types.ActionCategorySource, "DrillSrc", 0, 1)); err != nil {
		t.Fatalf("CreateCustomActionType: %v", err)
	}
	marks := filepath.Join(root, "marks")
	if err := os.MkdirAll(marks, 0o755); err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(marks, "slow")
	if err := os.WriteFile(slow, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The build sleeps in the background and records its PID, so that the
	// orphaned sleep can be ended after its worker is killed.
	buildspec := fmt.Sprintf(`version: 0.2
phases:
  build:
    commands:
      - echo "build $CODEBUILD_BUILD_NUMBER" >> %[1]s/builds.log
      - |
        if [ -f %[1]s/slow ]; then
          sleep 60 &
          echo $! > %[1]s/sleep.pid
          touch %[1]s/sleeping
          wait
        fi
`, marks)
	killOrphan := func() {
		if b, err := os.ReadFile(filepath.Join(marks, "sleep.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	t.Cleanup(killOrphan)
	build := types.ActionDeclaration{
		Name:           aws.String("Compile"),
		ActionTypeId:   &types.ActionTypeId{Category: types.ActionCategoryBuild, Owner: types.ActionOwnerAws, Provider: aws.String("CodeBuild"), Version: aws.String("1")},
		Configuration:  map[string]string{"ProjectName": "drill"},
		InputArtifacts: []types.InputArtifact{{Name: aws.String("Code")}},
		RunOrder:       aws.Int32(1),
	}
	decl := pipelineDecl("WorkerKill", types.ExecutionModeQueued, customAction("Fetch", types.ActionCategorySource, "DrillSrc", nil, []string{"Code"}), build)
	if _, err := cp.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	var execID string
	eventually(t, 10*time.Second, "the first execution", func() (bool, string) {
		out, err := cp.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: decl.Name})
		if err != nil || len(out.PipelineExecutionSummaries) == 0 {
			return false, fmt.Sprint(err)
		}
		execID = aws.ToString(out.PipelineExecutionSummaries[0].PipelineExecutionId)
		return true, ""
	})
	completeSourceJob(t, s, cp, "DrillSrc", map[string]string{"buildspec.yml": buildspec}, "rev-1")

	retry := func() {
		t.Helper()
		if _, err := cp.RetryStageExecution(ctx, &codepipeline.RetryStageExecutionInput{PipelineName: decl.Name, PipelineExecutionId: aws.String(execID),
			StageName: aws.String("SCompile"), RetryMode: types.StageRetryModeFailedActions}); err != nil {
			t.Fatalf("RetryStageExecution: %v", err)
		}
	}
	// Round 1 kills the worker as soon as the build sleeps, most likely
	// before its first heartbeat (every 500 ms): the heartbeat lease (3 s),
	// not the job timeout (10 minutes), holds a built-in action's job from
	// its acknowledgement. Round 2 kills it after several heartbeats.
	for round, wait := range []time.Duration{0, 2 * time.Second} {
		if round > 0 {
			if err := os.Remove(filepath.Join(marks, "sleeping")); err != nil {
				t.Fatal(err)
			}
			retry()
		}
		w := startWorker(t, s, root, fmt.Sprintf("worker%d", round+1))
		eventually(t, 30*time.Second, "the build to sleep", func() (bool, string) {
			_, err := os.Stat(filepath.Join(marks, "sleeping"))
			return err == nil, fmt.Sprint(err)
		})
		time.Sleep(wait)
		w.kill()
		killed := time.Now()
		killOrphan()

		// The heartbeat lease ends the job: the execution fails, not hangs.
		pe := waitExecution(t, s, cp, "WorkerKill", execID, 30*time.Second, types.PipelineExecutionStatusFailed)
		t.Logf("round %d: the execution failed %s after the worker was killed: %s", round+1, time.Since(killed).Round(100*time.Millisecond), aws.ToString(pe.StatusSummary))
		acts, err := cp.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: decl.Name,
			Filter: &types.ActionExecutionFilter{PipelineExecutionId: aws.String(execID)}})
		if err != nil {
			t.Fatalf("ListActionExecutions: %v", err)
		}
		timedOut := 0
		for _, d := range acts.ActionExecutionDetails {
			if aws.ToString(d.ActionName) == "Compile" && d.Status == types.ActionExecutionStatusFailed && d.Output != nil &&
				d.Output.ExecutionResult != nil && d.Output.ExecutionResult.ErrorDetails != nil &&
				strings.Contains(aws.ToString(d.Output.ExecutionResult.ErrorDetails.Message), "timed out") {
				timedOut++
				if timedOut == 1 {
					t.Logf("the action's error: %s", aws.ToString(d.Output.ExecutionResult.ErrorDetails.Message))
				}
			}
		}
		if timedOut != round+1 {
			t.Errorf("round %d: %d Compile runs failed with a timeout, want %d", round+1, timedOut, round+1)
		}
	}

	// A new worker runs the retried action.
	if err := os.Remove(slow); err != nil {
		t.Fatal(err)
	}
	startWorker(t, s, root, "worker3")
	retry()
	waitExecution(t, s, cp, "WorkerKill", execID, 60*time.Second, types.PipelineExecutionStatusSucceeded)
	builds, err := os.ReadFile(filepath.Join(marks, "builds.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(builds), "build "); n != 3 {
		t.Errorf("the build ran %d times, want 3 (two killed, one retry):\n%s", n, builds)
	}
}
