package cli_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/demo"
	"github.com/slipway-cd/slipway/internal/demo/demotest"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// buildSlipway builds cmd/slipway into a temporary directory.
func buildSlipway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "slipway")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/slipway-cd/slipway/cmd/slipway").CombinedOutput(); err != nil {
		t.Fatalf("build slipway: %v\n%s", err, out)
	}
	return bin
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

// waitOutput waits until out contains want or the process exits.
func waitOutput(t *testing.T, out *syncBuffer, exited <-chan struct{}, want string) {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	for !strings.Contains(out.String(), want) {
		select {
		case <-exited:
			t.Fatalf("slipway demo exited before printing %q:\n%s", want, out)
		case <-deadline:
			t.Fatalf("slipway demo did not print %q:\n%s", want, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// slipway demo as a real process: it prints how to use it, its pipeline
// runs the pushed commit up to the approval, the approval through
// `slipway pipeline approve` deploys the app to both agents, and SIGINT
// stops it cleanly.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	demotest.RequireGit(t)
	bin := buildSlipway(t)
	dir := filepath.Join(t.TempDir(), "slipway-demo")
	addr := freeAddr(t)
	endpoint := "http://" + addr

	var stdout, stderr syncBuffer
	cmd := exec.Command(bin, "demo", "--data-dir", dir, "--listen", addr)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	waitOutput(t, &stdout, exited, "Progress")
	out := stdout.String()
	m := regexp.MustCompile(`pushed release 1, commit ([0-9a-f]{40})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo does not say which commit it pushed:\n%s", out)
	}
	commit := m[1]
	approve := []string{"pipeline", "approve", demo.PipelineName, "--stage", demo.ApprovalStage, "--action", demo.ApprovalAction,
		"--summary", "ship it", "--data-dir", dir, "--endpoint", endpoint}
	for _, want := range []string{
		endpoint + "/console/",
		filepath.Join(dir, "credentials"),
		"pipeline status demo --data-dir " + dir + " --endpoint " + endpoint,
		`pipeline approve demo --stage Approve --action Approval --summary "ship it" --data-dir ` + dir + " --endpoint " + endpoint,
		"deploy list --data-dir " + dir,
		"git clone -c 'credential.helper=!",
		"repo credential-helper --data-dir " + dir + "' " + endpoint + "/git/demo-app",
		"aws codepipeline get-pipeline-state --name demo --endpoint-url " + endpoint,
		"aws codepipeline put-approval-result --pipeline-name demo --stage-name Approve --action-name Approval",
		"aws deploy list-deployments --application-name demo-app --deployment-group-name demo-fleet",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the instructions lack %q:\n%s", want, out)
		}
	}

	c := demotest.NewClients(t, endpoint, dir)
	x := c.WaitForApproval(t, commit)
	waitOutput(t, &stdout, exited, "waiting for your approval")
	help, _ := exec.Command(bin, "pipeline", "approve", "--help").CombinedOutput()
	if strings.Contains(string(help), "--summary") {
		if res, err := exec.Command(bin, approve...).CombinedOutput(); err != nil {
			t.Fatalf("slipway %s: %v\n%s", strings.Join(approve, " "), err, res)
		}
	} else {
		c.Approve(t, x)
	}
	deployment := c.WaitForSuccess(t, x)
	for _, name := range demo.InstanceNames {
		install := filepath.Join(dir, "demo", "agents", name, "install")
		demotest.CheckInstalled(t, demo.Agent{Name: name, InstallDir: install}, "1", commit, deployment)
	}
	waitOutput(t, &stdout, exited, "deployed to demo-1 and demo-2")

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatalf("slipway demo did not stop after SIGINT:\n%s", stdout.String())
	}
	if waitErr != nil {
		t.Fatalf("slipway demo exited with %v\nstdout:\n%s\nstderr:\n%s", waitErr, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "Stopped.") {
		t.Errorf("no stop message:\n%s", stdout.String())
	}
	if s := stderr.String(); s != "" {
		t.Errorf("stderr is not empty:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo", "server.log")); err != nil {
		t.Errorf("server log: %v", err)
	}
}
