package server_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/auth"
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
