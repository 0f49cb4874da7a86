package drills

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// bins holds the binaries TestMain builds once for every drill.
var bins struct{ slipway, agent string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "slipway-drills-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for pkg, out := range map[string]*string{"cmd/slipway": &bins.slipway, "cmd/slipway-agent": &bins.agent} {
		*out = filepath.Join(dir, filepath.Base(pkg))
		cmd := exec.Command("go", "build", "-o", *out, "github.com/slipway-cd/slipway/"+pkg)
		if msg, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, msg)
			os.RemoveAll(dir)
			os.Exit(2)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// inCI reports whether the drills run in CI, where a missing prerequisite
// fails a drill instead of skipping it.
func inCI() bool { return os.Getenv("CI") == "true" }

// serverProc is a slipway server running as a real process.
type serverProc struct {
	t          *testing.T
	dir        string // --data-dir
	addr       string
	log        string // stdout and stderr of every run, appended
	args       []string
	cmd        *exec.Cmd
	done       chan struct{}
	id, secret string
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

// newServer starts a server on dataDir with the drills' short timers and
// extra flags; it is killed when the test ends.
func newServer(t *testing.T, dataDir string, extra ...string) *serverProc {
	t.Helper()
	p := &serverProc{t: t, dir: dataDir, addr: freeAddr(t), log: filepath.Join(filepath.Dir(dataDir), "server.log"),
		args: append([]string{"--sweep-interval", "100ms", "--dispatch-lease", "2s"}, extra...)}
	p.start()
	t.Cleanup(func() {
		if p.running() {
			p.kill()
		}
	})
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(p.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	p.id, p.secret = id, secret
	return p
}

func (p *serverProc) url() string { return "http://" + p.addr }

func (p *serverProc) running() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// start starts the process and waits until /healthz answers 200.
func (p *serverProc) start() {
	p.t.Helper()
	args := append([]string{"server", "--listen", p.addr, "--data-dir", p.dir}, p.args...)
	p.cmd = exec.Command(bins.slipway, args...)
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	p.done = done
	go func() { _ = p.cmd.Wait(); logf.Close(); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.healthy() {
			return
		}
		select {
		case <-done:
			p.t.Fatalf("server exited at start:\n%s", p.tail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.t.Fatalf("server did not become healthy:\n%s", p.tail())
}

func (p *serverProc) healthy() bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(p.url() + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// kill sends SIGKILL and waits for the process to exit.
func (p *serverProc) kill() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// tail returns the end of the server's log.
func (p *serverProc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// rssKiB returns the process's resident set size (VmRSS) in KiB.
func (p *serverProc) rssKiB() int {
	p.t.Helper()
	return procStatusKiB(p.t, p.cmd.Process.Pid, "VmRSS")
}

// procStatusKiB reads a "kB" field of /proc/<pid>/status.
func procStatusKiB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read /proc/%d/status: %v", pid, err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				t.Fatalf("parse %s: %v", l, err)
			}
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

func (p *serverProc) creds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(p.id, p.secret, "")
}

// cp returns a CodePipeline client; attempts is the SDK's retry budget.
func (p *serverProc) cp(attempts int) *codepipeline.Client {
	return codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url()), Credentials: p.creds(), RetryMaxAttempts: attempts})
}

// cd returns a CodeDeploy client; attempts is the SDK's retry budget.
func (p *serverProc) cd(attempts int) *codedeploy.Client {
	return codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url()), Credentials: p.creds(), RetryMaxAttempts: attempts})
}

func (p *serverProc) ext() *slipwayapi.Client {
	return slipwayapi.New(p.url(), "us-east-1", p.creds())
}

// slipway runs the slipway CLI against the server and returns its output.
func (p *serverProc) slipway(args ...string) string {
	p.t.Helper()
	cmd := exec.Command(bins.slipway, args...)
	cmd.Env = append(os.Environ(), "SLIPWAY_ENDPOINT="+p.url())
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("slipway %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// apiCode returns the API error code of err, or "" when err is not an API
// error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// eventually retries cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s; last state: %s", within, what, last)
}

// customType is a custom action type with in input and out output
// artifacts.
func customType(category types.ActionCategory, provider string, in, out int32) *codepipeline.CreateCustomActionTypeInput {
	return &codepipeline.CreateCustomActionTypeInput{
		Category: category, Provider: aws.String(provider), Version: aws.String("1"),
		ConfigurationProperties: []types.ActionConfigurationProperty{
			{Name: aws.String("ProjectName"), Required: true, Key: true, Queryable: true, Type: types.ActionConfigurationPropertyTypeString},
		},
		InputArtifactDetails:  &types.ArtifactDetails{MinimumCount: in, MaximumCount: in},
		OutputArtifactDetails: &types.ArtifactDetails{MinimumCount: out, MaximumCount: out},
	}
}

func customAction(name string, category types.ActionCategory, provider string, in, out []string) types.ActionDeclaration {
	a := types.ActionDeclaration{
		Name:          aws.String(name),
		ActionTypeId:  &types.ActionTypeId{Category: category, Owner: types.ActionOwnerCustom, Provider: aws.String(provider), Version: aws.String("1")},
		Configuration: map[string]string{"ProjectName": "drill"},
		RunOrder:      aws.Int32(1),
	}
	for _, n := range in {
		a.InputArtifacts = append(a.InputArtifacts, types.InputArtifact{Name: aws.String(n)})
	}
	for _, n := range out {
		a.OutputArtifacts = append(a.OutputArtifacts, types.OutputArtifact{Name: aws.String(n)})
	}
	return a
}

// pipelineDecl is a pipeline of stages, each one action.
func pipelineDecl(name string, mode types.ExecutionMode, stages ...types.ActionDeclaration) *types.PipelineDeclaration {
	d := &types.PipelineDeclaration{
		Name:          aws.String(name),
		PipelineType:  types.PipelineTypeV2,
		ExecutionMode: mode,
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("drill-artifacts")},
	}
	for _, a := range stages {
		d.Stages = append(d.Stages, types.StageDeclaration{Name: aws.String("S" + aws.ToString(a.Name)), Actions: []types.ActionDeclaration{a}})
	}
	return d
}

// zipFiles makes a zip of files (path -> content); *.sh are executable.
func zipFiles(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		hdr := &zip.FileHeader{Name: n, Method: zip.Deflate}
		hdr.SetMode(0o644)
		if strings.HasSuffix(n, ".sh") {
			hdr.SetMode(0o755)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTree writes files (path -> content; *.sh executable) under a new
// directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// agentProc is a slipway-agent process.
type agentProc struct {
	t                           *testing.T
	name, config, root, install string
	log                         string
	cmd                         *exec.Cmd
	done                        chan struct{}
}

// newAgent registers an on-premises instance tagged node=name and starts
// its agent, which reaches the server at endpoint (the server's URL when
// empty). The agent backs off at most maxBackoff after errors.
func newAgent(t *testing.T, s *serverProc, name, endpoint string, maxBackoff time.Duration) *agentProc {
	t.Helper()
	root := filepath.Join(filepath.Dir(s.dir), "agent-"+name)
	a := &agentProc{t: t, name: name, config: filepath.Join(root, "agent.yml"), root: filepath.Join(root, "root"),
		install: filepath.Join(root, "install"), log: filepath.Join(root, "agent.log")}
	if err := os.MkdirAll(a.install, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"instance", "register", name, "--data-dir", s.dir, "--tag", "node=" + name,
		"--out", a.config, "--root-dir", a.root, "--log-dir", filepath.Join(root, "log")}
	if endpoint != "" {
		args = append(args, "--agent-endpoint", endpoint)
	}
	s.slipway(args...)
	f, err := os.OpenFile(a.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "max_backoff: %d\nwait_between_runs: 1\nkeepalive_interval: 1\n", int(maxBackoff/time.Second))
	f.Close()
	a.start()
	t.Cleanup(func() {
		if a.cmd != nil {
			_ = a.cmd.Process.Signal(syscall.SIGKILL)
			<-a.done
		}
	})
	return a
}

func (a *agentProc) start() {
	a.t.Helper()
	a.cmd = exec.Command(bins.agent, "--config", a.config, "--install-root", a.install)
	logf, err := os.OpenFile(a.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		a.t.Fatal(err)
	}
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	if err := a.cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	done := make(chan struct{})
	a.done = done
	go func() { _ = a.cmd.Wait(); logf.Close(); close(done) }()
}

// deployGroup creates application app and a deployment group of it over
// the instances tagged node=<one of nodes>.
func deployGroup(t *testing.T, cd *codedeploy.Client, app, group, config string, nodes ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(app)}); err != nil && apiCode(err) != "ApplicationAlreadyExistsException" {
		t.Fatalf("CreateApplication: %v", err)
	}
	var filters []cdtypes.TagFilter
	for _, n := range nodes {
		filters = append(filters, cdtypes.TagFilter{Key: aws.String("node"), Value: aws.String(n), Type: cdtypes.TagFilterTypeKeyAndValue})
	}
	if _, err := cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group),
		ServiceRoleArn:       aws.String("arn:aws:iam::123456789012:role/CodeDeployServiceRole"),
		DeploymentConfigName: aws.String(config), OnPremisesInstanceTagFilters: filters}); err != nil {
		t.Fatalf("CreateDeploymentGroup: %v", err)
	}
}

// pushBundle bundles dir with `slipway deploy push` and returns the
// revision.
func pushBundle(t *testing.T, s *serverProc, app, dir, location string) *cdtypes.RevisionLocation {
	t.Helper()
	out := s.slipway("deploy", "push", "--data-dir", s.dir, "--application", app, "--source", dir, "--s3-location", location, "-o", "json")
	var r struct {
		S3Location struct{ Bucket, Key, ETag string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("deploy push -o json: %v\n%s", err, out)
	}
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: &cdtypes.S3Location{
		Bucket: aws.String(r.S3Location.Bucket), Key: aws.String(r.S3Location.Key), BundleType: cdtypes.BundleTypeZip, ETag: aws.String(r.S3Location.ETag)}}
}

// appBundle is a bundle whose hooks append their event to hooks.log under
// the install root, sleeping hookSleep in ApplicationStart.
func appBundle(version string, hookSleep string) map[string]string {
	return map[string]string{
		"appspec.yml": `version: 0.0
os: linux
files:
  - source: app
    destination: /opt/app
hooks:
  AfterInstall:
    - location: scripts/hook.sh
      timeout: 120
  ApplicationStart:
    - location: scripts/hook.sh
      timeout: 120
`,
		"scripts/hook.sh": `#!/bin/sh
set -e
echo "$DEPLOYMENT_ID $LIFECYCLE_EVENT" >> "$SLIPWAY_INSTALL_ROOT/hooks.log"
if [ "$LIFECYCLE_EVENT" = ApplicationStart ]; then
  touch "$SLIPWAY_INSTALL_ROOT/started-$DEPLOYMENT_ID"
  sleep ` + hookSleep + `
fi
`,
		"app/index.html": version,
	}
}

// waitDeployment waits for a deployment to end and returns it.
func waitDeployment(t *testing.T, cd *codedeploy.Client, id string, within time.Duration) *cdtypes.DeploymentInfo {
	t.Helper()
	var d *cdtypes.DeploymentInfo
	eventually(t, within, "deployment "+id+" to end", func() (bool, string) {
		out, err := cd.GetDeployment(context.Background(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
		if err != nil {
			return false, err.Error()
		}
		d = out.DeploymentInfo
		switch d.Status {
		case cdtypes.DeploymentStatusSucceeded, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			return true, ""
		}
		return false, string(d.Status)
	})
	return d
}

// describeInstances summarises the lifecycle events of a deployment's
// instances.
func describeInstances(t *testing.T, cd *codedeploy.Client, id string) string {
	t.Helper()
	ctx := context.Background()
	lst, err := cd.ListDeploymentInstances(ctx, &codedeploy.ListDeploymentInstancesInput{DeploymentId: aws.String(id)})
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, name := range lst.InstancesList {
		out, err := cd.GetDeploymentInstance(ctx, &codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(id), InstanceId: aws.String(name)})
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", name, err)
			continue
		}
		s := out.InstanceSummary
		fmt.Fprintf(&b, "%s %s:", name, s.Status)
		for _, e := range s.LifecycleEvents {
			fmt.Fprintf(&b, " %s=%s", aws.ToString(e.LifecycleEventName), e.Status)
			if d := e.Diagnostics; d != nil && d.ErrorCode != cdtypes.LifecycleErrorCodeSuccess {
				fmt.Fprintf(&b, "(%s: %s)", d.ErrorCode, aws.ToString(d.Message))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
