package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/artifact"
	"github.com/slipway-cd/slipway/internal/server"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// These tests run real builds: a server with its embedded workers, a
// custom source action that the test itself completes (it uploads the
// source zip to the artifact location of the job, in the server's
// filesystem artifact store), then CodeBuild and Commands actions that
// the embedded workers run in shell processes.

// buildEngine is fastEngine with heartbeats short enough that a stopped
// build is killed within a second.
func buildEngine(c *server.Config) {
	fastEngine(c)
	c.Engine.HeartbeatLease = 2 * time.Second
}

// buildBundle starts a server for build tests and returns it with an
// extension API client.
func buildBundle(t *testing.T) (*bundle, *slipwayapi.Client) {
	t.Helper()
	b := start(t, "", buildEngine)
	return b, extClient(t, b)
}

// sourceType registers the custom source action type the tests complete
// by hand.
func sourceType(t *testing.T, b *bundle, provider string) {
	t.Helper()
	if _, err := b.client.CreateCustomActionType(context.Background(), customType(types.ActionCategorySource, provider, 0, 1)); err != nil {
		t.Fatalf("CreateCustomActionType: %v", err)
	}
}

// buildPipeline is Source (the custom type) -> one action in stage Build.
func buildPipeline(name, provider string, build types.ActionDeclaration) *types.PipelineDeclaration {
	return &types.PipelineDeclaration{
		Name:          aws.String(name),
		PipelineType:  types.PipelineTypeV2,
		RoleArn:       aws.String("arn:aws:iam::123456789012:role/AWS-CodePipeline-Service"),
		ArtifactStore: &types.ArtifactStore{Type: types.ArtifactStoreTypeS3, Location: aws.String("slipway-artifacts")},
		Stages: []types.StageDeclaration{
			{Name: aws.String("Source"), Actions: []types.ActionDeclaration{customAction("Fetch", types.ActionCategorySource, provider, nil, []string{"Code"}, map[string]string{"ProjectName": "src"})}},
			{Name: aws.String("Build"), Actions: []types.ActionDeclaration{build}},
		},
	}
}

func codeBuildAction(project string, config map[string]string, outputs ...string) types.ActionDeclaration {
	cfg := map[string]string{"ProjectName": project}
	for k, v := range config {
		cfg[k] = v
	}
	a := types.ActionDeclaration{
		Name:           aws.String("Compile"),
		ActionTypeId:   &types.ActionTypeId{Category: types.ActionCategoryBuild, Owner: types.ActionOwnerAws, Provider: aws.String("CodeBuild"), Version: aws.String("1")},
		Configuration:  cfg,
		InputArtifacts: []types.InputArtifact{{Name: aws.String("Code")}},
		Namespace:      aws.String("BuildVars"),
		RunOrder:       aws.Int32(1),
	}
	for _, o := range outputs {
		a.OutputArtifacts = append(a.OutputArtifacts, types.OutputArtifact{Name: aws.String(o)})
	}
	return a
}

// zipFiles makes a zip holding files (path -> content); paths ending in
// .sh are executable.
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
		if _, err := io.WriteString(w, files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// unzipFiles reads a zip into path -> content.
func unzipFiles(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("output artifact is not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

// completeSource claims the custom source job, stores files as its output
// artifact, and reports success with revision.
func completeSource(t *testing.T, b *bundle, provider string, files map[string]string, revision string) {
	t.Helper()
	ctx := context.Background()
	typ := &types.ActionTypeId{Category: types.ActionCategorySource, Owner: types.ActionOwnerCustom, Provider: aws.String(provider), Version: aws.String("1")}
	var job types.Job
	eventually(t, "a source job", func() (bool, string) {
		out, err := b.client.PollForJobs(ctx, &codepipeline.PollForJobsInput{ActionTypeId: typ, MaxBatchSize: aws.Int32(1)})
		if err != nil {
			t.Fatalf("PollForJobs: %v", err)
		}
		if len(out.Jobs) == 0 {
			return false, "no job"
		}
		job = out.Jobs[0]
		return true, ""
	})
	if _, err := b.client.AcknowledgeJob(ctx, &codepipeline.AcknowledgeJobInput{JobId: job.Id, Nonce: job.Nonce}); err != nil {
		t.Fatalf("AcknowledgeJob: %v", err)
	}
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

// startPipeline creates the pipeline (which starts an execution) and
// returns the execution's ID.
func startPipeline(t *testing.T, b *bundle, p *types.PipelineDeclaration) string {
	t.Helper()
	ctx := context.Background()
	if _, err := b.client.CreatePipeline(ctx, &codepipeline.CreatePipelineInput{Pipeline: p}); err != nil {
		t.Fatalf("CreatePipeline: %v", err)
	}
	var id string
	eventually(t, "an execution", func() (bool, string) {
		out, err := b.client.ListPipelineExecutions(ctx, &codepipeline.ListPipelineExecutionsInput{PipelineName: p.Name})
		if err != nil {
			t.Fatalf("ListPipelineExecutions: %v", err)
		}
		if len(out.PipelineExecutionSummaries) == 0 {
			return false, "none"
		}
		id = aws.ToString(out.PipelineExecutionSummaries[0].PipelineExecutionId)
		return true, ""
	})
	return id
}

// actionExecution returns the latest run of an action of a pipeline.
func actionExecution(t *testing.T, b *bundle, pipeline, action string) types.ActionExecutionDetail {
	t.Helper()
	out, err := b.client.ListActionExecutions(context.Background(), &codepipeline.ListActionExecutionsInput{PipelineName: aws.String(pipeline)})
	if err != nil {
		t.Fatalf("ListActionExecutions: %v", err)
	}
	for _, d := range out.ActionExecutionDetails {
		if aws.ToString(d.ActionName) == action {
			return d
		}
	}
	t.Fatalf("no execution of action %s", action)
	return types.ActionExecutionDetail{}
}

// readLog reads an action execution's log to its end (for now) after seq
// and returns the text, the next seq and whether the log is complete.
func readLog(t *testing.T, ext *slipwayapi.Client, id string, after int64) (string, int64, bool) {
	t.Helper()
	var text strings.Builder
	for {
		out, err := ext.GetActionLog(context.Background(), &slipwayapi.GetActionLogInput{ActionExecutionID: id, AfterSeq: after, MaxChunks: 2})
		if err != nil {
			t.Fatalf("GetActionLog: %v", err)
		}
		for i, c := range out.Chunks {
			if want := after + int64(i) + 1; c.Seq != want {
				t.Fatalf("chunk seq %d, want %d", c.Seq, want)
			}
			if c.Time == nil {
				t.Errorf("chunk %d has no time", c.Seq)
			}
			text.WriteString(c.Data)
		}
		after = out.NextSeq
		if out.Complete || len(out.Chunks) < 2 {
			return text.String(), after, out.Complete
		}
	}
}

// fullLog waits for an action's log to be complete and returns it.
func fullLog(t *testing.T, ext *slipwayapi.Client, id string) string {
	t.Helper()
	var all strings.Builder
	var after int64
	eventually(t, "the complete log", func() (bool, string) {
		text, next, complete := readLog(t, ext, id, after)
		all.WriteString(text)
		after = next
		return complete, all.String()
	})
	return all.String()
}

const unitBuildspec = `version: 0.2
env:
  variables:
    GREETING: hello
  secrets-manager:
    DB_PASSWORD: db-creds:password
  exported-variables:
    - IMAGE_TAG
    - BUILT_BY
phases:
  install:
    commands:
      - echo "installing in $CODEBUILD_SRC_DIR"
  build:
    commands:
      - echo "building $GREETING with $PROJECT_VAR for $CODEBUILD_INITIATOR"
      - echo "db password is $DB_PASSWORD and token is $API_TOKEN"
      - ./run_tests.sh
      - mkdir -p dist/bin && echo "app at $CODEBUILD_RESOLVED_SOURCE_VERSION" > dist/bin/app.txt
      - cp $CODEBUILD_SRC_DIR/README dist/
      - export IMAGE_TAG=v$CODEBUILD_BUILD_NUMBER
      - BUILT_BY=$CODEBUILD_BUILD_ID
reports:
  unit:
    files:
      - '**/*.xml'
    base-directory: reports
artifacts:
  base-directory: dist
  files:
    - '**/*'
`

const runTests = `#!/bin/sh
mkdir -p reports
cat > reports/junit.xml <<'EOF'
<testsuites>
  <testsuite name="calc" tests="3">
    <testcase classname="calc" name="adds" time="0.010"/>
    <testcase classname="calc" name="subtracts" time="0.020"/>
    <testcase classname="calc" name="divides"><skipped/></testcase>
  </testsuite>
</testsuites>
EOF
echo "3 tests ran"
`

func TestCodeBuildAction(t *testing.T) {
	t.Parallel()
	b, ext := buildBundle(t)
	ctx := context.Background()
	sourceType(t, b, "BuildSrc")

	// Secrets and the project, through the extension API.
	if _, err := ext.PutSecret(ctx, &slipwayapi.PutSecretInput{Name: "db-creds", Value: `{"user":"app","password":"s3cr3t-db-pw"}`}); err != nil {
		t.Fatalf("PutSecret: %v", err)
	}
	if _, err := ext.PutSecret(ctx, &slipwayapi.PutSecretInput{Name: "api-token", Value: "tok-9f8e7d"}); err != nil {
		t.Fatalf("PutSecret: %v", err)
	}
	secrets, err := ext.ListSecrets(ctx, nil)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if raw, _ := json.Marshal(secrets); len(secrets.Secrets) != 2 || strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), "tok-9f8e7d") {
		t.Errorf("ListSecrets = %s, want two names without values", raw)
	}
	created, err := ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{
		Name: "unit", Buildspec: unitBuildspec,
		EnvironmentVariables: []slipwayapi.BuildEnvironmentVariable{
			{Name: "PROJECT_VAR", Value: "from-project"},
			{Name: "API_TOKEN", Value: "api-token", Type: slipwayapi.EnvTypeSecret},
		},
	}})
	if err != nil {
		t.Fatalf("CreateBuildProject: %v", err)
	}
	if p := created.Project; p.TimeoutInMinutes != 60 || p.BuildspecPath != "" || p.EnvironmentVariables[0].Type != "PLAINTEXT" || p.Created == nil {
		t.Errorf("created project = %+v, want the defaults filled in", p)
	}

	action := codeBuildAction("unit", map[string]string{
		"EnvironmentVariables": `[{"name":"PROJECT_VAR","value":"from-action","type":"PLAINTEXT"}]`,
	}, "BuildOut")
	execID := startPipeline(t, b, buildPipeline("Unit", "BuildSrc", action))
	completeSource(t, b, "BuildSrc", map[string]string{"run_tests.sh": runTests, "README": "readme\n"}, "rev-1234")
	waitExecution(t, b.client, "Unit", execID, types.PipelineExecutionStatusSucceeded)

	st := actionState(pipelineState(t, b.client, "Unit"), "Build", "Compile")
	summary := aws.ToString(st.LatestExecution.Summary)
	if !strings.Contains(summary, "Build SUCCEEDED") || !strings.Contains(summary, "Report unit: 3 total, 2 passed, 0 failed, 1 skipped") {
		t.Errorf("summary = %q, want the status and the report counts", summary)
	}
	d := actionExecution(t, b, "Unit", "Compile")
	id := aws.ToString(d.ActionExecutionId)
	vars := d.Output.OutputVariables
	if vars["IMAGE_TAG"] != "v1" || vars["BUILT_BY"] != "unit:"+id {
		t.Errorf("output variables = %v, want IMAGE_TAG=v1 and BUILT_BY=unit:%s", vars, id)
	}
	if ext := aws.ToString(d.Output.ExecutionResult.ExternalExecutionId); ext != "unit:"+id {
		t.Errorf("externalExecutionId = %q, want the build ID unit:%s", ext, id)
	}

	// The output artifact holds dist/, as the buildspec's base-directory.
	loc := d.Output.OutputArtifacts[0].S3location
	fs, err := artifact.NewFSStore(filepath.Join(b.dir, artifact.FSDirName))
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := fs.Get(ctx, aws.ToString(loc.Bucket), aws.ToString(loc.Key))
	if err != nil {
		t.Fatalf("read the output artifact: %v", err)
	}
	data, _ := io.ReadAll(r)
	r.Close()
	files := unzipFiles(t, data)
	if len(files) != 2 || files["bin/app.txt"] != "app at rev-1234\n" || files["README"] != "readme\n" {
		t.Errorf("output artifact = %v, want bin/app.txt (with the source revision) and README", files)
	}

	// The log: the build's output with secrets redacted.
	log := fullLog(t, ext, id)
	for _, want := range []string{
		"building hello with from-action for codepipeline/Unit",
		"db password is *** and token is ***",
		"3 tests ran",
		"Report group unit",
		"Uploaded output artifact BuildOut",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "s3cr3t-db-pw") || strings.Contains(log, "tok-9f8e7d") {
		t.Errorf("log shows a secret value:\n%s", log)
	}

	// A second run gets the next build number; the project is found by name.
	if _, err := b.client.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("Unit")}); err != nil {
		t.Fatalf("StartPipelineExecution: %v", err)
	}
	completeSource(t, b, "BuildSrc", map[string]string{"run_tests.sh": runTests, "README": "readme\n"}, "rev-5678")
	eventually(t, "the second build", func() (bool, string) {
		d := actionExecution(t, b, "Unit", "Compile")
		return d.Status == types.ActionExecutionStatusSucceeded && aws.ToString(d.ActionExecutionId) != id, string(d.Status)
	})
	if tag := actionExecution(t, b, "Unit", "Compile").Output.OutputVariables["IMAGE_TAG"]; tag != "v2" {
		t.Errorf("second build IMAGE_TAG = %q, want v2", tag)
	}
}

func TestCodeBuildLiveLog(t *testing.T) {
	t.Parallel()
	b, ext := buildBundle(t)
	ctx := context.Background()
	sourceType(t, b, "LiveSrc")
	// No project named "live": the buildspec.yml of the source runs.
	execID := startPipeline(t, b, buildPipeline("Live", "LiveSrc", codeBuildAction("live", nil)))
	completeSource(t, b, "LiveSrc", map[string]string{"buildspec.yml": `version: 0.2
phases:
  build:
    commands:
      - echo "step one started"
      - sleep 3
      - echo "step two done"
`}, "rev-live")

	var id string
	eventually(t, "the build to start", func() (bool, string) {
		st := actionState(pipelineState(t, b.client, "Live"), "Build", "Compile")
		if st == nil || st.LatestExecution == nil || st.LatestExecution.ActionExecutionId == nil {
			return false, "not started"
		}
		id = aws.ToString(st.LatestExecution.ActionExecutionId)
		return true, ""
	})
	// While the build sleeps, the first line is readable and the log is
	// not complete.
	var seen strings.Builder
	var after int64
	eventually(t, "the first line while the build runs", func() (bool, string) {
		text, next, complete := readLog(t, ext, id, after)
		if complete {
			t.Fatalf("the log is complete before the build ended:\n%s", seen.String()+text)
		}
		seen.WriteString(text)
		after = next
		return strings.Contains(seen.String(), "step one started"), seen.String()
	})
	if strings.Contains(seen.String(), "step two done") {
		t.Errorf("the log shows the end of the build before its sleep ended:\n%s", seen.String())
	}
	if s := actionStatus(pipelineState(t, b.client, "Live"), "Build", "Compile"); s != string(types.ActionExecutionStatusInProgress) {
		t.Errorf("action status while its log was read = %s, want InProgress", s)
	}
	if !strings.Contains(seen.String(), `Build project "live" does not exist on this Slipway server`) {
		t.Errorf("the log does not say the project is unknown:\n%s", seen.String())
	}
	// Following the log from nextSeq reaches the end once the build ends.
	rest := fullLogAfter(t, ext, id, after)
	if !strings.Contains(rest, "step two done") || strings.Contains(rest, "step one started") {
		t.Errorf("the rest of the log = %q, want only what followed", rest)
	}
	waitExecution(t, b.client, "Live", execID, types.PipelineExecutionStatusSucceeded)

	_, err := ext.GetActionLog(ctx, &slipwayapi.GetActionLogInput{ActionExecutionID: "00000000-0000-0000-0000-000000000000"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "does not exist")
	_, err = ext.GetActionLog(ctx, &slipwayapi.GetActionLogInput{ActionExecutionID: id, MaxChunks: 5000})
	wantExtError(t, err, slipwayapi.ValidationException, "maxChunks")
}

func fullLogAfter(t *testing.T, ext *slipwayapi.Client, id string, after int64) string {
	t.Helper()
	var all strings.Builder
	eventually(t, "the complete log", func() (bool, string) {
		text, next, complete := readLog(t, ext, id, after)
		all.WriteString(text)
		after = next
		return complete, all.String()
	})
	return all.String()
}

func TestCodeBuildFailure(t *testing.T) {
	t.Parallel()
	b, ext := buildBundle(t)
	sourceType(t, b, "FailSrc")
	if _, err := ext.CreateBuildProject(context.Background(), &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{
		Name: "failing", BuildspecPath: "ci/build.yml",
	}}); err != nil {
		t.Fatalf("CreateBuildProject: %v", err)
	}
	execID := startPipeline(t, b, buildPipeline("Fail", "FailSrc", codeBuildAction("failing", nil, "Out")))
	completeSource(t, b, "FailSrc", map[string]string{"ci/build.yml": `version: 0.2
phases:
  build:
    commands:
      - echo "compiling"
      - sh -c 'echo "compiler error x.go:3" >&2; exit 3'
      - echo "never runs"
    finally:
      - echo "build finally ran"
  post_build:
    commands:
      - echo "post_build ran, succeeding=$CODEBUILD_BUILD_SUCCEEDING"
artifacts:
  files: ['**/*']
`}, "rev-bad")
	waitExecution(t, b.client, "Fail", execID, types.PipelineExecutionStatusFailed)

	latest := actionState(pipelineState(t, b.client, "Fail"), "Build", "Compile").LatestExecution
	if latest.Status != types.ActionExecutionStatusFailed || latest.ErrorDetails == nil {
		t.Fatalf("action = %+v, want Failed with errorDetails", latest)
	}
	msg := aws.ToString(latest.ErrorDetails.Message)
	for _, want := range []string{
		`Error while executing command: sh -c 'echo "compiler error x.go:3" >&2; exit 3'. Reason: exit status 3`,
		"--- log tail ---",
		"compiler error x.go:3",
		"post_build ran, succeeding=0",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errorDetails.message lacks %q:\n%s", want, msg)
		}
	}
	if code := aws.ToString(latest.ErrorDetails.Code); code != "JobFailed" {
		t.Errorf("errorDetails.code = %s, want JobFailed", code)
	}
	if s := aws.ToString(latest.Summary); s != msg {
		t.Errorf("summary = %q, want the failure message", s)
	}
	log := fullLog(t, ext, aws.ToString(latest.ActionExecutionId))
	for _, want := range []string{"Using ci/build.yml", "compiling", "build finally ran", "post_build ran, succeeding=0"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "never runs") {
		t.Errorf("a command after the failing one ran:\n%s", log)
	}
}

func TestCodeBuildStopAbandonKillsBuild(t *testing.T) {
	t.Parallel()
	b, ext := buildBundle(t)
	ctx := context.Background()
	sourceType(t, b, "StopSrc")
	execID := startPipeline(t, b, buildPipeline("Stop", "StopSrc", codeBuildAction("stoppable", nil)))
	completeSource(t, b, "StopSrc", map[string]string{"buildspec.yml": `version: 0.2
phases:
  build:
    commands:
      - sh -c 'echo "sleeper pid $$"; exec sleep 120'
`}, "rev-stop")

	var id string
	eventually(t, "the build to start", func() (bool, string) {
		st := actionState(pipelineState(t, b.client, "Stop"), "Build", "Compile")
		if st == nil || st.LatestExecution == nil || st.LatestExecution.ActionExecutionId == nil {
			return false, "not started"
		}
		id = aws.ToString(st.LatestExecution.ActionExecutionId)
		return true, ""
	})
	pidRE := regexp.MustCompile(`sleeper pid (\d+)`)
	var pid int
	var log strings.Builder
	var after int64
	eventually(t, "the sleeper's pid in the log", func() (bool, string) {
		text, next, _ := readLog(t, ext, id, after)
		log.WriteString(text)
		after = next
		m := pidRE.FindStringSubmatch(log.String())
		if m == nil {
			return false, log.String()
		}
		pid, _ = strconv.Atoi(m[1])
		return true, ""
	})
	if !alive(pid) {
		t.Fatalf("the sleeper (pid %d) is not running before the stop", pid)
	}
	if _, err := b.client.StopPipelineExecution(ctx, &codepipeline.StopPipelineExecutionInput{
		PipelineName: aws.String("Stop"), PipelineExecutionId: aws.String(execID), Abandon: true, Reason: aws.String("test stop"),
	}); err != nil {
		t.Fatalf("StopPipelineExecution: %v", err)
	}
	waitExecution(t, b.client, "Stop", execID, types.PipelineExecutionStatusStopped)
	eventually(t, "the build's process to end", func() (bool, string) {
		return !alive(pid), "pid " + strconv.Itoa(pid) + " still running"
	})
	if s := actionStatus(pipelineState(t, b.client, "Stop"), "Build", "Compile"); s != string(types.ActionExecutionStatusAbandoned) {
		t.Errorf("action status = %s, want Abandoned", s)
	}
	// The log is complete once the action has ended.
	fullLogAfter(t, ext, id, after)
}

// alive reports whether a process with the pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func TestCommandsAction(t *testing.T) {
	t.Parallel()
	b, ext := buildBundle(t)
	ctx := context.Background()
	sourceType(t, b, "CmdSrc")
	if _, err := ext.PutSecret(ctx, &slipwayapi.PutSecretInput{Name: "deploy-key", Value: "dk-123456"}); err != nil {
		t.Fatalf("PutSecret: %v", err)
	}
	cmds := types.ActionDeclaration{
		Name:           aws.String("Run"),
		ActionTypeId:   &types.ActionTypeId{Category: types.ActionCategoryCompute, Owner: types.ActionOwnerAws, Provider: aws.String("Commands"), Version: aws.String("1")},
		InputArtifacts: []types.InputArtifact{{Name: aws.String("Code")}},
		Commands: []string{
			"echo \"run #{codepipeline.PipelineExecutionId}\" > out/run.txt",
			"cat version.txt >> out/run.txt",
			"export VERSION=$(cat version.txt)",
			"COMMIT=$CODEBUILD_RESOLVED_SOURCE_VERSION",
			"echo \"stage $STAGE with key $DEPLOY_KEY\"",
		},
		OutputVariables:      []string{"VERSION", "COMMIT"},
		OutputArtifacts:      []types.OutputArtifact{{Name: aws.String("Result"), Files: []string{"out/**/*"}}},
		EnvironmentVariables: []types.EnvironmentVariable{{Name: aws.String("STAGE"), Value: aws.String("beta")}, {Name: aws.String("DEPLOY_KEY"), Value: aws.String("deploy-key"), Type: types.EnvironmentVariableTypeSecretsManager}},
		Namespace:            aws.String("RunVars"),
		RunOrder:             aws.Int32(1),
	}
	execID := startPipeline(t, b, buildPipeline("Cmds", "CmdSrc", cmds))
	completeSource(t, b, "CmdSrc", map[string]string{"version.txt": "1.4.2\n", "out/keep.txt": "kept\n", "other.txt": "left out\n"}, "rev-cmd")
	waitExecution(t, b.client, "Cmds", execID, types.PipelineExecutionStatusSucceeded)

	d := actionExecution(t, b, "Cmds", "Run")
	if v := d.Output.OutputVariables; v["VERSION"] != "1.4.2" || v["COMMIT"] != "rev-cmd" || len(v) != 2 {
		t.Errorf("output variables = %v, want VERSION=1.4.2 and COMMIT=rev-cmd", v)
	}
	loc := d.Output.OutputArtifacts[0].S3location
	fs, err := artifact.NewFSStore(filepath.Join(b.dir, artifact.FSDirName))
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := fs.Get(ctx, aws.ToString(loc.Bucket), aws.ToString(loc.Key))
	if err != nil {
		t.Fatalf("read the output artifact: %v", err)
	}
	data, _ := io.ReadAll(r)
	r.Close()
	files := unzipFiles(t, data)
	if len(files) != 2 || files["out/run.txt"] != "run "+execID+"\n1.4.2\n" || files["out/keep.txt"] != "kept\n" {
		t.Errorf("output artifact = %v, want out/run.txt (with the execution ID) and out/keep.txt only", files)
	}
	log := fullLog(t, ext, aws.ToString(d.ActionExecutionId))
	if !strings.Contains(log, "stage beta with key ***") || strings.Contains(log, "dk-123456") {
		t.Errorf("log = %s, want the variables with the secret redacted", log)
	}

	// A failing command fails the action with the command and its exit code.
	upd, err := b.client.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("Cmds")})
	if err != nil {
		t.Fatal(err)
	}
	upd.Pipeline.Stages[1].Actions[0].Commands = []string{"echo about to fail", "false", "echo unreachable"}
	if _, err := b.client.UpdatePipeline(ctx, &codepipeline.UpdatePipelineInput{Pipeline: upd.Pipeline}); err != nil {
		t.Fatalf("UpdatePipeline: %v", err)
	}
	out, err := b.client.StartPipelineExecution(ctx, &codepipeline.StartPipelineExecutionInput{Name: aws.String("Cmds")})
	if err != nil {
		t.Fatal(err)
	}
	completeSource(t, b, "CmdSrc", map[string]string{"version.txt": "1.4.3\n"}, "rev-cmd2")
	waitExecution(t, b.client, "Cmds", aws.ToString(out.PipelineExecutionId), types.PipelineExecutionStatusFailed)
	latest := actionState(pipelineState(t, b.client, "Cmds"), "Build", "Run").LatestExecution
	if msg := aws.ToString(latest.ErrorDetails.Message); !strings.Contains(msg, "Error while executing command: false. Reason: exit status 1") ||
		!strings.Contains(msg, "about to fail") {
		t.Errorf("errorDetails.message = %q, want the failing command, its exit code and the log tail", msg)
	}
}

func TestBuildProjectsAndSecretsAPI(t *testing.T) {
	t.Parallel()
	b := start(t, "", nil)
	ext := extClient(t, b)
	ctx := context.Background()

	_, err := ext.GetBuildProject(ctx, &slipwayapi.GetBuildProjectInput{Name: "web"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "CreateBuildProject")
	_, err = ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{Name: "web", Buildspec: "version: 0.1\n"}})
	wantExtError(t, err, slipwayapi.ValidationException, "0.1")
	_, err = ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{Name: "web", Buildspec: "version: 0.2", BuildspecPath: "x.yml"}})
	wantExtError(t, err, slipwayapi.ValidationException, "buildspecPath")
	_, err = ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{Name: "web", TimeoutInMinutes: 481}})
	wantExtError(t, err, slipwayapi.ValidationException, "timeoutInMinutes")
	_, err = ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{Name: "web", BuildspecPath: "../x.yml"}})
	wantExtError(t, err, slipwayapi.ValidationException, "buildspecPath")
	_, err = ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: slipwayapi.BuildProject{Name: "web",
		EnvironmentVariables: []slipwayapi.BuildEnvironmentVariable{{Name: "CODEBUILD_X", Value: "1"}}}})
	wantExtError(t, err, slipwayapi.ValidationException, "CODEBUILD_")

	p := slipwayapi.BuildProject{Name: "web", Description: "the web app", WorkerLabels: []string{"linux"}, TimeoutInMinutes: 30}
	created, err := ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: p})
	if err != nil {
		t.Fatalf("CreateBuildProject: %v", err)
	}
	if created.Project.BuildspecPath != "buildspec.yml" || created.Project.TimeoutInMinutes != 30 {
		t.Errorf("created = %+v, want buildspecPath buildspec.yml and timeout 30", created.Project)
	}
	_, err = ext.CreateBuildProject(ctx, &slipwayapi.CreateBuildProjectInput{BuildProject: p})
	wantExtError(t, err, slipwayapi.ResourceAlreadyExistsException, "UpdateBuildProject")
	p.Buildspec, p.TimeoutInMinutes = "version: 0.2\nphases:\n  build:\n    commands: [make]\n", 0
	updated, err := ext.UpdateBuildProject(ctx, &slipwayapi.UpdateBuildProjectInput{BuildProject: p})
	if err != nil {
		t.Fatalf("UpdateBuildProject: %v", err)
	}
	if u := updated.Project; u.BuildspecPath != "" || u.TimeoutInMinutes != 60 || !u.Created.Equal(created.Project.Created.Time) {
		t.Errorf("updated = %+v, want the inline buildspec, the default timeout and the creation time kept", u)
	}
	_, err = ext.UpdateBuildProject(ctx, &slipwayapi.UpdateBuildProjectInput{BuildProject: slipwayapi.BuildProject{Name: "nope"}})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "nope")
	got, err := ext.GetBuildProject(ctx, &slipwayapi.GetBuildProjectInput{Name: "web"})
	if err != nil || got.Project.Buildspec != p.Buildspec || got.Project.Description != "the web app" || got.Project.WorkerLabels[0] != "linux" {
		t.Errorf("GetBuildProject = %+v, %v", got, err)
	}
	list, err := ext.ListBuildProjects(ctx, nil)
	if err != nil || len(list.Projects) != 1 || list.Projects[0].Name != "web" {
		t.Errorf("ListBuildProjects = %+v, %v", list, err)
	}
	if _, err := ext.DeleteBuildProject(ctx, &slipwayapi.DeleteBuildProjectInput{Name: "web"}); err != nil {
		t.Fatalf("DeleteBuildProject: %v", err)
	}
	_, err = ext.DeleteBuildProject(ctx, &slipwayapi.DeleteBuildProjectInput{Name: "web"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "web")

	_, err = ext.PutSecret(ctx, &slipwayapi.PutSecretInput{Name: "bad name", Value: "x"})
	wantExtError(t, err, slipwayapi.ValidationException, "name")
	_, err = ext.PutSecret(ctx, &slipwayapi.PutSecretInput{Name: "empty"})
	wantExtError(t, err, slipwayapi.ValidationException, "value")
	put, err := ext.PutSecret(ctx, &slipwayapi.PutSecretInput{Name: "/prod/db", Value: "pw-abcdef"})
	if err != nil {
		t.Fatalf("PutSecret: %v", err)
	}
	if raw, _ := json.Marshal(put); strings.Contains(string(raw), "pw-abcdef") {
		t.Errorf("PutSecret returned the value: %s", raw)
	}
	if _, err := ext.DeleteSecret(ctx, &slipwayapi.DeleteSecretInput{Name: "/prod/db"}); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	_, err = ext.DeleteSecret(ctx, &slipwayapi.DeleteSecretInput{Name: "/prod/db"})
	wantExtError(t, err, slipwayapi.ResourceNotFoundException, "/prod/db")
}
