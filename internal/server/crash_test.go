package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
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

	"github.com/slipway-cd/slipway/internal/auth"
)

// serverProc is a slipway server running as a real process.
type serverProc struct {
	t      *testing.T
	bin    string
	dir    string
	addr   string
	cmd    *exec.Cmd
	stderr *os.File
	log    string // the server's output; default <dir>/../server.log
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (p *serverProc) start(extra ...string) {
	p.t.Helper()
	p.launch(extra...)
	p.waitHealthy()
}

// launch starts the server process without waiting for it.
func (p *serverProc) launch(extra ...string) {
	p.t.Helper()
	args := append([]string{"server", "--listen", p.addr, "--data-dir", p.dir, "--sweep-interval", "100ms", "--dispatch-lease", "3s"}, extra...)
	p.cmd = exec.Command(p.bin, args...)
	if p.log == "" {
		p.log = filepath.Join(p.dir, "..", "server.log")
	}
	var err error
	p.stderr, err = os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
}

// waitHealthy waits until the launched server answers /healthz.
func (p *serverProc) waitHealthy() {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("server did not become healthy; log in %s", p.stderr.Name())
}

func (p *serverProc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	_ = p.cmd.Wait()
	p.stderr.Close()
}

// A server killed with SIGKILL while executions run loses nothing: after
// each restart every execution goes on from its stored state, and no job
// is acknowledged twice.
func TestServerCrashRecovery(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	p := &serverProc{t: t, bin: buildBinary(t, "cmd/slipway"), dir: filepath.Join(root, "data"), addr: freeAddr(t)}
	p.start()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.kill()
		}
	})
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(p.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	c := codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + p.addr),
		Credentials: staticCreds(id, secret), RetryMaxAttempts: 10})
	ctx := context.Background()
	for _, in := range []*codepipeline.CreateCustomActionTypeInput{
		customType(types.ActionCategorySource, "ExampleSource", 0, 1), customType(types.ActionCategoryBuild, "ExampleBuild", 1, 1),
	} {
		if _, err := c.CreateCustomActionType(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	const pipelines, perPipeline = 6, 5
	for i := range pipelines {
		decl := workerPipeline(fmt.Sprintf("Crash%d", i))
		decl.Stages = decl.Stages[:2] // Source -> Build, no approval
		decl.PipelineType, decl.ExecutionMode = types.PipelineTypeV2, types.ExecutionModeQueued
		if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl}); err != nil {
			t.Fatal(err)
		}
		for range perPipeline - 1 {
			if _, err := c.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: decl.Name}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Two workers per action type, as real processes, journaling every job
	// they acknowledge.
	journal := filepath.Join(root, "journal")
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	var workers []*exec.Cmd
	for _, typ := range [][2]string{{"Source", "ExampleSource"}, {"Source", "ExampleSource"}, {"Build", "ExampleBuild"}, {"Build", "ExampleBuild"}} {
		cmd := exec.CommandContext(wctx, buildBinary(t, "examples/jobworker"), "-endpoint", "http://"+p.addr,
			"-category", typ[0], "-provider", typ[1], "-log", journal, "-poll", "50ms")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_REGION=us-east-1", "AWS_PROFILE=")
		logf, _ := os.Create(filepath.Join(root, "worker.log"))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		workers = append(workers, cmd)
	}

	// Kill the server five times at random moments while work goes on.
	for i := range 5 {
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		p.kill()
		t.Logf("killed the server (%d), %d jobs journaled so far", i+1, len(readLines(t, journal)))
		p.start()
	}

	total := pipelines * perPipeline
	eventually30 := time.Now().Add(60 * time.Second)
	var states map[string]int
	for time.Now().Before(eventually30) {
		states = map[string]int{}
		for i := range pipelines {
			out, err := c.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(fmt.Sprintf("Crash%d", i))})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.PipelineExecutionSummaries {
				states[string(s.Status)]++
			}
		}
		if states["Succeeded"] == total {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopWorkers()
	for _, w := range workers {
		_ = w.Wait()
	}
	if states["Succeeded"] != total {
		t.Fatalf("executions by status: %v; want all %d Succeeded (server log: %s)", states, total, filepath.Join(root, "server.log"))
	}
	// Each execution ran two actions of two jobs each (start, continuation).
	lines := readLines(t, journal)
	seen := map[string]bool{}
	for _, l := range lines {
		jobID := strings.Fields(l)[0]
		if seen[jobID] {
			t.Errorf("job %s was acknowledged twice", jobID)
		}
		seen[jobID] = true
	}
	if want := total * 2 * 2; len(seen) != want {
		t.Errorf("%d jobs acknowledged, want %d", len(seen), want)
	}
}
