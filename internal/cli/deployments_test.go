package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/slipway-cd/slipway/internal/agent"
)

// hookApp is an application revision whose hooks print a line, fail
// AfterInstall when failFlag exists and sleep in BeforeInstall when
// failFlag.slow exists.
func hookApp(t *testing.T, version, failFlag string) string {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"appspec.yml": `version: 0.0
os: linux
files:
  - source: app
    destination: /opt/app
hooks:
  BeforeInstall:
    - location: scripts/hook.sh
  AfterInstall:
    - location: scripts/hook.sh
  ApplicationStart:
    - location: scripts/hook.sh
`,
		"app/index.html": version,
		"scripts/hook.sh": `#!/bin/sh
echo "hook $LIFECYCLE_EVENT of ` + version + `"
if [ "$LIFECYCLE_EVENT" = AfterInstall ] && [ -f ` + failFlag + ` ]; then
  echo "failing on purpose" >&2
  exit 3
fi
if [ "$LIFECYCLE_EVENT" = BeforeInstall ] && [ -f ` + failFlag + `.slow ]; then
  sleep 5
fi
`,
	})
	return dir
}

var createdRE = regexp.MustCompile(`(?m)^Created deployment (d-[A-Z0-9]+) of s3://slipway-deploy-bundles/shop/\S+ to shop/web$`)

func TestDeployCommands(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	root := t.TempDir()
	install := filepath.Join(root, "install")

	// Register an instance with the CLI and run its agent (in process,
	// over real HTTP).
	cfgPath := filepath.Join(root, "agent.yml")
	out := s.ok("instance", "register", "node-1", "--tag", "role=web", "--out", cfgPath,
		"--root-dir", filepath.Join(root, "deployment-root"), "--log-dir", filepath.Join(root, "log"))
	if !strings.Contains(out, "Registered instance node-1") {
		t.Errorf("instance register printed %q", out)
	}
	cfg, err := agent.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.InstallRoot = install
	a, err := agent.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	agentCtx, stopAgent := context.WithCancel(ctx)
	agentDone := make(chan struct{})
	go func() { defer close(agentDone); _ = a.Run(agentCtx) }()
	t.Cleanup(func() { stopAgent(); <-agentDone })

	if _, err := s.cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String("shop"),
		DeploymentGroupName: aws.String("web"), ServiceRoleArn: aws.String("arn:aws:iam::123456789012:role/CodeDeployServiceRole"),
		OnPremisesInstanceTagFilters: []cdtypes.TagFilter{{Key: aws.String("role"), Value: aws.String("web"), Type: cdtypes.TagFilterTypeKeyAndValue}}}); err != nil {
		t.Fatal(err)
	}

	// instance list shows it with its tag.
	if out := s.ok("instance", "list"); !regexp.MustCompile(`(?m)^NAME +STATUS +TAGS +REGISTERED +DEREGISTERED\nnode-1 +registered +role=web +\d{4}-`).MatchString(out) {
		t.Errorf("instance list:\n%s", out)
	}

	// A deployment of a directory succeeds.
	failFlag := filepath.Join(root, "fail")
	out = s.ok("deploy", "create", "--application", "shop", "--group", "web", "--dir", hookApp(t, "v1", failFlag), "--description", "first")
	m := createdRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("deploy create printed %q", out)
	}
	first := m[1]
	status := s.ok("deploy", "status", first, "--watch")
	for _, re := range []string{`(?m)^Deployment ` + first + ` of s3://\S+ to shop/web: Succeeded$`,
		`(?m)^Instances: 1 succeeded, 0 failed, 0 in progress, 0 pending, 0 skipped \(CodeDeployDefault.OneAtATime\)$`,
		`(?m)^INSTANCE +STATUS +EVENT +EVENT STATUS +DURATION +DETAIL$`, `(?m)^node-1 +Succeeded +\w+ +Succeeded +\d+s$`} {
		if !regexp.MustCompile(re).MatchString(status) {
			t.Errorf("deploy status --watch does not match %s:\n%s", re, status)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(install, "opt", "app", "index.html")); string(got) != "v1" {
		t.Errorf("the agent installed %q, want v1", got)
	}
	logs := s.ok("deploy", "logs", "node-1")
	for _, want := range []string{"Deployment " + first + " on node-1\n", "== BeforeInstall (Succeeded)\n", "hook BeforeInstall of v1\n",
		"== AfterInstall (Succeeded)\n", "hook AfterInstall of v1\n", "== ApplicationStart (Succeeded)\n", "hook ApplicationStart of v1\n"} {
		if !strings.Contains(logs, want) {
			t.Errorf("deploy logs lack %q:\n%s", want, logs)
		}
	}

	// A failing deployment: status exits 1, logs show the hook's error.
	if err := os.WriteFile(failFlag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out = s.ok("deploy", "create", "--application", "shop", "--group", "web", "--dir", hookApp(t, "v2", failFlag))
	if m = createdRE.FindStringSubmatch(out); m == nil {
		t.Fatalf("deploy create printed %q", out)
	}
	second := m[1]
	r := s.wantFail(1, "slipway: deployment "+second+" ended Failed", "deploy", "status", second, "--watch")
	if !regexp.MustCompile(`(?m)^node-1 +Failed +AfterInstall +Failed +\d+s +ScriptFailed: `).MatchString(r.stdout) {
		t.Errorf("deploy status of the failed deployment:\n%s", r.stdout)
	}
	logs = s.ok("deploy", "logs", "node-1", "--follow")
	if !strings.Contains(logs, "Deployment "+second) || !strings.Contains(logs, "== AfterInstall (Failed)\n") || !strings.Contains(logs, "failing on purpose") {
		t.Errorf("deploy logs of the failed deployment:\n%s", logs)
	}
	if strings.Contains(logs, "ApplicationStart") {
		t.Errorf("deploy logs show an event that did not run:\n%s", logs)
	}
	if logs := s.ok("deploy", "logs", "node-1", "--deployment-id", first); !strings.Contains(logs, "hook ApplicationStart of v1") {
		t.Errorf("deploy logs --deployment-id:\n%s", logs)
	}
	var st deploymentStatus
	r = s.run("deploy", "status", second, "-o", "json")
	if r.code != 1 {
		t.Errorf("deploy status -o json of a failed deployment: %s", r)
	}
	if err := jsonDecodeStrict(r.stdout, &st); err != nil || aws.ToString(st.DeploymentInfo.DeploymentId) != second ||
		len(st.Instances) != 1 || st.Instances[0].Status != cdtypes.InstanceStatusFailed {
		t.Errorf("deploy status -o json = %+v (%v)", st, err)
	}

	// deploy list, newest first; with a status filter.
	list := s.ok("deploy", "list")
	if !regexp.MustCompile(`(?m)^ID +APPLICATION +GROUP +STATUS +CREATED +REVISION +DESCRIPTION\n` + second + ` +shop +web +Failed +.*\n` + first + ` +shop +web +Succeeded +.* first$`).MatchString(list) {
		t.Errorf("deploy list:\n%s", list)
	}
	var infos []cdtypes.DeploymentInfo
	s.jsonOut(&infos, "deploy", "list", "--application", "shop", "--group", "web", "--status", "Succeeded")
	if len(infos) != 1 || aws.ToString(infos[0].DeploymentId) != first {
		t.Errorf("deploy list --status Succeeded -o json = %+v", infos)
	}
	s.wantFail(1, "slipway: ValidationException: 1 validation error detected: Value 'Bogus' at 'includeOnlyStatuses[0]'", "deploy", "list", "--status", "Bogus")
	s.wantFail(2, "slipway: give one revision: --dir, --s3 or --github-repo with --commit", "deploy", "create", "--application", "shop", "--group", "web")
	s.wantFail(1, "slipway: DeploymentAlreadyCompletedException: ", "deploy", "stop", first)

	// An S3 revision (the bundle the first deployment uploaded), stopped
	// while it runs.
	if err := os.Rename(failFlag, failFlag+".slow"); err != nil {
		t.Fatal(err)
	}
	loc := infos[0].Revision.S3Location
	out = s.ok("deploy", "create", "--application", "shop", "--group", "web", "--s3", "s3://"+aws.ToString(loc.Bucket)+"/"+aws.ToString(loc.Key))
	third := regexp.MustCompile(`Created deployment (d-[A-Z0-9]+) `).FindStringSubmatch(out)
	if third == nil {
		t.Fatalf("deploy create --s3 printed %q", out)
	}
	if out := s.ok("deploy", "stop", third[1]); !strings.HasPrefix(out, "Deployment "+third[1]+": ") {
		t.Errorf("deploy stop printed %q", out)
	}
	s.wantFail(1, "slipway: deployment "+third[1]+" ended Stopped", "deploy", "status", third[1], "--watch")

	// deploy push registers a revision and prints where it went.
	var pushed pushResult
	s.jsonOut(&pushed, "deploy", "push", "--application", "shop", "--source", hookApp(t, "v3", failFlag), "--s3-location", "bundles/shop/v3.zip")
	if pushed.S3Location.Bucket != "bundles" || pushed.S3Location.Key != "shop/v3.zip" || pushed.S3Location.ETag == "" || len(pushed.SHA256) != 64 {
		t.Errorf("deploy push -o json = %+v", pushed)
	}

	// instance tag adds, changes and removes tags.
	if out := s.ok("instance", "tag", "node-1", "env=prod", "tier=1"); out != "Instance node-1 now has tags env=prod,role=web,tier=1\n" {
		t.Errorf("instance tag printed %q", out)
	}
	if out := s.ok("instance", "tag", "node-1", "tier=2", "--remove", "role"); out != "Instance node-1 now has tags env=prod,tier=2\n" {
		t.Errorf("instance tag --remove printed %q", out)
	}
	var insts []cdtypes.InstanceInfo
	s.jsonOut(&insts, "instance", "list")
	if len(insts) != 1 || aws.ToString(insts[0].InstanceName) != "node-1" || len(insts[0].Tags) != 2 {
		t.Errorf("instance list -o json = %+v", insts)
	}
	s.wantFail(1, "slipway: instance node-1 has no tag nope", "instance", "tag", "node-1", "--remove", "nope")
	s.wantFail(2, `slipway: tag "novalue": use KEY=VALUE`, "instance", "tag", "node-1", "novalue")
	s.wantFail(1, "slipway: InstanceNotRegisteredException: ", "instance", "tag", "ghost", "a=b")
}
