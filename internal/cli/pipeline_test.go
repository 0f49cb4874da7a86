package cli

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"

	"github.com/slipway-cd/slipway/internal/cpapi"
	"github.com/slipway-cd/slipway/internal/slipwayapi"
)

// webPipeline is a pipeline definition (YAML, the create-pipeline document):
// an S3 source, a Commands build that passes only once FLAG exists, and a
// manual approval.
const webPipeline = `tags:
  - {key: team, value: web}
pipeline:
  name: web
  roleArn: arn:aws:iam::123456789012:role/AWS-CodePipeline-Service
  artifactStore:
    type: S3
    location: codepipeline-us-east-1-1234567890
  variables:
    - name: REASON
      defaultValue: none
  stages:
    - name: Source
      actions:
        - name: Fetch
          actionTypeId: {category: Source, owner: AWS, provider: S3, version: "1"}
          configuration: {S3Bucket: sources, S3ObjectKey: web.zip, PollForSourceChanges: "false"}
          outputArtifacts: [{name: Code}]
    - name: Build
      actions:
        - name: Test
          actionTypeId: {category: Compute, owner: AWS, provider: Commands, version: "1"}
          inputArtifacts: [{name: Code}]
          commands:
            - echo "building version $(cat version.txt)"
            - test -f FLAG || { echo "flag file is missing"; exit 4; }
    - name: Release
      actions:
        - name: Gate
          actionTypeId: {category: Approval, owner: AWS, provider: Manual, version: "1"}
          configuration:
            CustomData: check the staging site
            ExternalEntityLink: https://staging.example.com
`

// execStatus returns the status of a pipeline's execution.
func (s *testServer) execStatus(name, id string) types.PipelineExecutionStatus {
	s.t.Helper()
	out, err := s.cp.GetPipelineExecution(context.Background(), &codepipeline.GetPipelineExecutionInput{PipelineName: aws.String(name), PipelineExecutionId: aws.String(id)})
	if err != nil {
		s.t.Fatalf("GetPipelineExecution: %v", err)
	}
	return out.PipelineExecution.Status
}

func (s *testServer) waitExec(name, id string, want types.PipelineExecutionStatus) {
	s.t.Helper()
	eventually(s.t, "execution "+id, func() (bool, string) {
		st := s.execStatus(name, id)
		return st == want, string(st)
	})
}

// actionStatus returns the latest status of an action.
func (s *testServer) actionStatus(name, stage, action string) string {
	s.t.Helper()
	st, err := s.cp.GetPipelineState(context.Background(), &codepipeline.GetPipelineStateInput{Name: aws.String(name)})
	if err != nil {
		s.t.Fatalf("GetPipelineState: %v", err)
	}
	if a := findAction(findStage(st, stage), action); a != nil && a.LatestExecution != nil {
		return string(a.LatestExecution.Status)
	}
	return ""
}

var startedRE = regexp.MustCompile(`Started execution ([0-9a-f-]+) of pipeline web`)

func (s *testServer) start(name string, args ...string) string {
	s.t.Helper()
	out := s.ok(append([]string{"pipeline", "start", name}, args...)...)
	m := startedRE.FindStringSubmatch(out)
	if m == nil {
		s.t.Fatalf("pipeline start printed %q", out)
	}
	return m[1]
}

func TestPipelineCommands(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	if _, err := s.ext.UploadBundle(ctx, &slipwayapi.UploadBundleInput{Bucket: "sources", Key: "web.zip",
		Content: base64.StdEncoding.EncodeToString(zipOf(t, map[string]string{"version.txt": "1.7.0"}))}); err != nil {
		t.Fatal(err)
	}
	flag := filepath.Join(t.TempDir(), "build-ok")
	def := filepath.Join(s.dir, "web.yml")
	if err := os.WriteFile(def, []byte(strings.ReplaceAll(webPipeline, "FLAG", flag)), 0o644); err != nil {
		t.Fatal(err)
	}

	// apply creates, then updates.
	if out := s.ok("pipeline", "apply", "-f", def); out != "Created pipeline web (version 1)\n" {
		t.Errorf("first apply printed %q", out)
	}
	got, err := s.cp.GetPipeline(ctx, &codepipeline.GetPipelineInput{Name: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := s.cp.ListTagsForResource(ctx, &codepipeline.ListTagsForResourceInput{ResourceArn: got.Metadata.PipelineArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("tags of the created pipeline: %+v, %v", tags, err)
	}
	if out := s.ok("pipeline", "apply", "-f", def); out != "Updated pipeline web (version 2)\n" {
		t.Errorf("second apply printed %q", out)
	}
	bad := writeTemp(t, `{"pipeline": {"name": "x", "stagez": []}}`)
	s.wantFail(1, "slipway: "+bad+`: not a pipeline declaration: json: unknown field "stagez"`, "pipeline", "apply", "-f", bad)
	s.wantFail(2, "slipway: -f FILE is required", "pipeline", "apply")

	// list and get, as tables and JSON.
	if out := s.ok("pipeline", "list"); !regexp.MustCompile(`(?m)^NAME +VERSION +TYPE +MODE +UPDATED\nweb +2 `).MatchString(out) {
		t.Errorf("pipeline list:\n%s", out)
	}
	var summaries []types.PipelineSummary
	s.jsonOut(&summaries, "pipeline", "list")
	if len(summaries) != 1 || aws.ToString(summaries[0].Name) != "web" || aws.ToInt32(summaries[0].Version) != 2 {
		t.Errorf("pipeline list -o json = %+v", summaries)
	}
	yml := s.ok("pipeline", "get", "web")
	for _, want := range []string{"pipeline:\n  artifactStore:\n", "\n  name: web\n", "provider: Commands", "CustomData: check the staging site", "version: 2"} {
		if !strings.Contains(yml, want) {
			t.Errorf("pipeline get lacks %q:\n%s", want, yml)
		}
	}
	var doc struct {
		Pipeline cpapi.PipelineDeclaration `json:"pipeline"`
	}
	s.jsonOut(&doc, "pipeline", "get", "web")
	if doc.Pipeline.Name != "web" || len(doc.Pipeline.Stages) != 3 || doc.Pipeline.Stages[1].Actions[0].Commands[0] != `echo "building version $(cat version.txt)"` {
		t.Errorf("pipeline get -o json = %+v", doc.Pipeline)
	}
	// What get prints applies as it is.
	if out := s.ok("pipeline", "apply", "-f", writeTemp(t, yml)); out != "Updated pipeline web (version 3)\n" {
		t.Errorf("apply of get's output printed %q", out)
	}
	r := s.wantFail(1, "slipway: PipelineNotFoundException: ", "pipeline", "get", "missing")
	if !strings.Contains(r.stderr, "missing") {
		t.Errorf("the error does not name the pipeline: %s", r.stderr)
	}
	s.wantFail(2, "slipway: accepts 1 arg(s), received 0", "pipeline", "get")
	s.wantFail(2, "slipway: unknown flag: --bogus", "pipeline", "list", "--bogus")
	s.wantFail(2, `slipway: -o "xml": use table or json`, "pipeline", "list", "-o", "xml")

	// A failing build, its log, and a retry once the flag file exists.
	first := s.start("web", "--variable", "REASON=test")
	s.waitExec("web", first, types.PipelineExecutionStatusFailed)
	status := s.ok("pipeline", "status", "web")
	for _, re := range []string{`(?m)^Pipeline web \(version 3\)$`, `(?m)^STAGE / ACTION +STATUS +LAST CHANGE +SUMMARY$`,
		`(?m)^Source +Succeeded +execution ` + first + `$`, `(?m)^└─ Fetch +Succeeded +\d+s ago`,
		`(?m)^Build +Failed +execution ` + first + `$`, `(?m)^└─ Test +Failed +\d+s ago +Build FAILED in phase BUILD: Error while executing command: test -f `, `(?m)^Release$`, `(?m)^└─ Gate$`} {
		if !regexp.MustCompile(re).MatchString(status) {
			t.Errorf("pipeline status does not match %s:\n%s", re, status)
		}
	}
	if strings.Contains(status, "\x1b[") {
		t.Errorf("pipeline status coloured output that is not a terminal:\n%q", status)
	}
	logs := s.ok("pipeline", "logs", "web", "--stage", "Build", "--action", "Test")
	if !strings.Contains(logs, "building version 1.7.0") || !strings.Contains(logs, "flag file is missing") {
		t.Errorf("pipeline logs:\n%s", logs)
	}
	if out := s.ok("pipeline", "logs", "web", "--stage", "Build", "--action", "Test", "--execution-id", first, "--follow"); out != logs {
		t.Errorf("logs --follow of the execution = %q, want %q", out, logs)
	}
	s.wantFail(1, "slipway: ActionNotFoundException: stage Build of pipeline web has no action Nope", "pipeline", "logs", "web", "--stage", "Build", "--action", "Nope")

	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := s.ok("pipeline", "retry", "web", "--stage", "Build"); out != "Retrying stage Build of execution "+first+" (FAILED_ACTIONS)\n" {
		t.Errorf("pipeline retry printed %q", out)
	}
	eventually(t, "the approval", func() (bool, string) {
		st := s.actionStatus("web", "Release", "Gate")
		return st == "InProgress", st
	})

	// The approval waits: list it, watch the execution, approve it.
	approvals := s.ok("pipeline", "approvals")
	if !regexp.MustCompile(`(?m)^PIPELINE +STAGE +ACTION +WAITING +URL +COMMENTS\nweb +Release +Gate +\d+s +https://staging\.example\.com +check the staging site$`).MatchString(approvals) {
		t.Errorf("pipeline approvals:\n%s", approvals)
	}
	var pending []pendingApproval
	s.jsonOut(&pending, "pipeline", "approvals", "web")
	if len(pending) != 1 || pending[0].Token == "" || pending[0].PipelineExecutionID != first || pending[0].CustomData != "check the staging site" {
		t.Errorf("pipeline approvals -o json = %+v", pending)
	}
	watch := s.cmdFor("pipeline", "status", "web", "--watch")
	var watchOut strings.Builder
	watch.Stdout = &watchOut
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	if out := s.ok("pipeline", "approve", "web", "--stage", "Release", "--action", "Gate", "--summary", "looks good"); out != "Approved Gate in stage Release of pipeline web\n" {
		t.Errorf("pipeline approve printed %q", out)
	}
	if err := watch.Wait(); err != nil {
		t.Errorf("pipeline status --watch: %v\n%s", err, watchOut.String())
	}
	if !regexp.MustCompile(`(?m)^└─ Gate +Succeeded +\d+s ago +looks good$`).MatchString(watchOut.String()) {
		t.Errorf("pipeline status --watch did not end with the approval:\n%s", watchOut.String())
	}
	s.waitExec("web", first, types.PipelineExecutionStatusSucceeded)
	s.wantFail(1, "slipway: InvalidApprovalTokenException: ", "pipeline", "approve", "web", "--stage", "Release", "--action", "Gate")
	if out := s.ok("pipeline", "approvals"); out != "No approvals are waiting.\n" {
		t.Errorf("pipeline approvals after approving: %q", out)
	}

	// A disabled transition holds an execution before Build.
	if out := s.ok("pipeline", "disable-transition", "web", "--stage", "Build", "--reason", "release freeze"); out != "Disabled the inbound transition of stage Build of pipeline web\n" {
		t.Errorf("disable-transition printed %q", out)
	}
	s.wantFail(2, "slipway: --reason is required", "pipeline", "disable-transition", "web", "--stage", "Build")
	held := s.start("web")
	eventually(t, "the source of "+held, func() (bool, string) {
		st, err := s.cp.GetPipelineState(ctx, &codepipeline.GetPipelineStateInput{Name: aws.String("web")})
		if err != nil {
			t.Fatal(err)
		}
		src := findStage(st, "Source").LatestExecution
		return src != nil && aws.ToString(src.PipelineExecutionId) == held && src.Status == types.StageExecutionStatusSucceeded, "waiting"
	})
	if status := s.ok("pipeline", "status", "web"); !regexp.MustCompile(`(?m)^Build +Succeeded +inbound transition disabled: release freeze$`).MatchString(status) {
		t.Errorf("pipeline status does not show the disabled transition:\n%s", status)
	}
	if st := s.execStatus("web", held); st != types.PipelineExecutionStatusInProgress {
		t.Errorf("held execution is %s", st)
	}
	if out := s.ok("pipeline", "enable-transition", "web", "--stage", "Build"); out != "Enabled the inbound transition of stage Build of pipeline web\n" {
		t.Errorf("enable-transition printed %q", out)
	}
	eventually(t, "the second approval", func() (bool, string) {
		st := s.actionStatus("web", "Release", "Gate")
		return st == "InProgress", st
	})
	if out := s.ok("pipeline", "reject", "web", "--stage", "Release", "--action", "Gate"); out != "Rejected Gate in stage Release of pipeline web\n" {
		t.Errorf("pipeline reject printed %q", out)
	}
	s.waitExec("web", held, types.PipelineExecutionStatusFailed)
	// Watching an execution that failed fails.
	s.wantFail(1, "slipway: pipeline web: execution "+held+" ended Failed", "pipeline", "status", "web", "--watch")

	// stop, by default the execution in progress.
	stopped := s.start("web")
	eventually(t, "the third approval", func() (bool, string) {
		st := s.actionStatus("web", "Release", "Gate")
		return st == "InProgress", st
	})
	if out := s.ok("pipeline", "stop", "web", "--abandon", "--reason", "not today"); out != "Abandoning execution "+stopped+" of pipeline web\n" {
		t.Errorf("pipeline stop printed %q", out)
	}
	s.waitExec("web", stopped, types.PipelineExecutionStatusStopped)
	s.wantFail(1, "slipway: pipeline web has no execution in progress: pass --execution-id", "pipeline", "stop", "web")

	// history, newest first.
	hist := s.ok("pipeline", "history", "web", "--max", "3")
	for _, re := range []string{`(?m)^EXECUTION +STATUS +STARTED +UPDATED +TRIGGER +SOURCE +SUMMARY$`,
		`(?m)^` + stopped + ` +Stopped `, `(?m)^` + held + ` +Failed `, `(?m)^` + first + ` +Succeeded +.* StartPipelineExecution +Fetch@`} {
		if !regexp.MustCompile(re).MatchString(hist) {
			t.Errorf("pipeline history does not match %s:\n%s", re, hist)
		}
	}
	if n := strings.Count(hist, "\n"); n != 4 {
		t.Errorf("pipeline history --max 3 printed %d lines:\n%s", n, hist)
	}
	var execs []types.PipelineExecutionSummary
	s.jsonOut(&execs, "pipeline", "history", "web", "--max", "10")
	if len(execs) < 3 || aws.ToString(execs[0].PipelineExecutionId) != stopped || execs[2].Status != types.PipelineExecutionStatusSucceeded {
		t.Errorf("pipeline history -o json = %+v", execs)
	}
	var state codepipeline.GetPipelineStateOutput
	s.jsonOut(&state, "pipeline", "status", "web")
	if aws.ToString(state.PipelineName) != "web" || len(state.StageStates) != 3 {
		t.Errorf("pipeline status -o json = %+v", state)
	}
}

// writeTemp writes content to a new file and returns its path.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
