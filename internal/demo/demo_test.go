package demo_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

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

// The demo in this process, three times on one data directory: the first
// start creates everything and pushes release 1, which is built, tested,
// approved and deployed to both agents; the later ones reuse all of it and
// push releases 2 and 3.
func TestDemoRestartsOnOneDataDir(t *testing.T) {
	t.Parallel()
	demotest.RequireGit(t)
	dir := filepath.Join(t.TempDir(), "slipway-demo")
	ctx := context.Background()
	cfg := demo.Config{DataDir: dir, Listen: "127.0.0.1:0", Stdout: &syncBuffer{}, Command: "slipway", SweepInterval: 100 * time.Millisecond}

	d, err := demo.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	if !d.FirstRun || d.Release != "1" || len(d.Commit) != 40 || len(d.Agents) != 2 {
		t.Fatalf("first start: first run %v, release %q, commit %q, %d agents", d.FirstRun, d.Release, d.Commit, len(d.Agents))
	}
	c := demotest.NewClients(t, d.Endpoint, dir)
	x := c.WaitForApproval(t, d.Commit)

	// The build ran the app's tests and reported them.
	acts, err := c.CP.ListActionExecutions(ctx, &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(demo.PipelineName)})
	if err != nil {
		t.Fatal(err)
	}
	var buildSummary string
	for _, a := range acts.ActionExecutionDetails {
		if aws.ToString(a.ActionName) == "Build" && aws.ToString(a.PipelineExecutionId) == x.ID {
			buildSummary = aws.ToString(a.Output.ExecutionResult.ExternalExecutionSummary)
			if got := a.Output.OutputVariables["RELEASE"]; got != "1" {
				t.Errorf("Build output variable RELEASE = %q, want 1", got)
			}
		}
	}
	if !strings.Contains(buildSummary, "Report page-tests: 5 total, 5 passed, 0 failed") {
		t.Errorf("Build summary = %q, want the page-tests report with 5 passed", buildSummary)
	}

	c.Approve(t, x)
	dep1 := c.WaitForSuccess(t, x)
	for _, a := range d.Agents {
		demotest.CheckInstalled(t, a, "1", d.Commit, dep1)
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// Second start: release 2 reaches the approval, and the demo stops
	// before anyone answers.
	d2, err := demo.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	t.Cleanup(func() { _ = d2.Stop() })
	if d2.FirstRun || d2.Release != "2" || d2.Commit == d.Commit {
		t.Fatalf("second start: first run %v, release %q, commit %q (first %q)", d2.FirstRun, d2.Release, d2.Commit, d.Commit)
	}
	if strings.Contains(d2.Instructions(), "waits for approval") {
		t.Errorf("second start: the instructions name an execution waiting for approval:\n%s", d2.Instructions())
	}
	c = demotest.NewClients(t, d2.Endpoint, dir)
	x2 := c.WaitForApproval(t, d2.Commit)
	if err := d2.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	// Third start: release 3 waits behind release 2's approval, and the
	// instructions say so; approving both deploys 2, then 3.
	d3, err := demo.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("third start: %v", err)
	}
	t.Cleanup(func() { _ = d3.Stop() })
	if d3.Release != "3" {
		t.Fatalf("third start: release %q, want 3", d3.Release)
	}
	if want := "Execution " + x2.ID + " of an earlier run waits for approval"; !strings.Contains(d3.Instructions(), want) {
		t.Errorf("third start: the instructions lack %q:\n%s", want, d3.Instructions())
	}
	c = demotest.NewClients(t, d3.Endpoint, dir)
	c.Approve(t, x2)
	dep2 := c.WaitForSuccess(t, x2)
	x3 := c.WaitForApproval(t, d3.Commit)
	c.Approve(t, x3)
	dep3 := c.WaitForSuccess(t, x3)
	for _, a := range d3.Agents {
		demotest.CheckInstalled(t, a, "3", d3.Commit, dep3)
		// ApplicationStop stopped release 2 before release 3 went in.
		stopped, err := os.ReadFile(filepath.Join(a.InstallDir, "var/lib/demo-app/stopped"))
		if err != nil || !strings.Contains(string(stopped), "deployment="+dep2+"\nrelease=2\n") {
			t.Errorf("agent %s: stopped = %q, %v; want release 2's deployment %s", a.Name, stopped, err, dep2)
		}
	}
	if err := d3.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// Start refuses what it cannot use with a message that says what to
// change, and leaves nothing running.
func TestStartErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  demo.Config
		want string
	}{
		{"address in use", demo.Config{DataDir: t.TempDir(), Listen: ln.Addr().String()}, "give a free host:port with --listen"},
		{"malformed address", demo.Config{DataDir: t.TempDir(), Listen: "no-port"}, "listen on no-port"},
		{"data dir is a file", demo.Config{DataDir: file, Listen: "127.0.0.1:0"}, file},
	} {
		tc.cfg.Stdout = &syncBuffer{}
		d, err := demo.Start(context.Background(), tc.cfg)
		if err == nil {
			_ = d.Stop()
			t.Errorf("%s: Start succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not contain %q", tc.name, err, tc.want)
		}
	}
}

// A demo stopped right after it started (its first execution cut off in
// the middle of an action, most likely) and an instance deregistered
// behind its back: the next start abandons the cut-off execution,
// registers the instance again and deploys its release to both agents.
func TestDemoAfterInterruptedRun(t *testing.T) {
	t.Parallel()
	demotest.RequireGit(t)
	dir := filepath.Join(t.TempDir(), "slipway-demo")
	ctx := context.Background()
	cfg := demo.Config{DataDir: dir, Listen: "127.0.0.1:0", Stdout: &syncBuffer{}, Command: "slipway", SweepInterval: 100 * time.Millisecond}
	d, err := demo.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	c := demotest.NewClients(t, d.Endpoint, dir)
	if _, err := c.CD.DeregisterOnPremisesInstance(ctx, &codedeploy.DeregisterOnPremisesInstanceInput{InstanceName: aws.String(demo.InstanceNames[0])}); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}

	d2, err := demo.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	t.Cleanup(func() { _ = d2.Stop() })
	c = demotest.NewClients(t, d2.Endpoint, dir)
	t.Logf("second start:\n%s", d2.Instructions())
	// Release 1 may have reached the approval before the stop: it goes
	// first then.
	if st := d2.Instructions(); strings.Contains(st, "of an earlier run waits for approval") {
		x1 := c.WaitForApproval(t, d.Commit)
		c.Approve(t, x1)
		c.WaitForSuccess(t, x1)
	}
	x2 := c.WaitForApproval(t, d2.Commit)
	c.Approve(t, x2)
	dep := c.WaitForSuccess(t, x2)
	for _, a := range d2.Agents {
		demotest.CheckInstalled(t, a, "2", d2.Commit, dep)
	}
	reg, err := c.CD.GetOnPremisesInstance(ctx, &codedeploy.GetOnPremisesInstanceInput{InstanceName: aws.String(demo.InstanceNames[0])})
	if err != nil || reg.InstanceInfo.DeregisterTime != nil || len(reg.InstanceInfo.Tags) != 1 {
		t.Errorf("instance %s after the second start: %+v, %v; want registered with tag %s=%s", demo.InstanceNames[0], reg, err, demo.TagKey, demo.TagValue)
	}
}
