package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// realAgent is a slipway-agent process.
type realAgent struct {
	name, config, root, install, log string
	cmd                              *exec.Cmd
	done                             chan struct{} // closed when the process has exited
}

// agentFleet is a server process, the slipway CLI and three real agents.
type agentFleet struct {
	t        *testing.T
	dir      string
	srv      *serverProc
	cli      string
	agentBin string
	url      string
	cd       *codedeploy.Client
	ext      *slipwayapi.Client
	agents   []*realAgent
}

func (f *agentFleet) slipway(args ...string) string {
	f.t.Helper()
	cmd := exec.Command(f.cli, args...)
	cmd.Env = append(os.Environ(), "SLIPWAY_ENDPOINT="+f.url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		f.t.Fatalf("slipway %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (f *agentFleet) startAgent(a *realAgent) {
	f.t.Helper()
	a.cmd = exec.Command(f.agentBin, "--config", a.config, "--install-root", a.install)
	logf, err := os.OpenFile(a.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		f.t.Fatal(err)
	}
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	if err := a.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	done := make(chan struct{})
	a.done = done
	go func() { _ = a.cmd.Wait(); logf.Close(); close(done) }()
}

func (f *agentFleet) killAgent(a *realAgent) {
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
}

func newAgentFleet(t *testing.T) *agentFleet {
	t.Helper()
	root := t.TempDir()
	f := &agentFleet{t: t, dir: root, cli: buildBinary(t, "cmd/slipway"), agentBin: buildBinary(t, "cmd/slipway-agent")}
	f.srv = &serverProc{t: t, bin: f.cli, dir: filepath.Join(root, "data"), addr: freeAddr(t)}
	f.srv.start("--agent-lease", "2s")
	t.Cleanup(func() {
		for _, a := range f.agents {
			if a.cmd != nil {
				_ = a.cmd.Process.Signal(syscall.SIGKILL)
				<-a.done
			}
		}
		if f.srv.cmd.ProcessState == nil {
			f.srv.kill()
		}
	})
	f.url = "http://" + f.srv.addr
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(f.srv.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	f.cd = codedeploy.New(codedeploy.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.url), Credentials: staticCreds(id, secret), RetryMaxAttempts: 3})
	f.ext = slipwayapi.New(f.url, "us-east-1", staticCreds(id, secret))
	for _, n := range []string{"a", "b", "c"} {
		a := &realAgent{name: "node-" + n, config: filepath.Join(root, "agent-"+n+".yml"), root: filepath.Join(root, "agent-"+n, "root"),
			install: filepath.Join(root, "agent-"+n, "install"), log: filepath.Join(root, "agent-"+n, "agent.log")}
		if err := os.MkdirAll(a.install, 0o755); err != nil {
			t.Fatal(err)
		}
		out := f.slipway("instance", "register", a.name, "--data-dir", f.srv.dir, "--tag", "node="+n, "--tag", "fleet=e2e",
			"--out", a.config, "--root-dir", a.root, "--log-dir", filepath.Join(root, "agent-"+n, "log"))
		if !strings.Contains(out, "slipway-agent --config "+a.config) {
			t.Errorf("instance register output does not say how to start the agent:\n%s", out)
		}
		if fi, err := os.Stat(a.config); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("agent config %s: %v, mode %v; want 0600", a.config, err, fi.Mode())
		}
		f.startAgent(a)
		f.agents = append(f.agents, a)
	}
	ctx := context.Background()
	mustDo[*codedeploy.CreateApplicationOutput](t, "app")(f.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("shop")}))
	mustDo[*codedeploy.CreateDeploymentGroupOutput](t, "group")(f.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{
		ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("fleet"), ServiceRoleArn: aws.String(deployRole),
		DeploymentConfigName:         aws.String("CodeDeployDefault.OneAtATime"),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{kvFilter("node", "a"), kvFilter("node", "b"), kvFilter("node", "c")}}))
	return f
}

// hookScript logs each lifecycle event and its environment under the
// install root, and sleeps in ApplicationStart when slow exists there.
const hookScript = `#!/bin/sh
set -e
mkdir -p "$SLIPWAY_INSTALL_ROOT/env"
echo "$LIFECYCLE_EVENT" >> "$SLIPWAY_INSTALL_ROOT/hooks.log"
env | grep -E '^(DEPLOYMENT_ID|APPLICATION_NAME|DEPLOYMENT_GROUP_NAME|LIFECYCLE_EVENT|DEPLOYMENT_GROUP_ID)=' | sort > "$SLIPWAY_INSTALL_ROOT/env/$LIFECYCLE_EVENT"
if [ "$LIFECYCLE_EVENT" = ApplicationStart ] && [ -f "$SLIPWAY_INSTALL_ROOT/slow" ]; then
  touch "$SLIPWAY_INSTALL_ROOT/sleeping"
  sleep 20
fi
`

// strictValidate, appended to hookScript, fails ValidateService where
// fail-validate exists under the install root.
const strictValidate = `if [ "$LIFECYCLE_EVENT" = ValidateService ] && [ -f "$SLIPWAY_INSTALL_ROOT/fail-validate" ]; then
  echo "validation failed on purpose" >&2
  exit 3
fi
`

var allHooks = []string{"BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop", "BeforeInstall", "AfterInstall",
	"ApplicationStart", "ValidateService", "BeforeAllowTraffic", "AfterAllowTraffic"}

func appspecWithHooks(extra string) string {
	var b strings.Builder
	b.WriteString(`version: 0.0
os: linux
files:
  - source: app
    destination: /opt/app
permissions:
  - object: /opt/app
    pattern: "**"
    mode: 640
    type:
      - file
hooks:
`)
	for _, h := range allHooks {
		fmt.Fprintf(&b, "  %s:\n    - location: scripts/hook.sh\n      timeout: 60\n", h)
	}
	b.WriteString(extra)
	return b.String()
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

// push runs slipway deploy push -o json and returns the S3 revision.
func (f *agentFleet) push(dir, location string) *cdtypes.RevisionLocation {
	f.t.Helper()
	out := f.slipway("deploy", "push", "--data-dir", f.srv.dir, "--application", "shop", "--source", dir, "--s3-location", location, "-o", "json")
	var r struct {
		ApplicationName string
		S3Location      struct{ Bucket, Key, BundleType, ETag string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		f.t.Fatalf("deploy push -o json: %v\n%s", err, out)
	}
	if r.S3Location.ETag == "" || r.S3Location.BundleType != "zip" || r.ApplicationName != "shop" {
		f.t.Fatalf("deploy push -o json = %s", out)
	}
	return &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: &cdtypes.S3Location{
		Bucket: aws.String(r.S3Location.Bucket), Key: aws.String(r.S3Location.Key), BundleType: cdtypes.BundleTypeZip, ETag: aws.String(r.S3Location.ETag)}}
}

// uploadRaw uploads bundle bytes as they are (for bundles deploy push
// cannot make) and registers them.
func (f *agentFleet) uploadRaw(data []byte, key string) *cdtypes.RevisionLocation {
	f.t.Helper()
	ctx := context.Background()
	up, err := f.ext.UploadBundle(ctx, &slipwayapi.UploadBundleInput{Bucket: "shop-bundles", Key: key, Content: base64.StdEncoding.EncodeToString(data)})
	if err != nil {
		f.t.Fatalf("UploadBundle: %v", err)
	}
	rev := &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: &cdtypes.S3Location{
		Bucket: aws.String("shop-bundles"), Key: aws.String(key), BundleType: cdtypes.BundleTypeZip, ETag: aws.String(up.ETag)}}
	mustDo[*codedeploy.RegisterApplicationRevisionOutput](f.t, "register")(f.cd.RegisterApplicationRevision(ctx, &codedeploy.RegisterApplicationRevisionInput{
		ApplicationName: aws.String("shop"), Revision: rev}))
	return rev
}

func (f *agentFleet) deploy(rev *cdtypes.RevisionLocation, mutate func(*codedeploy.CreateDeploymentInput)) string {
	f.t.Helper()
	in := &codedeploy.CreateDeploymentInput{ApplicationName: aws.String("shop"), DeploymentGroupName: aws.String("fleet"), Revision: rev}
	if mutate != nil {
		mutate(in)
	}
	out, err := f.cd.CreateDeployment(context.Background(), in)
	if err != nil {
		f.t.Fatalf("CreateDeployment: %v", err)
	}
	return aws.ToString(out.DeploymentId)
}

func (f *agentFleet) get(id string) *cdtypes.DeploymentInfo {
	f.t.Helper()
	out, err := f.cd.GetDeployment(context.Background(), &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		f.t.Fatalf("GetDeployment: %v", err)
	}
	return out.DeploymentInfo
}

// wait waits for a deployment to end and returns it.
func (f *agentFleet) wait(id string) *cdtypes.DeploymentInfo {
	f.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		d := f.get(id)
		switch d.Status {
		case cdtypes.DeploymentStatusSucceeded, cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			return d
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.t.Fatalf("deployment %s did not end; agent logs in %s", id, f.dir)
	return nil
}

func (f *agentFleet) instance(id, name string) *cdtypes.InstanceSummary {
	f.t.Helper()
	out, err := f.cd.GetDeploymentInstance(context.Background(), &codedeploy.GetDeploymentInstanceInput{DeploymentId: aws.String(id), InstanceId: aws.String(name)})
	if err != nil {
		f.t.Fatalf("GetDeploymentInstance %s %s: %v", id, name, err)
	}
	return out.InstanceSummary
}

// describe summarises the lifecycle events of every instance.
func (f *agentFleet) describe(id string) string {
	var b strings.Builder
	for _, a := range f.agents {
		s := f.instance(id, a.name)
		fmt.Fprintf(&b, "%s %s:", a.name, s.Status)
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

// failedEvent returns the failed lifecycle event of an instance.
func (f *agentFleet) failedEvent(id, name string) *cdtypes.LifecycleEvent {
	for _, e := range f.instance(id, name).LifecycleEvents {
		if e.Status == cdtypes.LifecycleEventStatusFailed {
			return &e
		}
	}
	return nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

// scriptsLogEvents returns the lifecycle events scripts.log records for a
// deployment on an agent, in order.
func (f *agentFleet) scriptsLogEvents(a *realAgent, deploymentID string) []string {
	f.t.Helper()
	matches, _ := filepath.Glob(filepath.Join(a.root, "*", deploymentID, "logs", "scripts.log"))
	if len(matches) != 1 {
		f.t.Fatalf("%s: scripts.log of %s: found %v", a.name, deploymentID, matches)
	}
	var out []string
	for _, m := range regexp.MustCompile(`LifecycleEvent - (\w+)`).FindAllStringSubmatch(readFile(f.t, matches[0]), -1) {
		out = append(out, m[1])
	}
	return out
}

func (f *agentFleet) checkApp(want string) {
	f.t.Helper()
	for _, a := range f.agents {
		p := filepath.Join(a.install, "opt", "app", "index.html")
		if got := readFile(f.t, p); got != want {
			f.t.Errorf("%s: %s = %q, want %q", a.name, p, got, want)
		}
	}
}

func appFiles(version string, extra map[string]string) map[string]string {
	files := map[string]string{
		"appspec.yml":       appspecWithHooks(""),
		"scripts/hook.sh":   hookScript,
		"app/index.html":    version,
		"app/conf/app.conf": "version=" + version + "\n",
	}
	for k, v := range extra {
		if v == "" {
			delete(files, k)
		} else {
			files[k] = v
		}
	}
	return files
}

// Real agents deploy, roll back, lose an agent and refuse bad bundles.
func TestRealAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and three agents")
	}
	t.Parallel()
	f := newAgentFleet(t)
	ctx := context.Background()

	// 1. A first deployment, one instance at a time.
	v1 := f.push(writeTree(t, appFiles("v1", nil)), "shop-bundles/shop-v1.zip")
	id1 := f.deploy(v1, nil)
	if d := f.wait(id1); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("v1 deployment %s: %+v\n%s", d.Status, d.ErrorInformation, f.describe(id1))
	}
	f.checkApp("v1")
	lst := mustDo[*codedeploy.ListDeploymentInstancesOutput](t, "list instances")(f.cd.ListDeploymentInstances(ctx,
		&codedeploy.ListDeploymentInstancesInput{DeploymentId: aws.String(id1)}))
	if got := slices.Sorted(slices.Values(lst.InstancesList)); !slices.Equal(got, []string{"node-a", "node-b", "node-c"}) {
		t.Errorf("ListDeploymentInstances = %v", got)
	}
	for _, a := range f.agents {
		s := f.instance(id1, a.name)
		if s.Status != cdtypes.InstanceStatusSucceeded {
			t.Errorf("%s: instance status %s", a.name, s.Status)
		}
		for _, rel := range []string{"opt/app/index.html", "opt/app/conf/app.conf"} {
			fi, err := os.Stat(filepath.Join(a.install, rel))
			if err != nil || fi.Mode().Perm() != 0o640 {
				t.Errorf("%s: %s: %v mode %v, want 0640", a.name, rel, err, fi.Mode())
			}
		}
		got := f.scriptsLogEvents(a, id1)
		var want []string // the hooks that ran, in the canonical order
		for _, h := range allHooks {
			if slices.Contains(got, h) {
				want = append(want, h)
			}
		}
		if !slices.Equal(got, want) || !slices.Contains(got, "BeforeInstall") || !slices.Contains(got, "ValidateService") {
			t.Errorf("%s: scripts.log events %v, want in order %v with BeforeInstall..ValidateService", a.name, got, allHooks)
		}
		if hooks := strings.Fields(readFile(t, filepath.Join(a.install, "hooks.log"))); !slices.Equal(hooks, got) {
			t.Errorf("%s: hooks ran %v, scripts.log says %v", a.name, hooks, got)
		}
		env := readFile(t, filepath.Join(a.install, "env", "AfterInstall"))
		for _, kv := range []string{"DEPLOYMENT_ID=" + id1, "APPLICATION_NAME=shop", "DEPLOYMENT_GROUP_NAME=fleet", "LIFECYCLE_EVENT=AfterInstall"} {
			if !strings.Contains(env, kv+"\n") {
				t.Errorf("%s: AfterInstall env lacks %s:\n%s", a.name, kv, env)
			}
		}
	}

	// 2. A revision whose ValidateService fails on node-b: the deployment
	// fails and is rolled back to v1.
	if err := os.WriteFile(filepath.Join(f.agents[1].install, "fail-validate"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	v2 := f.push(writeTree(t, appFiles("v2", map[string]string{"scripts/hook.sh": hookScript + strictValidate})), "shop-bundles/shop-v2.zip")
	id2 := f.deploy(v2, func(in *codedeploy.CreateDeploymentInput) {
		in.AutoRollbackConfiguration = &cdtypes.AutoRollbackConfiguration{Enabled: true, Events: []cdtypes.AutoRollbackEvent{cdtypes.AutoRollbackEventDeploymentFailure}}
	})
	d2 := f.wait(id2)
	if d2.Status != cdtypes.DeploymentStatusFailed || d2.RollbackInfo == nil || aws.ToString(d2.RollbackInfo.RollbackDeploymentId) == "" {
		t.Fatalf("v2 deployment %s, rollback %+v\n%s", d2.Status, d2.RollbackInfo, f.describe(id2))
	}
	if e := f.failedEvent(id2, "node-b"); e == nil || aws.ToString(e.LifecycleEventName) != "ValidateService" || e.Diagnostics.ErrorCode != cdtypes.LifecycleErrorCodeScriptFailed {
		t.Errorf("node-b failed event = %+v\n%s", e, f.describe(id2))
	}
	rbID := aws.ToString(d2.RollbackInfo.RollbackDeploymentId)
	rb := f.wait(rbID)
	if rb.Status != cdtypes.DeploymentStatusSucceeded || rb.RollbackInfo == nil || aws.ToString(rb.RollbackInfo.RollbackTriggeringDeploymentId) != id2 {
		t.Fatalf("rollback %s: %s, rollbackInfo %+v\n%s", rbID, rb.Status, rb.RollbackInfo, f.describe(rbID))
	}
	f.checkApp("v1")
	os.Remove(filepath.Join(f.agents[1].install, "fail-validate"))

	// 3. An agent killed during a hook: its instance fails with AGENT_ISSUE
	// within the lease.
	victim := f.agents[2]
	if err := os.WriteFile(filepath.Join(victim.install, "slow"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	v3 := f.push(writeTree(t, appFiles("v3", nil)), "shop-bundles/shop-v3.zip")
	id3 := f.deploy(v3, func(in *codedeploy.CreateDeploymentInput) {
		in.DeploymentConfigName = aws.String("CodeDeployDefault.AllAtOnce")
	})
	sleeping := filepath.Join(victim.install, "sleeping")
	eventually(t, "the slow hook to start", func() (bool, string) {
		_, err := os.Stat(sleeping)
		return err == nil, fmt.Sprint(err)
	})
	f.killAgent(victim)
	killed := time.Now()
	var failedAt time.Time
	for time.Since(killed) < 20*time.Second && failedAt.IsZero() {
		if f.instance(id3, victim.name).Status == cdtypes.InstanceStatusFailed {
			failedAt = time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	if failedAt.IsZero() {
		t.Fatalf("%s did not fail after its agent was killed\n%s", victim.name, f.describe(id3))
	}
	if waited := failedAt.Sub(killed); waited > 10*time.Second {
		t.Errorf("%s failed %s after the kill; the lease is 2 s", victim.name, waited)
	}
	if e := f.failedEvent(id3, victim.name); e == nil || !strings.Contains(aws.ToString(e.Diagnostics.Message), "AGENT_ISSUE") {
		t.Errorf("%s failed event = %+v, want AGENT_ISSUE in its diagnostics\n%s", victim.name, e, f.describe(id3))
	}
	f.wait(id3)
	os.Remove(filepath.Join(victim.install, "slow"))
	f.startAgent(victim) // it reports the interrupted command at start
	f.checkApp("v3")

	// 4. Bad bundles fail with the documented errors and leave the v3
	// install in place.
	badZip := func(files map[string]string) []byte { return zipFiles(t, files) }
	for _, tc := range []struct {
		name    string
		rev     func() *cdtypes.RevisionLocation
		event   string
		code    cdtypes.LifecycleErrorCode
		message string
	}{
		{"no appspec", func() *cdtypes.RevisionLocation {
			return f.push(writeTree(t, appFiles("bad", map[string]string{"appspec.yml": ""})), "shop-bundles/no-appspec.zip")
		}, "DownloadBundle", cdtypes.LifecycleErrorCodeUnknownError, "no appspec.yml"},
		{"invalid appspec", func() *cdtypes.RevisionLocation {
			return f.push(writeTree(t, appFiles("bad", map[string]string{"appspec.yml": "version: 0.0\nos: linux\nfiles: [unclosed\n"})), "shop-bundles/invalid-appspec.zip")
		}, "DownloadBundle", cdtypes.LifecycleErrorCodeUnknownError, "the file is not valid YAML"},
		{"zip slip", func() *cdtypes.RevisionLocation {
			return f.uploadRaw(badZip(map[string]string{"appspec.yml": appspecWithHooks(""), "scripts/hook.sh": hookScript,
				"app/index.html": "bad", "../../escape.txt": "gotcha"}), "zip-slip.zip")
		}, "DownloadBundle", cdtypes.LifecycleErrorCodeUnknownError, "unsafe path"},
		{"script missing", func() *cdtypes.RevisionLocation {
			return f.push(writeTree(t, appFiles("bad", map[string]string{"appspec.yml": strings.Replace(appspecWithHooks(""),
				"  BeforeInstall:\n    - location: scripts/hook.sh", "  BeforeInstall:\n    - location: scripts/missing.sh", 1)})), "shop-bundles/script-missing.zip")
		}, "BeforeInstall", cdtypes.LifecycleErrorCodeScriptMissing, "Script does not exist at specified location"},
	} {
		id := f.deploy(tc.rev(), nil)
		d := f.wait(id)
		if d.Status != cdtypes.DeploymentStatusFailed {
			t.Errorf("%s: deployment %s, want Failed\n%s", tc.name, d.Status, f.describe(id))
			continue
		}
		first := f.agents[0].name // OneAtATime: the first instance fails, the others are skipped
		for _, a := range f.agents {
			if e := f.failedEvent(id, a.name); e != nil {
				first = a.name
				break
			}
		}
		e := f.failedEvent(id, first)
		if e == nil || aws.ToString(e.LifecycleEventName) != tc.event || e.Diagnostics.ErrorCode != tc.code ||
			!strings.Contains(aws.ToString(e.Diagnostics.Message), tc.message) {
			t.Errorf("%s: failed event %+v, want %s %s %q\n%s", tc.name, e, tc.event, tc.code, tc.message, f.describe(id))
		} else {
			t.Logf("%s: %s %s: %s", tc.name, tc.event, e.Diagnostics.ErrorCode, aws.ToString(e.Diagnostics.Message))
		}
		f.checkApp("v3")
		if _, err := os.Stat(filepath.Join(f.dir, "escape.txt")); err == nil {
			t.Errorf("%s: the zip-slip entry was written outside the bundle", tc.name)
		}
	}

	// A script that is not executable is made executable and runs, as the
	// stock agent does (chmod +x), so that deployment succeeds.
	files := appFiles("v4", nil)
	dir := writeTree(t, files)
	if err := os.Chmod(filepath.Join(dir, "scripts", "hook.sh"), 0o644); err != nil {
		t.Fatal(err)
	}
	id4 := f.deploy(f.push(dir, "shop-bundles/not-executable.zip"), nil)
	if d := f.wait(id4); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Errorf("not-executable script: deployment %s\n%s", d.Status, f.describe(id4))
	}
	f.checkApp("v4")

	// 5. A pipeline: a push to a hosted repository, a CodeBuild build that
	// packages the app with its AppSpec file, and a CodeDeploy action to
	// the agents.
	testPipelineToAgents(t, f)
}

func testPipelineToAgents(t *testing.T, f *agentFleet) {
	needGit(t)
	ctx := context.Background()
	id, secret, _, _ := auth.ReadCredentialsFile(filepath.Join(f.srv.dir, "credentials"), "default")
	cp := codepipeline.New(codepipeline.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.url), Credentials: staticCreds(id, secret), RetryMaxAttempts: 3})
	repo, err := f.ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: "shop"})
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if _, err := f.ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{Name: "shop-package", TimeoutInMinutes: 5}}); err != nil {
		t.Fatalf("CreateBuildProject: %v", err)
	}
	decl := &types.PipelineDeclaration{
		Name:          aws.String("ShopRelease"),
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("shop-artifacts")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{codeCommitSource("Source", "shop", "main", "SourceCode")}},
			{Name: aws.String("Build"), Actions: []types.ActionDeclaration{{
				Name:            aws.String("Package"),
				ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategoryBuild, Owner: types.ActionOwnerAws, Provider: aws.String("CodeBuild"), Version: aws.String("1")},
				Configuration:   map[string]string{"ProjectName": "shop-package"},
				InputArtifacts:  []types.InputArtifact{{Name: aws.String("SourceCode")}},
				OutputArtifacts: []types.OutputArtifact{{Name: aws.String("Bundle")}},
				RunOrder:        aws.Int32(1),
			}}},
			{Name: aws.String("Deploy"), Actions: []types.ActionDeclaration{{
				Name:           aws.String("ToFleet"),
				ActionTypeId:   &types.ActionTypeId{Category: types.ActionCategoryDeploy, Owner: types.ActionOwnerAws, Provider: aws.String("CodeDeploy"), Version: aws.String("1")},
				Configuration:  map[string]string{"ApplicationName": "shop", "DeploymentGroupName": "fleet"},
				InputArtifacts: []types.InputArtifact{{Name: aws.String("Bundle")}},
				RunOrder:       aws.Int32(1),
			}}},
		},
	}
	if _, err := cp.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	// The source holds the app's source; the build writes the bundle
	// (appspec.yml, scripts, app/) into dist.
	files := map[string]string{
		"buildspec.yml": `version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist/app dist/scripts
      - sed "s/@VERSION@/built-$CODEBUILD_RESOLVED_SOURCE_VERSION/" src/index.html.in > dist/app/index.html
      - printf 'version=built\n' > dist/app/conf.txt
      - cp deploy/appspec.yml dist/appspec.yml
      - cp deploy/hook.sh dist/scripts/hook.sh
artifacts:
  files:
    - '**/*'
  base-directory: dist
`,
		"src/index.html.in":  "@VERSION@",
		"deploy/appspec.yml": appspecWithHooks(""),
		"deploy/hook.sh":     hookScript,
	}
	wdir := writeTree(t, files)
	u, _ := url.Parse(repo.Repository.CloneURLHTTP)
	u.User = url.UserPassword(id, secret)
	gitIn(t, wdir, "init", "--quiet", "--initial-branch=main")
	gitIn(t, wdir, "add", "--all")
	gitIn(t, wdir, "commit", "--quiet", "-m", "shop")
	commit := gitIn(t, wdir, "rev-parse", "HEAD")
	gitIn(t, wdir, "push", "--quiet", u.String(), "main")

	var execID string
	var final *types.PipelineExecution
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if execID == "" {
			out, err := cp.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String("ShopRelease")})
			if err != nil {
				t.Fatalf("ListPipelineExecutions: %v", err)
			}
			if len(out.PipelineExecutionSummaries) > 0 {
				execID = aws.ToString(out.PipelineExecutionSummaries[0].PipelineExecutionId)
			}
		}
		if execID != "" {
			out, err := cp.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String("ShopRelease"), PipelineExecutionId: aws.String(execID)})
			if err != nil {
				t.Fatalf("GetPipelineExecution: %v", err)
			}
			final = out.PipelineExecution
			if final.Status != types.PipelineExecutionStatusInProgress {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if final == nil || final.Status != types.PipelineExecutionStatusSucceeded {
		t.Fatalf("pipeline execution %s: %+v; actions: %+v", execID, final, actionExecutions(t, cp, "ShopRelease", execID))
	}
	acts := actionExecutions(t, cp, "ShopRelease", execID)
	dep := acts["ToFleet"]
	depID := ""
	if dep.Output != nil && dep.Output.ExecutionResult != nil {
		depID = aws.ToString(dep.Output.ExecutionResult.ExternalExecutionId)
		if s := aws.ToString(dep.Output.ExecutionResult.ExternalExecutionSummary); s != "Deployment Succeeded" {
			t.Errorf("deploy action summary %q", s)
		}
	}
	if !strings.HasPrefix(depID, "d-") {
		t.Fatalf("deploy action external execution ID %q, want the deployment ID", depID)
	}
	if d := f.get(depID); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Errorf("deployment %s of the pipeline: %s", depID, d.Status)
	}
	f.checkApp("built-" + commit)

	// A GitHubLocation revision deploys a commit of a hosted repository:
	// repository "owner/name" is the hosted repository "name".
	bundleRepo, err := f.ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: "shop-bundle"})
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	bdir := writeTree(t, appFiles("from-git", nil))
	bu, _ := url.Parse(bundleRepo.Repository.CloneURLHTTP)
	bu.User = url.UserPassword(id, secret)
	gitIn(t, bdir, "init", "--quiet", "--initial-branch=main")
	gitIn(t, bdir, "add", "--all")
	gitIn(t, bdir, "commit", "--quiet", "-m", "bundle")
	bcommit := gitIn(t, bdir, "rev-parse", "HEAD")
	gitIn(t, bdir, "push", "--quiet", bu.String(), "main")
	gitRev := &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeGitHub,
		GitHubLocation: &cdtypes.GitHubLocation{Repository: aws.String("acme/shop-bundle"), CommitId: aws.String(bcommit)}}
	mustDo[*codedeploy.RegisterApplicationRevisionOutput](t, "register")(f.cd.RegisterApplicationRevision(ctx, &codedeploy.RegisterApplicationRevisionInput{
		ApplicationName: aws.String("shop"), Revision: gitRev}))
	gid := f.deploy(gitRev, nil)
	if d := f.wait(gid); d.Status != cdtypes.DeploymentStatusSucceeded {
		t.Fatalf("GitHubLocation deployment %s: %+v\n%s", d.Status, d.ErrorInformation, f.describe(gid))
	}
	f.checkApp("from-git")
}
