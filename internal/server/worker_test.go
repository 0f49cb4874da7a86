package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

const remoteBuildspec = `version: 0.2
env:
  exported-variables:
    - IMAGE_TAG
phases:
  build:
    commands:
      - echo "remote build of $CODEBUILD_RESOLVED_SOURCE_VERSION"
      - mkdir -p dist && cp input.txt dist/ && echo built > dist/out.txt
      - export IMAGE_TAG=remote-$CODEBUILD_RESOLVED_SOURCE_VERSION
artifacts:
  base-directory: dist
  files:
    - '**/*'
`

// A server without embedded workers (--workers 0) and a `slipway worker`
// process: the worker runs the CodeBuild action over the API, with the
// server's filesystem artifact store; the build's log reaches the server;
// SIGTERM stops an idle worker at once, with exit status 0.
func TestRemoteWorker(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	bin := buildBinary(t, "cmd/slipway")
	p := &serverProc{t: t, bin: bin, dir: filepath.Join(root, "data"), addr: freeAddr(t)}
	p.start("--workers", "0")
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.kill()
		}
	})
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(p.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{dir: p.dir, url: "http://" + p.addr, client: newClient("http://"+p.addr, id, secret)}
	ext := extClient(t, b)

	// The worker process.
	workerLog := filepath.Join(root, "worker.log")
	lf, err := os.Create(workerLog)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	w := exec.Command(bin, "worker", "--endpoint", b.url, "--data-dir", p.dir, "--concurrency", "2", "--poll", "100ms",
		"--heartbeat", "1s", "--work-dir", filepath.Join(root, "work"), "--labels", "linux,test",
		"--artifact-dir", filepath.Join(p.dir, artifact.FSDirName))
	w.Stdout, w.Stderr = lf, lf
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = w.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = w.Process.Kill()
			<-exited
		}
	})
	logs := func() string {
		wl, _ := os.ReadFile(workerLog)
		sl, _ := os.ReadFile(p.stderr.Name())
		return "worker log:\n" + string(wl) + "\nserver log:\n" + string(sl)
	}

	sourceType(t, b, "RemoteSrc")
	execID := startPipeline(t, b, buildPipeline("Remote", "RemoteSrc", codeBuildAction("remote", nil, "BuildOut")))
	completeSource(t, b, "RemoteSrc", map[string]string{"buildspec.yml": remoteBuildspec, "input.txt": "from the source\n"}, "rev-42")
	func() {
		defer func() {
			if t.Failed() {
				t.Log(logs())
			}
		}()
		waitExecution(t, b.client, "Remote", execID, types.PipelineExecutionStatusSucceeded)
	}()

	d := actionExecution(t, b, "Remote", "Compile")
	if tag := d.Output.OutputVariables["IMAGE_TAG"]; tag != "remote-rev-42" {
		t.Errorf("output variables = %v, want IMAGE_TAG=remote-rev-42", d.Output.OutputVariables)
	}
	if d.Output.ExecutionResult == nil || !strings.Contains(aws.ToString(d.Output.ExecutionResult.ExternalExecutionSummary), "SUCCEEDED") {
		t.Errorf("execution result = %+v, want the build's summary", d.Output.ExecutionResult)
	}
	loc := d.Output.OutputArtifacts[0].S3location
	fs, err := artifact.NewFSStore(filepath.Join(p.dir, artifact.FSDirName))
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := fs.Get(context.Background(), aws.ToString(loc.Bucket), aws.ToString(loc.Key))
	if err != nil {
		t.Fatalf("read the output artifact: %v", err)
	}
	data, _ := io.ReadAll(r)
	r.Close()
	if files := unzipFiles(t, data); files["input.txt"] != "from the source\n" || files["out.txt"] != "built\n" {
		t.Errorf("output artifact = %v, want input.txt and out.txt", files)
	}
	if log := fullLog(t, ext, aws.ToString(d.ActionExecutionId)); !strings.Contains(log, "remote build of rev-42") {
		t.Errorf("build log lacks the build's output:\n%s", log)
	}

	// The build ran in the worker, not in the server.
	wl, _ := os.ReadFile(workerLog)
	sl, _ := os.ReadFile(p.stderr.Name())
	if !strings.Contains(string(wl), "job succeeded") || !strings.Contains(string(wl), "labels=linux,test") {
		t.Errorf("the worker's log shows no job or no labels:\n%s", wl)
	}
	if strings.Contains(string(sl), "job succeeded") {
		t.Errorf("the server ran a job itself:\n%s", sl)
	}

	// SIGTERM while idle: the worker exits 0 promptly.
	if err := w.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("worker exited with %v after SIGTERM, want status 0\n%s", waitErr, logs())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("worker did not exit within 10s of SIGTERM\n%s", logs())
	}
}

// workerProc is a `slipway worker` process.
type workerProc struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// startWorker starts a `slipway worker` with labels for the server at url
// with data directory dir, logging to <root>/<name>.log; it is killed at
// the test's end.
func startWorker(t *testing.T, bin, url, dir, root, name, labels string) *workerProc {
	t.Helper()
	w := &workerProc{log: filepath.Join(root, name+".log"), exited: make(chan struct{})}
	lf, err := os.Create(w.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lf.Close() })
	w.cmd = exec.Command(bin, "worker", "--endpoint", url, "--data-dir", dir, "--concurrency", "2", "--poll", "100ms",
		"--heartbeat", "1s", "--work-dir", filepath.Join(root, name+"-work"), "--labels", labels,
		"--artifact-dir", filepath.Join(dir, artifact.FSDirName))
	w.cmd.Stdout, w.cmd.Stderr = lf, lf
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() {
		select {
		case <-w.exited:
		default:
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
	})
	return w
}

func (w *workerProc) output() string {
	b, _ := os.ReadFile(w.log)
	return string(b)
}

const gpuBuildspec = `version: 0.2
env:
  exported-variables:
    - BUILD_NUM
phases:
  build:
    commands:
      - echo "gpu build $CODEBUILD_BUILD_NUMBER with $MODEL_DIR"
      - echo "the token is $GPU_TOKEN"
      - mkdir -p dist
      - printf '%s' "$GPU_TOKEN" | sha256sum | cut -d' ' -f1 > dist/token.sha256
      - echo "$MODEL_DIR" > dist/model.txt
      - export BUILD_NUM=$CODEBUILD_BUILD_NUMBER
artifacts:
  base-directory: dist
  files:
    - '**/*'
`

// Label routing and remote build projects: a build project with
// WorkerLabels [gpu] waits while only workers without gpu poll (a remote
// worker and the embedded workers, which have --worker-labels linux) and
// runs on a remote worker with gpu, which reads the project's variables,
// its secret and build numbers from the server for the job it holds. On
// SQLite and on PostgreSQL.
func TestRemoteWorkerLabelsAndBuildProjects(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		remoteLabelsScenario(t)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		remoteLabelsScenario(t, "--database", postgresTestDB(t))
	})
}

func remoteLabelsScenario(t *testing.T, serverArgs ...string) {
	ctx := context.Background()
	root := t.TempDir()
	bin := buildBinary(t, "cmd/slipway")
	p := &serverProc{t: t, bin: bin, dir: filepath.Join(root, "data"), addr: freeAddr(t)}
	p.start(append([]string{"--workers", "1", "--worker-labels", "linux"}, serverArgs...)...)
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.kill()
		}
	})
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(p.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{dir: p.dir, url: "http://" + p.addr, client: newClient("http://"+p.addr, id, secret)}
	ext := extClient(t, b)
	cpu := startWorker(t, bin, b.url, p.dir, root, "cpu-worker", "linux,big")
	var gpu *workerProc
	logs := func() string {
		sl, _ := os.ReadFile(p.stderr.Name())
		out := "cpu worker log:\n" + cpu.output() + "\nserver log:\n" + string(sl)
		if gpu != nil {
			out += "\ngpu worker log:\n" + gpu.output()
		}
		return out
	}
	defer func() {
		if t.Failed() {
			t.Log(logs())
		}
	}()

	const token = "tok-gpu-5c1e7a"
	if _, err := ext.PutSecret(ctx, &slipwayapi.PutSecretInput{Name: "gpu-token", Value: token}); err != nil {
		t.Fatalf("PutSecret: %v", err)
	}
	if _, err := ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{
		Name: "train", Buildspec: gpuBuildspec, WorkerLabels: []string{"gpu"},
		EnvironmentVariables: []slipwayapi.BuildEnvironmentVariable{
			{Name: "MODEL_DIR", Value: "/models/v7"},
			{Name: "GPU_TOKEN", Value: "gpu-token", Type: slipwayapi.EnvTypeSecret},
		},
	}}); err != nil {
		t.Fatalf("CreateBuildProject: %v", err)
	}

	// The labelled build is queued first.
	sourceType(t, b, "GpuSrc")
	gpuExec := startPipeline(t, b, buildPipeline("Train", "GpuSrc", codeBuildAction("train", nil, "Model")))

	// The source job of the pipeline: the job build operations refuse it.
	srcType := &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerCustom, Provider: aws.String("GpuSrc"), Version: aws.String("1")}
	var src types.Job
	eventually(t, "the source job", func() (bool, string) {
		out, err := b.client.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: srcType})
		if err != nil {
			t.Fatalf("PollForJobs: %v", err)
		}
		if len(out.Jobs) == 0 {
			return false, "no job"
		}
		src = out.Jobs[0]
		return true, ""
	})
	claim := slipwayapi.JobClaim{JobID: aws.ToString(src.Id), Nonce: aws.ToString(src.Nonce)}
	_, err = ext.GetJobBuildProject(ctx, &slipwayapi.GetJobBuildProjectInput{JobClaim: claim})
	wantExtError(t, err, "InvalidJobStateException", "acknowledged")
	if _, err := b.client.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: src.Id, Nonce: src.Nonce}); err != nil {
		t.Fatalf("AcknowledgeJob: %v", err)
	}
	_, err = ext.GetJobBuildProject(ctx, &slipwayapi.GetJobBuildProjectInput{JobClaim: claim})
	wantExtError(t, err, "InvalidJobException", "not a CodeBuild build")
	_, err = ext.GetJobSecret(ctx, &slipwayapi.GetJobSecretInput{JobClaim: claim, Name: "gpu-token"})
	wantExtError(t, err, "InvalidJobException", "uses no secrets")
	_, err = ext.NextJobBuildNumber(ctx, &slipwayapi.NextJobBuildNumberInput{JobClaim: slipwayapi.JobClaim{JobID: claim.JobID, Nonce: "not-the-nonce"}})
	wantExtError(t, err, "InvalidNonceException", "nonce does not match")
	_, err = ext.GetJobSecret(ctx, &slipwayapi.GetJobSecretInput{JobClaim: slipwayapi.JobClaim{JobID: "no-such-job", Nonce: "n"}, Name: "gpu-token"})
	wantExtError(t, err, "JobNotFoundException", "no-such-job")
	_, err = ext.GetJobSecret(ctx, &slipwayapi.GetJobSecretInput{JobClaim: slipwayapi.JobClaim{JobID: claim.JobID}, Name: "gpu-token"})
	wantExtError(t, err, "ValidationException", "nonce")
	putSource(t, b, src, map[string]string{"README": "weights\n"}, "rev-g1")

	waitAction(t, b.client, "Train", "Build", "Compile", types.ActionExecutionStatusInProgress)

	// An unlabelled build queued after it runs on a worker without gpu,
	// which skipped the older labelled job.
	sourceType(t, b, "CpuSrc")
	cpuExec := startPipeline(t, b, buildPipeline("Lint", "CpuSrc", codeBuildAction("lint", nil)))
	completeSource(t, b, "CpuSrc", map[string]string{"buildspec.yml": "version: 0.2\nphases:\n  build:\n    commands:\n      - echo lint ok\n"}, "rev-c1")
	waitExecution(t, b.client, "Lint", cpuExec, types.PipelineExecutionStatusSucceeded)
	if st := actionState(pipelineState(t, b.client, "Train"), "Build", "Compile"); st.LatestExecution == nil ||
		st.LatestExecution.Status != types.ActionExecutionStatusInProgress || st.LatestExecution.ExternalExecutionId != nil {
		t.Fatalf("the gpu build = %+v, want it still waiting for a worker with gpu", st.LatestExecution)
	}
	buildType := &types.ActionTypeId{Category: types.ActionCategoryBuild, Owner: types.ActionOwnerAws, Provider: aws.String("CodeBuild"), Version: aws.String("1")}
	for _, labels := range []string{"", "linux,big", "GPU"} {
		var opts []func(*codepipeline.Options)
		if labels != "" {
			opts = append(opts, codepipeline.WithAPIOptions(smithyhttp.SetHeaderValue(slipwayapi.WorkerLabelsHeader, labels)))
		}
		out, err := b.client.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: buildType, MaxBatchSize: aws.Int32(5)}, opts...)
		if err != nil || len(out.Jobs) != 0 {
			t.Fatalf("PollForJobs with labels %q = %v, %v; want no job", labels, out, err)
		}
	}
	_, err = b.client.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: buildType},
		codepipeline.WithAPIOptions(smithyhttp.SetHeaderValue(slipwayapi.WorkerLabelsHeader, "gpu,bad label")))
	wantAPIError(t, err, "ValidationException", "X-Slipway-Worker-Labels")

	// A worker with gpu takes it.
	gpu = startWorker(t, bin, b.url, p.dir, root, "gpu-worker", "gpu, linux")
	waitExecution(t, b.client, "Train", gpuExec, types.PipelineExecutionStatusSucceeded)
	d := actionExecution(t, b, "Train", "Compile")
	if n := d.Output.OutputVariables["BUILD_NUM"]; n != "1" {
		t.Errorf("first build number = %q, want 1", n)
	}
	loc := d.Output.OutputArtifacts[0].S3location
	fs, err := artifact.NewFSStore(filepath.Join(p.dir, artifact.FSDirName))
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := fs.Get(ctx, aws.ToString(loc.Bucket), aws.ToString(loc.Key))
	if err != nil {
		t.Fatalf("read the output artifact: %v", err)
	}
	data, _ := io.ReadAll(r)
	r.Close()
	sum := sha256.Sum256([]byte(token))
	if files := unzipFiles(t, data); files["token.sha256"] != hex.EncodeToString(sum[:])+"\n" || files["model.txt"] != "/models/v7\n" {
		t.Errorf("output artifact = %v, want the secret's hash and the project's variable", files)
	}
	log := fullLog(t, ext, aws.ToString(d.ActionExecutionId))
	for _, want := range []string{"gpu build 1 with /models/v7", "the token is ***"} {
		if !strings.Contains(log, want) {
			t.Errorf("build log lacks %q:\n%s", want, log)
		}
	}
	sl, _ := os.ReadFile(p.stderr.Name())
	for what, text := range map[string]string{"build log": log, "gpu worker log": gpu.output(), "server log": string(sl)} {
		if strings.Contains(text, token) {
			t.Errorf("the %s shows the secret in clear", what)
		}
	}
	if !strings.Contains(gpu.output(), "job succeeded") {
		t.Errorf("the gpu worker ran no job")
	}
	if strings.Contains(cpu.output(), "Train") {
		t.Errorf("the cpu worker touched the gpu build")
	}

	// Build numbers go on increasing.
	if _, err := b.client.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("Train")}); err != nil {
		t.Fatalf("StartPipelineExecution: %v", err)
	}
	completeSource(t, b, "GpuSrc", map[string]string{"README": "weights 2\n"}, "rev-g2")
	eventually(t, "the second gpu build", func() (bool, string) {
		d2 := actionExecution(t, b, "Train", "Compile")
		return d2.Status == types.ActionExecutionStatusSucceeded && aws.ToString(d2.ActionExecutionId) != aws.ToString(d.ActionExecutionId), string(d2.Status)
	})
	if n := actionExecution(t, b, "Train", "Compile").Output.OutputVariables["BUILD_NUM"]; n != "2" {
		t.Errorf("second build number = %q, want 2", n)
	}
}

// putSource stores files as the output artifact of an acknowledged source
// job and reports success with revision.
func putSource(t *testing.T, b *bundle, job types.Job, files map[string]string, revision string) {
	t.Helper()
	ctx := context.Background()
	loc := job.Data.OutputArtifacts[0].Location.S3Location
	fs, err := artifact.NewFSStore(filepath.Join(b.dir, artifact.FSDirName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Put(ctx, aws.ToString(loc.BucketName), aws.ToString(loc.ObjectKey), bytes.NewReader(zipFiles(t, files))); err != nil {
		t.Fatalf("store the source artifact: %v", err)
	}
	if _, err := b.client.PutJobSuccessResult(ctx, &codepipeline.PutJobSuccessResultInput{JobId: job.Id,
		CurrentRevision: &types.CurrentRevision{Revision: aws.String(revision), ChangeIdentifier: aws.String(revision)}}); err != nil {
		t.Fatalf("PutJobSuccessResult: %v", err)
	}
}
