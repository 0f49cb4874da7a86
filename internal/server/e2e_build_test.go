package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/artifact/s3test"
	"github.com/slipway-cd/slipway/internal/auth"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// needGit skips a test when the git binary is missing.
func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("these tests push with the git binary, which is not installed")
	}
}

// gitIn runs git in dir as a developer would, without any user or system
// configuration, and returns its trimmed output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "XDG_CONFIG_HOME="+dir,
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// workTree is a git working copy whose remote "slipway" is a hosted
// repository, with the admin key in the URL.
type workTree struct {
	t   *testing.T
	dir string
}

// newWorkTree creates the hosted repository name through the extension
// API and a working copy that pushes to its clone URL.
func newWorkTree(t *testing.T, b *bundle, ext *slipwayapi.Client, name string) (*workTree, *slipwayapi.Repository) {
	t.Helper()
	out, err := ext.CreateRepository(context.Background(), &slipwayapi.CreateRepositoryInput{RepositoryName: name})
	if err != nil {
		t.Fatalf("CreateRepository %s: %v", name, err)
	}
	id, secret, _, err := auth.ReadCredentialsFile(filepath.Join(b.dir, "credentials"), "default")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(out.Repository.CloneURLHTTP)
	if err != nil {
		t.Fatalf("clone URL %q: %v", out.Repository.CloneURLHTTP, err)
	}
	u.User = url.UserPassword(id, secret)
	w := &workTree{t: t, dir: t.TempDir()}
	gitIn(t, w.dir, "init", "--quiet", "--initial-branch=main")
	gitIn(t, w.dir, "remote", "add", "slipway", u.String())
	return w, out.Repository
}

// write writes files (path -> content; mode 0755 for *.sh).
func (w *workTree) write(files map[string]string) {
	w.t.Helper()
	for name, content := range files {
		path := filepath.Join(w.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			w.t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			w.t.Fatal(err)
		}
	}
}

// commit writes files, commits them all and returns the commit ID.
func (w *workTree) commit(msg string, files map[string]string) string {
	w.t.Helper()
	w.write(files)
	gitIn(w.t, w.dir, "add", "--all")
	gitIn(w.t, w.dir, "commit", "--quiet", "--allow-empty", "-m", msg)
	return gitIn(w.t, w.dir, "rev-parse", "HEAD")
}

// push pushes refspecs to the hosted repository.
func (w *workTree) push(refspecs ...string) {
	w.t.Helper()
	gitIn(w.t, w.dir, append([]string{"push", "--quiet", "slipway"}, refspecs...)...)
}

// codeCommitSource is a CodeCommit source action on a hosted repository.
func codeCommitSource(name, repo, branch, output string) types.ActionDeclaration {
	return types.ActionDeclaration{
		Name:            aws.String(name),
		ActionTypeId:    &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerAws, Provider: aws.String("CodeCommit"), Version: aws.String("1")},
		Configuration:   map[string]string{"RepositoryName": repo, "BranchName": branch},
		OutputArtifacts: []types.OutputArtifact{{Name: aws.String(output)}},
		Namespace:       aws.String("SourceVariables"),
		RunOrder:        aws.Int32(1),
	}
}

// pushExecutions returns the executions of a pipeline that a push started
// (trigger type CloudWatchEvent or WebhookV2), newest first.
func pushExecutions(t *testing.T, c *codepipeline.Client, pipeline string) []types.PipelineExecutionSummary {
	t.Helper()
	out, err := c.ListPipelineExecutions(context.Background(), &codepipeline.ListPipelineExecutionsInput{PipelineName: aws.String(pipeline)})
	if err != nil {
		t.Fatalf("ListPipelineExecutions %s: %v", pipeline, err)
	}
	var got []types.PipelineExecutionSummary
	for _, s := range out.PipelineExecutionSummaries {
		if s.Trigger != nil && (s.Trigger.TriggerType == types.TriggerTypeCloudWatchEvent || s.Trigger.TriggerType == types.TriggerTypeWebhookV2) {
			got = append(got, s)
		}
	}
	return got
}

// waitPushExecutions waits until a push started n executions of the
// pipeline and returns them, newest first; it then checks that no more
// than n start.
func waitPushExecutions(t *testing.T, c *codepipeline.Client, pipeline string, n int) []types.PipelineExecutionSummary {
	t.Helper()
	var got []types.PipelineExecutionSummary
	eventually(t, pipeline+" started by pushes", func() (bool, string) {
		got = pushExecutions(t, c, pipeline)
		return len(got) >= n, strings.Repeat("x", len(got))
	})
	time.Sleep(200 * time.Millisecond) // a wrong extra start would show by now
	if got = pushExecutions(t, c, pipeline); len(got) != n {
		t.Fatalf("%s has %d executions started by pushes, want %d", pipeline, len(got), n)
	}
	return got
}

// sourceCommit returns the CommitId output variable of the source action
// run of an execution.
func sourceCommit(t *testing.T, c *codepipeline.Client, pipeline, execID, action string) (commit, branch string) {
	t.Helper()
	var d types.ActionExecutionDetail
	eventually(t, "the source action of "+execID+" to succeed", func() (bool, string) {
		d = actionExecutions(t, c, pipeline, execID)[action]
		return d.Status == types.ActionExecutionStatusSucceeded, string(d.Status)
	})
	if d.Output == nil {
		t.Fatalf("source action of %s has no output", execID)
	}
	return d.Output.OutputVariables["CommitId"], d.Output.OutputVariables["BranchName"]
}

// The repository operations of the extension API.
func TestRepositoriesAPI(t *testing.T) {
	t.Parallel()
	needGit(t)
	b := start(t, "", fastEngine)
	ctx := context.Background()
	ext := extClient(t, b)

	before := time.Now().Add(-time.Second)
	created, err := ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: "web-app", Description: "The web app"})
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	r := created.Repository
	wantARN := "arn:aws:codecommit:us-east-1:" + b.srv.AccountID() + ":web-app"
	if r.RepositoryName != "web-app" || r.Description != "The web app" || r.CloneURLHTTP != b.url+"/git/web-app" || r.ARN != wantARN ||
		r.Created == nil || r.Created.Time.Before(before) {
		t.Errorf("created repository = %+v; want clone URL %s/git/web-app, ARN %s", r, b.url, wantARN)
	}
	got, err := ext.GetRepository(ctx, &slipwayapi.GetRepositoryInput{RepositoryName: "web-app"})
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	if g := got.Repository; g.RepositoryName != r.RepositoryName || g.Description != r.Description || g.CloneURLHTTP != r.CloneURLHTTP ||
		g.ARN != r.ARN || g.Created == nil || !g.Created.Time.Equal(r.Created.Time) {
		t.Errorf("GetRepository = %+v; want %+v", g, r)
	}
	if _, err := ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: "lib"}); err != nil {
		t.Fatalf("CreateRepository lib: %v", err)
	}
	list, err := ext.ListRepositories(ctx, nil)
	if err != nil || len(list.Repositories) != 2 || list.Repositories[0].RepositoryName != "lib" || list.Repositories[1].RepositoryName != "web-app" ||
		list.Repositories[1].CloneURLHTTP != r.CloneURLHTTP {
		t.Errorf("ListRepositories = %+v, %v; want lib and web-app", list, err)
	}

	_, err = ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: "web-app"})
	wantExtError(t, err, slipwayapi.RepositoryNameExistsException, `repository "web-app" already exists`)
	for _, bad := range []string{"a b", "x.git", "..", strings.Repeat("a", 101), "a/b"} {
		_, err = ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{RepositoryName: bad})
		wantExtError(t, err, slipwayapi.InvalidRepositoryNameException, "is not valid")
	}
	_, err = ext.CreateRepository(ctx, &slipwayapi.CreateRepositoryInput{})
	wantExtError(t, err, slipwayapi.ValidationException, "repositoryName")
	_, err = ext.GetRepository(ctx, &slipwayapi.GetRepositoryInput{RepositoryName: "nope"})
	wantExtError(t, err, slipwayapi.RepositoryDoesNotExistException, `repository "nope" does not exist`)

	// A pushed repository can be cloned back.
	w, _ := newWorkTree(t, b, ext, "roundtrip")
	commit := w.commit("first", map[string]string{"README.md": "hello\n"})
	w.push("main")
	clone := filepath.Join(t.TempDir(), "clone")
	remote := gitIn(t, w.dir, "remote", "get-url", "slipway")
	gitIn(t, filepath.Dir(clone), "clone", "--quiet", remote, clone)
	if head := gitIn(t, clone, "rev-parse", "HEAD"); head != commit {
		t.Errorf("cloned HEAD = %s, want %s", head, commit)
	}

	if _, err := ext.DeleteRepository(ctx, &slipwayapi.DeleteRepositoryInput{RepositoryName: "lib"}); err != nil {
		t.Fatalf("DeleteRepository: %v", err)
	}
	_, err = ext.DeleteRepository(ctx, &slipwayapi.DeleteRepositoryInput{RepositoryName: "lib"})
	wantExtError(t, err, slipwayapi.RepositoryDoesNotExistException, `repository "lib" does not exist`)
	_, err = ext.GetRepository(ctx, &slipwayapi.GetRepositoryInput{RepositoryName: "lib"})
	wantExtError(t, err, slipwayapi.RepositoryDoesNotExistException, "lib")
}

// A push starts the pipelines that watch the pushed branch and no others;
// a V2 pipeline's trigger filters decide for it.
func TestPushTriggers(t *testing.T) {
	t.Parallel()
	needGit(t)
	b := start(t, "", fastEngine)
	ctx := context.Background()
	c, ext := b.client, extClient(t, b)

	pipelineOn := func(name, repo, branch string) *types.PipelineDeclaration {
		return &types.PipelineDeclaration{
			Name:          aws.String(name),
			RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
			ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("slipway-artifacts")},
			Stages: []types.StageDeclaration{
				{Name: aws.String("Source"), Actions: []types.ActionDeclaration{codeCommitSource("Source", repo, branch, "Code")}},
				{Name: aws.String("Review"), Actions: []types.ActionDeclaration{approvalAction("Approve", nil)}},
			},
		}
	}

	t.Run("branch", func(t *testing.T) {
		t.Parallel()
		w, _ := newWorkTree(t, b, ext, "branch-app")
		for name, branch := range map[string]string{"OnMain": "main", "OnRelease": "release"} {
			if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: pipelineOn(name, "branch-app", branch)}); err != nil {
				t.Fatalf("CreatePipeline %s: %v", name, err)
			}
		}
		first := w.commit("first", map[string]string{"app.sh": "echo hi\n"})
		w.push("main")
		x := waitPushExecutions(t, c, "OnMain", 1)[0]
		if x.Trigger.TriggerType != types.TriggerTypeCloudWatchEvent || !strings.Contains(aws.ToString(x.Trigger.TriggerDetail), "refs/heads/main") {
			t.Errorf("trigger = %+v, want CloudWatchEvent for refs/heads/main", x.Trigger)
		}
		if commit, branch := sourceCommit(t, c, "OnMain", aws.ToString(x.PipelineExecutionId), "Source"); commit != first || branch != "main" {
			t.Errorf("source ran commit %s of %s, want %s of main", commit, branch, first)
		}

		// Another branch starts the pipeline on that branch only.
		gitIn(t, w.dir, "checkout", "--quiet", "-b", "feature")
		w.commit("feature work", map[string]string{"feature.txt": "x\n"})
		w.push("feature")
		rel := w.commit("release", map[string]string{"VERSION": "1.0\n"})
		w.push("feature:release")
		waitPushExecutions(t, c, "OnMain", 1)
		x = waitPushExecutions(t, c, "OnRelease", 1)[0]
		if commit, branch := sourceCommit(t, c, "OnRelease", aws.ToString(x.PipelineExecutionId), "Source"); commit != rel || branch != "release" {
			t.Errorf("OnRelease ran commit %s of %s, want %s of release", commit, branch, rel)
		}
		// Tags and deleted branches start nothing without triggers.
		gitIn(t, w.dir, "tag", "v1")
		w.push("v1", ":feature")
		waitPushExecutions(t, c, "OnMain", 1)
		waitPushExecutions(t, c, "OnRelease", 1)
	})

	t.Run("V2 file path and tag filters", func(t *testing.T) {
		t.Parallel()
		w, _ := newWorkTree(t, b, ext, "mono")
		p := pipelineOn("Service", "mono", "main")
		p.PipelineType = types.PipelineTypeV2
		p.Triggers = []types.PipelineTriggerDeclaration{{
			ProviderType: types.PipelineTriggerProviderTypeCodeStarSourceConnection,
			GitConfiguration: &types.GitConfiguration{SourceActionName: aws.String("Source"), Push: []types.GitPushFilter{
				{Branches: &types.GitBranchFilterCriteria{Includes: []string{"main"}},
					FilePaths: &types.GitFilePathFilterCriteria{Includes: []string{"svc/**"}, Excludes: []string{"**.md"}}},
				{Tags: &types.GitTagFilterCriteria{Includes: []string{"v*"}, Excludes: []string{"*-rc"}}},
			}},
		}}
		if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: p}); err != nil {
			t.Fatalf("CreatePipeline: %v", err)
		}
		w.commit("docs", map[string]string{"docs/guide.md": "# Guide\n", "svc/README.md": "# Service\n"})
		w.push("main")
		waitPushExecutions(t, c, "Service", 0)

		svc := w.commit("service change", map[string]string{"svc/api/main.go": "package main\n"})
		w.push("main")
		x := waitPushExecutions(t, c, "Service", 1)[0]
		if x.Trigger.TriggerType != types.TriggerTypeWebhookV2 {
			t.Errorf("trigger = %+v, want WebhookV2", x.Trigger)
		}
		if commit, _ := sourceCommit(t, c, "Service", aws.ToString(x.PipelineExecutionId), "Source"); commit != svc {
			t.Errorf("source ran commit %s, want %s", commit, svc)
		}

		// On another branch the same change starts nothing.
		gitIn(t, w.dir, "checkout", "--quiet", "-b", "dev")
		w.commit("dev change", map[string]string{"svc/api/dev.go": "package main\n"})
		w.push("dev")
		waitPushExecutions(t, c, "Service", 1)

		// Tags: v* but not *-rc, pinned to the tagged commit.
		gitIn(t, w.dir, "tag", "v2-rc")
		w.push("v2-rc")
		waitPushExecutions(t, c, "Service", 1)
		tagged := w.commit("release", map[string]string{"README.md": "release\n"})
		gitIn(t, w.dir, "tag", "-a", "-m", "release 2", "v2")
		w.push("v2")
		x = waitPushExecutions(t, c, "Service", 2)[0]
		if !strings.Contains(aws.ToString(x.Trigger.TriggerDetail), "refs/tags/v2") {
			t.Errorf("trigger = %+v, want the push of refs/tags/v2", x.Trigger)
		}
		if commit, _ := sourceCommit(t, c, "Service", aws.ToString(x.PipelineExecutionId), "Source"); commit != tagged {
			t.Errorf("tag push ran commit %s, want the tagged commit %s", commit, tagged)
		}
	})
}

// The greeter app: a shell library, a shell test runner that writes JUnit
// XML, a buildspec that tests and packages it (the Build stage) and one
// that tests the package (the Test stage).
var greeterApp = map[string]string{
	"app/greet.sh": `# greet NAME prints a greeting; shout NAME prints it in capitals.
greet() { echo "Hello, ${1:-world}!"; }
shout() { greet "$1" | tr '[:lower:]' '[:upper:]'; }
`,
	"tests/run.sh": `#!/bin/sh
# Usage: tests/run.sh [LIBRARY [SUITE]]: runs the greeting tests against
# LIBRARY (app/greet.sh) and writes JUnit XML to reports/SUITE.xml.
set -u
lib=${1:-app/greet.sh}
suite=${2:-unit}
. "$lib"
mkdir -p reports
pass=0 fail=0 skip=0 cases=
check() {
	if [ "$3" = "$2" ]; then
		pass=$((pass + 1))
		cases="$cases<testcase classname=\"greet\" name=\"$1\" time=\"0.001\"/>"
		echo "PASS $1"
	else
		fail=$((fail + 1))
		cases="$cases<testcase classname=\"greet\" name=\"$1\" time=\"0.001\"><failure message=\"want $2, got $3\"/></testcase>"
		echo "FAIL $1: want $2, got $3"
	fi
}
check "greets by name" "Hello, Ada!" "$(greet Ada)"
check "greets the world by default" "Hello, world!" "$(greet)"
check "shouts" "HELLO, BOB!" "$(shout Bob)"
skip=$((skip + 1))
cases="$cases<testcase classname=\"greet\" name=\"greets in French\"><skipped/></testcase>"
echo "SKIP greets in French"
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="%s" tests="%d" failures="%d" skipped="%d">%s</testsuite></testsuites>\n' \
	"$suite" $((pass + fail + skip)) "$fail" "$skip" "$cases" > "reports/$suite.xml"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
`,
	"buildspec.yml": `version: 0.2
phases:
  build:
    commands:
      - echo "Testing commit $COMMIT_ID"
      - sh tests/run.sh app/greet.sh unit
  post_build:
    commands:
      - mkdir -p dist
      - cp app/greet.sh dist/greet.sh
      - printf '%s\n' "$COMMIT_ID" > dist/COMMIT
reports:
  unit-tests:
    files:
      - unit.xml
    base-directory: reports
artifacts:
  files:
    - '**/*'
  base-directory: dist
`,
	"buildspec-test.yml": `version: 0.2
phases:
  build:
    commands:
      - sh tests/run.sh "$CODEBUILD_SRC_DIR_BuildOutput/greet.sh" package
reports:
  package-tests:
    files:
      - reports/package.xml
`,
}

// waitLong is eventually with room for real builds on a busy machine.
func waitLong(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last state: %s", what, last)
}

// The "done": a hosted repository created through the API, a push
// of an app with a buildspec that runs unit tests, and a pipeline created
// before the push (Source: CodeCommit -> Build: CodeBuild -> Test:
// CodeBuild) that the push starts and that runs by itself to Succeeded;
// then the source's variables, the current revision, the test report
// counts, the build's log and the built artifact are all readable.
func TestBuildFromPush(t *testing.T) {
	t.Parallel()
	t.Run("filesystem artifact store", func(t *testing.T) {
		t.Parallel()
		testBuildFromPush(t, fastEngine)
	})
	t.Run("S3-compatible artifact store", func(t *testing.T) {
		t.Parallel()
		s3 := s3test.Start(t)
		s3.Bucket(t, "slipway-artifacts", true)
		testBuildFromPush(t, func(c *server.Config) {
			fastEngine(c)
			c.ArtifactS3 = &artifact.S3Config{Endpoint: s3.Endpoint, AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey}
			c.ArtifactBucket = "slipway-artifacts"
		})
	})
}

// testBuildFromPush: a push to a hosted repository runs Source -> Build ->
// Test by itself, with the artifact store mutate configures.
func testBuildFromPush(t *testing.T, mutate func(*server.Config)) {
	needGit(t)
	b := start(t, "", mutate)
	ctx := context.Background()
	c, ext := b.client, extClient(t, b)

	w, repo := newWorkTree(t, b, ext, "greeter")
	for name, path := range map[string]string{"greeter-build": "", "greeter-test": "buildspec-test.yml"} {
		p := slipwayapi.BuildProject{Name: name, BuildspecPath: path, TimeoutInMinutes: 5}
		if _, err := ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: p}); err != nil {
			t.Fatalf("CreateBuildProject %s: %v", name, err)
		}
	}
	codeBuild := func(category types.ActionCategory, name, project string, in, out []string, config map[string]string) types.ActionDeclaration {
		a := types.ActionDeclaration{
			Name:          aws.String(name),
			ActionTypeId:  &types.ActionTypeId{Category: category, Owner: types.ActionOwnerAws, Provider: aws.String("CodeBuild"), Version: aws.String("1")},
			Configuration: map[string]string{"ProjectName": project},
			RunOrder:      aws.Int32(1),
		}
		for k, v := range config {
			a.Configuration[k] = v
		}
		for _, n := range in {
			a.InputArtifacts = append(a.InputArtifacts, types.InputArtifact{Name: aws.String(n)})
		}
		for _, n := range out {
			a.OutputArtifacts = append(a.OutputArtifacts, types.OutputArtifact{Name: aws.String(n)})
		}
		return a
	}
	const pipelineName = "Greeter"
	decl := &types.PipelineDeclaration{
		Name:          aws.String(pipelineName),
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("greeter-artifacts")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{codeCommitSource("Source", repo.RepositoryName, "main", "SourceCode")}},
			{Name: aws.String("Build"), Actions: []types.ActionDeclaration{codeBuild(types.ActionCategoryBuild, "Build", "greeter-build",
				[]string{"SourceCode"}, []string{"BuildOutput"},
				map[string]string{"EnvironmentVariables": `[{"name":"COMMIT_ID","value":"#{SourceVariables.CommitId}","type":"PLAINTEXT"}]`})}},
			{Name: aws.String("Test"), Actions: []types.ActionDeclaration{codeBuild(types.ActionCategoryTest, "PackageTests", "greeter-test",
				[]string{"SourceCode", "BuildOutput"}, nil, map[string]string{"PrimarySource": "SourceCode"})}},
		},
	}
	if _, err := c.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: decl}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}

	commit := w.commit("Greeter with tests", greeterApp)
	w.push("main")
	x := waitPushExecutions(t, c, pipelineName, 1)[0]
	execID := aws.ToString(x.PipelineExecutionId)
	var final *types.PipelineExecution
	waitLong(t, "the pushed execution to succeed", func() (bool, string) {
		out, err := c.GetPipelineExecution(ctx, &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(pipelineName), PipelineExecutionId: aws.String(execID)})
		if err != nil {
			t.Fatalf("GetPipelineExecution: %v", err)
		}
		final = out.PipelineExecution
		switch final.Status {
		case types.PipelineExecutionStatusFailed, types.PipelineExecutionStatusStopped, types.PipelineExecutionStatusCancelled, types.PipelineExecutionStatusSuperseded:
			t.Fatalf("the pushed execution ended %s: %s; actions: %+v", final.Status, aws.ToString(final.StatusSummary), actionExecutions(t, c, pipelineName, execID))
		}
		return final.Status == types.PipelineExecutionStatusSucceeded, string(final.Status)
	})
	if final.Trigger == nil || final.Trigger.TriggerType != types.TriggerTypeCloudWatchEvent {
		t.Errorf("trigger = %+v, want CloudWatchEvent", final.Trigger)
	}
	if len(final.ArtifactRevisions) == 0 || aws.ToString(final.ArtifactRevisions[0].RevisionId) != commit {
		t.Errorf("artifact revisions = %+v, want the pushed commit %s", final.ArtifactRevisions, commit)
	}

	runs := actionExecutions(t, c, pipelineName, execID)
	src, build, test := runs["Source"], runs["Build"], runs["PackageTests"]
	for name, d := range map[string]types.ActionExecutionDetail{"Source": src, "Build": build, "PackageTests": test} {
		if d.Status != types.ActionExecutionStatusSucceeded || d.Output == nil {
			t.Fatalf("%s = %s with output %+v, want Succeeded", name, d.Status, d.Output)
		}
	}

	// The source action: CodeCommit's output variables, pinned to the push.
	vars := src.Output.OutputVariables
	if vars["CommitId"] != commit || vars["BranchName"] != "main" || vars["RepositoryName"] != "greeter" ||
		vars["CommitMessage"] != "Greeter with tests" || vars["AuthorDisplayName"] != "Dev <dev@example.com>" {
		t.Errorf("source output variables = %v, want commit %s of main", vars, commit)
	}
	state := pipelineState(t, c, pipelineName)
	if a := actionState(state, "Source", "Source"); a == nil || a.CurrentRevision == nil || aws.ToString(a.CurrentRevision.RevisionId) != commit {
		t.Errorf("Source currentRevision = %+v, want %s", a, commit)
	}

	// The Test action's summary counts the package tests; the Build's
	// the unit tests.
	summary := func(d types.ActionExecutionDetail) string {
		if d.Output.ExecutionResult == nil {
			return ""
		}
		return aws.ToString(d.Output.ExecutionResult.ExternalExecutionSummary)
	}
	if s := summary(test); !strings.Contains(s, "Build SUCCEEDED") || !strings.Contains(s, "Report package-tests: 4 total, 3 passed, 0 failed, 1 skipped") {
		t.Errorf("PackageTests summary = %q, want the package-tests report counts", s)
	}
	if s := summary(build); !strings.Contains(s, "Report unit-tests: 4 total, 3 passed, 0 failed, 1 skipped") {
		t.Errorf("Build summary = %q, want the unit-tests report counts", s)
	}

	// The build's log, read to its end through the extension API.
	var logText strings.Builder
	var after int64
	for complete := false; !complete; {
		out, err := ext.GetActionLog(ctx, &slipwayapi.GetActionLogInput{ActionExecutionID: aws.ToString(build.ActionExecutionId), AfterSeq: after})
		if err != nil {
			t.Fatalf("GetActionLog: %v", err)
		}
		for _, ch := range out.Chunks {
			logText.WriteString(ch.Data)
		}
		if len(out.Chunks) == 0 && !out.Complete {
			t.Fatalf("GetActionLog of a finished build returned nothing and is not complete (after %d)", after)
		}
		after, complete = out.NextSeq, out.Complete
	}
	for _, want := range []string{"greeter-build", "Testing commit " + commit, "PASS greets by name", "SKIP greets in French", "3 passed, 0 failed, 1 skipped"} {
		if !strings.Contains(logText.String(), want) {
			t.Errorf("build log does not contain %q:\n%s", want, logText.String())
		}
	}

	// The build artifact, straight from the server's artifact store.
	var loc *types.S3Location
	for _, o := range build.Output.OutputArtifacts {
		if aws.ToString(o.Name) == "BuildOutput" {
			loc = o.S3location
		}
	}
	if loc == nil {
		t.Fatalf("Build output artifacts = %+v, want BuildOutput with an s3location", build.Output.OutputArtifacts)
	}
	// The artifact's contents, through the extension API.
	got, err := ext.GetArtifact(ctx, &slipwayapi.GetArtifactInput{Bucket: aws.ToString(loc.Bucket), Key: aws.ToString(loc.Key)})
	if err != nil {
		t.Fatalf("GetArtifact %s/%s: %v", aws.ToString(loc.Bucket), aws.ToString(loc.Key), err)
	}
	data := got.Content
	if _, err := ext.GetArtifact(ctx, &slipwayapi.GetArtifactInput{Bucket: aws.ToString(loc.Bucket), Key: "no/such/key"}); slipwayapi.ErrorCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetArtifact of a missing key: %v, want ResourceNotFoundException", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("the build artifact is not a zip file: %v", err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		files[f.Name] = string(b)
	}
	if len(files) != 2 || files["greet.sh"] != greeterApp["app/greet.sh"] || files["COMMIT"] != commit+"\n" {
		t.Errorf("build artifact holds %q; want greet.sh and COMMIT = %s", files, commit)
	}
}
