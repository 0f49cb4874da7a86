package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

func TestTableRender(t *testing.T) {
	red := func(col int, cell string) string {
		if col == 1 {
			return "<" + cell + ">"
		}
		return cell
	}
	for _, tc := range []struct {
		name string
		t    table
		want string
	}{
		{"aligned", table{header: []string{"NAME", "STATUS", "X"}, rows: [][]string{{"a", "Succeeded", "1"}, {"longer", "", "22"}}},
			"NAME    STATUS     X\na       Succeeded  1\nlonger             22\n"},
		{"last column unpadded, trailing spaces trimmed", table{rows: [][]string{{"a", "b"}, {"ccc", ""}}}, "a    b\nccc\n"},
		{"runes count once", table{rows: [][]string{{"└─ x", "y"}, {"abcd", "z"}}}, "└─ x  y\nabcd  z\n"},
		{"colour after padding, not in the header", table{header: []string{"A", "S", "B"}, rows: [][]string{{"x", "ok", "1"}}, colour: red},
			"A  S   B\nx  <ok>  1\n"},
		{"empty", table{}, ""},
	} {
		if got := tc.t.render(); got != tc.want {
			t.Errorf("%s: got\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 0: "0s", 45 * time.Second: "45s", 3*time.Minute + 12*time.Second: "3m12s", 3 * time.Minute: "3m",
		2*time.Hour + 5*time.Minute: "2h5m", 2 * time.Hour: "2h", 75 * time.Hour: "3d3h", 48 * time.Hour: "2d", 10 * time.Minute: "10m",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOneLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\n  b\tc", 10, "a b c"}, {"abcdef", 4, "abc…"}, {"abcd", 4, "abcd"}, {"ééééé", 3, "éé…"},
	} {
		if got := oneLine(tc.in, tc.n); got != tc.want {
			t.Errorf("oneLine(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestReadPipelineFile(t *testing.T) {
	for _, tc := range []struct {
		name, in, wantErr string
		stages            int
	}{
		{"create-pipeline JSON", `{"pipeline": {"name": "p", "roleArn": "r", "stages": [{"name": "S", "actions": []}]}, "tags": [{"key": "team", "value": "web"}]}`, "", 1},
		{"bad tags", `{"pipeline": {"name": "p"}, "tags": [{"key": "k", "valu": "v"}]}`, `not a list of tags: json: unknown field "valu"`, 0},
		{"bare YAML", "name: p\nstages:\n  - name: A\n  - name: B\n", "", 2},
		{"unknown member", `{"name": "p", "stagez": []}`, `not a pipeline declaration: json: unknown field "stagez"`, 0},
		{"wrong type", `{"name": "p", "stages": "x"}`, "not a pipeline declaration: json: cannot unmarshal string", 0},
		{"not an object", `[1, 2]`, "want an object", 0},
		{"stray member", `{"pipeline": {"name": "p"}, "extra": 1}`, `unknown member "extra" next to "pipeline"`, 0},
		{"not YAML", "name: [", "neither JSON nor YAML", 0},
	} {
		decl, tags, err := readPipelineFile([]byte(tc.in))
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case aws.ToString(decl.Name) != "p" || len(decl.Stages) != tc.stages:
			t.Errorf("%s: got %+v", tc.name, decl)
		case strings.Contains(tc.in, `"tags"`) && (len(tags) != 1 || aws.ToString(tags[0].Key) != "team" || aws.ToString(tags[0].Value) != "web"):
			t.Errorf("%s: tags %+v", tc.name, tags)
		}
	}
	// Members whose names differ from the SDK's only in case come through.
	decl, _, err := readPipelineFile([]byte(`{"name": "p", "stages": [{"name": "S", "actions": [{"name": "A", "runOrder": 2,
		"actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}, "configuration": {"S3Bucket": "b"},
		"outputArtifacts": [{"name": "Out"}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a := decl.Stages[0].Actions[0]
	if aws.ToInt32(a.RunOrder) != 2 || a.ActionTypeId.Category != types.ActionCategorySource || a.Configuration["S3Bucket"] != "b" || aws.ToString(a.OutputArtifacts[0].Name) != "Out" {
		t.Errorf("action = %+v", a)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		line string
	}{
		{nil, 0, ""},
		{errors.New("PipelineNotFoundException: no pipeline p"), 1, "slipway: PipelineNotFoundException: no pipeline p\n"},
		{usagef("--stage is required"), 2, "slipway: --stage is required\n"},
		{fmt.Errorf("wrapped: %w", usagef("x")), 2, "slipway: wrapped: x\n"},
		{errors.New(`unknown command "x" for "slipway"`), 2, "slipway: unknown command \"x\" for \"slipway\"\n"},
		{errors.New("accepts 1 arg(s), received 0"), 2, "slipway: accepts 1 arg(s), received 0\n"},
	} {
		var buf bytes.Buffer
		if got := exitCode(tc.err, &buf); got != tc.code || buf.String() != tc.line {
			t.Errorf("exitCode(%v) = %d, %q; want %d, %q", tc.err, got, buf.String(), tc.code, tc.line)
		}
	}
}

func TestParseKeyValues(t *testing.T) {
	got, err := parseKeyValues("--variable", []string{"a=1", "b=x=y", "c="})
	if err != nil || fmt.Sprint(got) != "[[a 1] [b x=y] [c ]]" {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"novalue", "=v"} {
		if _, err := parseKeyValues("--variable", []string{bad}); err == nil || !errors.As(err, new(usageError)) {
			t.Errorf("%q: err = %v, want a usage error", bad, err)
		}
	}
}

func TestNameArg(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		name, want string
		bad        bool
	}{
		{[]string{"a"}, "", "a", false}, {nil, "b", "b", false}, {[]string{"a"}, "a", "a", false},
		{[]string{"a"}, "b", "", true}, {nil, "", "", true},
	} {
		name := tc.name
		err := nameArg(tc.args, &name, "name")
		if (err != nil) != tc.bad || (!tc.bad && name != tc.want) {
			t.Errorf("nameArg(%v, %q) = %q, %v", tc.args, tc.name, name, err)
		}
	}
}

func TestBundleTypeOf(t *testing.T) {
	for key, want := range map[string]cdtypes.BundleType{"a.zip": "zip", "a/b.TGZ": "tgz", "a.tar.gz": "tgz", "a.tar": "tar", "noext": "zip"} {
		if got := bundleTypeOf(key); got != want {
			t.Errorf("bundleTypeOf(%q) = %s, want %s", key, got, want)
		}
	}
}

func at(min int) *time.Time {
	t := time.Date(2026, 1, 1, 12, min, 0, 0, time.UTC)
	return &t
}

func event(name string, status cdtypes.LifecycleEventStatus, start, end *time.Time) cdtypes.LifecycleEvent {
	return cdtypes.LifecycleEvent{LifecycleEventName: aws.String(name), Status: status, StartTime: start, EndTime: end}
}

func TestCurrentEventAndDuration(t *testing.T) {
	now := *at(30)
	for _, tc := range []struct {
		name   string
		events []cdtypes.LifecycleEvent
		event  string
		dur    string
	}{
		{"pending", []cdtypes.LifecycleEvent{event("A", "Pending", nil, nil)}, "", ""},
		{"running", []cdtypes.LifecycleEvent{event("A", "Succeeded", at(0), at(1)), event("B", "InProgress", at(1), nil), event("C", "Pending", nil, nil)}, "B", "30m"},
		{"failed", []cdtypes.LifecycleEvent{event("A", "Succeeded", at(0), at(1)), event("B", "Failed", at(1), at(3)), event("C", "Skipped", nil, nil)}, "B", "3m"},
		{"done", []cdtypes.LifecycleEvent{event("A", "Succeeded", at(2), at(4)), event("B", "Succeeded", at(4), at(7))}, "B", "5m"},
	} {
		e := currentEvent(tc.events)
		got := ""
		if e != nil {
			got = aws.ToString(e.LifecycleEventName)
		}
		dur := ""
		if d, ok := instanceDuration(tc.events, now); ok {
			dur = shortDuration(d)
		}
		if got != tc.event || dur != tc.dur {
			t.Errorf("%s: event %q, duration %q; want %q, %q", tc.name, got, dur, tc.event, tc.dur)
		}
	}
}

func TestRenderPipelineState(t *testing.T) {
	st := &codepipeline.GetPipelineStateOutput{PipelineName: aws.String("p"), PipelineVersion: aws.Int32(4), StageStates: []types.StageState{
		{StageName: aws.String("Source"), LatestExecution: &types.StageExecution{PipelineExecutionId: aws.String("e1"), Status: types.StageExecutionStatusSucceeded},
			ActionStates: []types.ActionState{{ActionName: aws.String("Get"), LatestExecution: &types.ActionExecution{Status: "Succeeded", Summary: aws.String("commit\nabc"), LastStatusChange: at(28)}}}},
		{StageName: aws.String("Build"), InboundTransitionState: &types.TransitionState{Enabled: false, DisabledReason: aws.String("freeze")},
			ActionStates: []types.ActionState{
				{ActionName: aws.String("Unit"), LatestExecution: &types.ActionExecution{Status: "Failed", Summary: aws.String("s"),
					ErrorDetails: &types.ErrorDetails{Message: aws.String("exit 1")}, LastStatusChange: at(29)}},
				{ActionName: aws.String("Approve"), LatestExecution: &types.ActionExecution{Status: "InProgress", Token: aws.String("t"), LastStatusChange: at(25)}},
				{ActionName: aws.String("Never")}}},
	}}
	want := `Pipeline p (version 4)
STAGE / ACTION  STATUS      LAST CHANGE  SUMMARY
Source          Succeeded                execution e1
└─ Get          Succeeded   2m ago       commit abc
Build                                    inbound transition disabled: freeze
├─ Unit         Failed      1m ago       exit 1
├─ Approve      InProgress  5m ago       waiting for approval
└─ Never
`
	if got := renderPipelineState(st, *at(30), false); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := renderPipelineState(st, *at(30), true); !strings.Contains(got, "\x1b[31mFailed\x1b[0m      1m ago") || strings.Contains(got, "\x1b[31mSTATUS") {
		t.Errorf("coloured:\n%q", got)
	}
}

func TestPendingApprovals(t *testing.T) {
	decl := &types.PipelineDeclaration{Stages: []types.StageDeclaration{{Name: aws.String("S"), Actions: []types.ActionDeclaration{
		{Name: aws.String("Gate"), ActionTypeId: &types.ActionTypeId{Category: types.ActionCategoryApproval}, Configuration: map[string]string{"CustomData": "c", "ExternalEntityLink": "u"}},
		{Name: aws.String("Custom"), ActionTypeId: &types.ActionTypeId{Category: types.ActionCategoryBuild}},
		{Name: aws.String("Done"), ActionTypeId: &types.ActionTypeId{Category: types.ActionCategoryApproval}},
	}}}}
	st := &codepipeline.GetPipelineStateOutput{PipelineName: aws.String("p"), StageStates: []types.StageState{{StageName: aws.String("S"),
		LatestExecution: &types.StageExecution{PipelineExecutionId: aws.String("e")},
		ActionStates: []types.ActionState{
			{ActionName: aws.String("Gate"), LatestExecution: &types.ActionExecution{Status: "InProgress", Token: aws.String("tok"), LastStatusChange: at(1)}},
			{ActionName: aws.String("Custom"), LatestExecution: &types.ActionExecution{Status: "InProgress", Token: aws.String("job")}},
			{ActionName: aws.String("Done"), LatestExecution: &types.ActionExecution{Status: "Succeeded", Token: aws.String("old")}},
		}}}}
	got := pendingApprovals(decl, st)
	want := []pendingApproval{{PipelineName: "p", StageName: "S", ActionName: "Gate", PipelineExecutionID: "e", Token: "tok", Since: at(1), ExternalEntityLink: "u", CustomData: "c"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestRenderDeployment(t *testing.T) {
	d := &cdtypes.DeploymentInfo{DeploymentId: aws.String("d-1"), ApplicationName: aws.String("app"), DeploymentGroupName: aws.String("g"),
		Status: cdtypes.DeploymentStatusFailed, DeploymentConfigName: aws.String("CodeDeployDefault.AllAtOnce"),
		Revision:           &cdtypes.RevisionLocation{GitHubLocation: &cdtypes.GitHubLocation{Repository: aws.String("web"), CommitId: aws.String("abc")}},
		DeploymentOverview: &cdtypes.DeploymentOverview{Succeeded: 1, Failed: 1},
		ErrorInformation:   &cdtypes.ErrorInformation{Code: "HEALTH_CONSTRAINTS", Message: aws.String("too many failed")}}
	instances := []cdtypes.InstanceSummary{
		{InstanceId: aws.String("a"), Status: cdtypes.InstanceStatusSucceeded, LifecycleEvents: []cdtypes.LifecycleEvent{event("Install", "Succeeded", at(0), at(2))}},
		{InstanceId: aws.String("b"), Status: cdtypes.InstanceStatusFailed, LifecycleEvents: []cdtypes.LifecycleEvent{
			{LifecycleEventName: aws.String("Install"), Status: "Failed", StartTime: at(0), EndTime: at(1),
				Diagnostics: &cdtypes.Diagnostics{ErrorCode: "ScriptFailed", Message: aws.String("exit 3")}}}},
	}
	want := `Deployment d-1 of web@abc to app/g: Failed
Instances: 1 succeeded, 1 failed, 0 in progress, 0 pending, 0 skipped (CodeDeployDefault.AllAtOnce)
Error: HEALTH_CONSTRAINTS: too many failed
INSTANCE  STATUS     EVENT    EVENT STATUS  DURATION  DETAIL
a         Succeeded  Install  Succeeded     2m
b         Failed     Install  Failed        1m        ScriptFailed: exit 3
`
	if got := renderDeployment(d, instances, *at(30), false); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
