package buildspec

import (
	"strings"
	"testing"
	"time"
)

func TestParseJUnitXML(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		xml  string
		want TestCounts
	}{
		{"testsuite root", `<testsuite name="s"><testcase name="a" time="1.5"/><testcase name="b" time="0.5"><skipped/></testcase></testsuite>`,
			TestCounts{Total: 2, Passed: 1, Skipped: 1, Duration: 2 * time.Second}},
		{"nested suites", `<testsuites><testsuite><testsuite><testsuite><testcase/><testcase><failure/></testcase></testsuite></testsuite></testsuite></testsuites>`,
			TestCounts{Total: 2, Passed: 1, Failed: 1}},
		{"error beats failure and skip", `<testsuite><testcase><skipped/><failure/><error/></testcase><testcase><failure/><skipped/></testcase></testsuite>`,
			TestCounts{Total: 2, Failed: 2, Errors: 1}},
		{"suite time when cases have none", `<testsuites time="9"><testsuite time="2.5"><testcase/></testsuite><testsuite time="0.5"><testcase/></testsuite></testsuites>`,
			TestCounts{Total: 2, Passed: 2, Duration: 3 * time.Second}},
		{"grandchildren do not count", `<testsuite><testcase><system-out><failure/></system-out></testcase></testsuite>`,
			TestCounts{Total: 1, Passed: 1}},
		{"pytest", `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="1" skipped="0" tests="2" time="0.050"><testcase classname="tests.unit.test_x" name="test_ok" time="0,001"/><testcase classname="tests.unit.test_x" name="test_bad" time="1,000.5"><failure message="assert 1 == 2">...</failure></testcase></testsuite></testsuites>`,
			TestCounts{Total: 2, Passed: 1, Failed: 1, Duration: 1000501 * time.Millisecond}},
		{"latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><testsuite><testcase name=\"caf\xe9\"/></testsuite>",
			TestCounts{Total: 1, Passed: 1}},
		{"empty suites", `<testsuites/>`, TestCounts{}},
		{"bad time ignored", `<testsuite><testcase time="NaN"/><testcase time="-1"/><testcase time="x"/></testsuite>`,
			TestCounts{Total: 3, Passed: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseJUnitXML(strings.NewReader(tc.xml))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("counts %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseJUnitXMLMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, xml, want string }{
		{"empty", "", "no XML element"},
		{"whitespace", "  \n", "no XML element"},
		{"unclosed", `<testsuite><testcase name="a">`, "invalid JUnit XML"},
		{"mismatched tags", `<testsuite><testcase></testsuite>`, "invalid JUnit XML"},
		{"wrong root", `<html><body/></html>`, "root element is <html>"},
		{"not xml", `{"json": true}`, "invalid JUnit XML"},
		{"unknown encoding", `<?xml version="1.0" encoding="EBCDIC"?><testsuite/>`, "write it as UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseJUnitXML(strings.NewReader(tc.xml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseCucumberJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		json string
		want TestCounts
	}{
		{"statuses", `[{"elements":[
			{"type":"scenario","steps":[{"result":{"status":"passed","duration":1500000000}},{"result":{"status":"passed"}}]},
			{"type":"scenario","steps":[{"result":{"status":"passed"}},{"result":{"status":"failed"}},{"result":{"status":"skipped"}}]},
			{"type":"scenario","steps":[{"result":{"status":"pending"}}]},
			{"type":"scenario","steps":[{"result":{"status":"undefined"}}]},
			{"type":"scenario","steps":[{"result":{"status":"ambiguous"}}]},
			{"type":"scenario","steps":[]}]}]`,
			TestCounts{Total: 6, Passed: 2, Failed: 2, Skipped: 2, Duration: 1500 * time.Millisecond}},
		{"background applies to the next scenario", `[{"elements":[
			{"type":"background","steps":[{"result":{"status":"failed","duration":5}}]},
			{"type":"scenario","steps":[{"result":{"status":"skipped","duration":1}}]},
			{"type":"background","steps":[{"result":{"status":"passed","duration":5}}]},
			{"type":"scenario","steps":[{"result":{"status":"passed","duration":1}}]}]}]`,
			TestCounts{Total: 2, Passed: 1, Failed: 1, Duration: 12}},
		{"hooks", `[{"elements":[
			{"type":"scenario","before":[{"result":{"status":"failed"}}],"steps":[{"result":{"status":"skipped"}}]},
			{"type":"scenario","steps":[{"result":{"status":"passed"}}],"after":[{"result":{"status":"failed"}}]}]}]`,
			TestCounts{Total: 2, Failed: 2}},
		{"several features", `[{"elements":[{"steps":[{"result":{"status":"passed"}}]}]},{"elements":[{"type":"scenario","steps":[{}]}]},{}]`,
			TestCounts{Total: 2, Passed: 1, Skipped: 1}},
		{"empty", `[]`, TestCounts{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCucumberJSON(strings.NewReader(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("counts %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseCucumberJSONMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, json, want string }{
		{"object", `{"elements":[]}`, "expected a JSON array of features"},
		{"truncated", `[{"elements":[`, "invalid Cucumber JSON"},
		{"empty", ``, "invalid Cucumber JSON"},
		{"xml", `<testsuite/>`, "invalid Cucumber JSON"},
		{"wrong types", `[{"elements":"x"}]`, "invalid Cucumber JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCucumberJSON(strings.NewReader(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestReportLineAndSummary(t *testing.T) {
	t.Parallel()
	rr := ReportResult{Name: "unit", Counts: TestCounts{Total: 3, Passed: 1, Failed: 1, Skipped: 1, Duration: 1234567 * time.Microsecond}, Err: "a.xml: bad"}
	if got, want := rr.Line(), "3 total, 1 passed, 1 failed, 1 skipped in 1.235s (a.xml: bad)"; got != want {
		t.Fatalf("line %q, want %q", got, want)
	}
	long := strings.Repeat("x", 5000) + "\nlast line\n"
	res := &Result{Status: StatusFailed, FailedPhase: "BUILD", Err: "Error while executing command: make. Reason: exit status 2", Reports: []ReportResult{rr}, LogTail: long}
	sum := res.Summary()
	if len(sum) > MaxSummary || !strings.HasPrefix(sum, "Build FAILED in phase BUILD: Error while executing command: make. Reason: exit status 2\nReport unit: 3 total") || !strings.HasSuffix(sum, "--- log tail ---\nlast line\n") {
		t.Fatalf("summary (%d bytes):\n%s", len(sum), sum)
	}
}

func TestBuildInfoEnv(t *testing.T) {
	t.Parallel()
	env := BuildInfo{ID: "p:1", ARN: "arn:x", Number: 3, Initiator: "codepipeline/pipe", Start: time.UnixMilli(1700000000123)}.Env()
	want := map[string]string{"CODEBUILD_CI": "true", "CODEBUILD_BUILD_ID": "p:1", "CODEBUILD_BUILD_ARN": "arn:x",
		"CODEBUILD_BUILD_NUMBER": "3", "CODEBUILD_INITIATOR": "codepipeline/pipe", "CODEBUILD_START_TIME": "1700000000123"}
	if len(env) != len(want) {
		t.Fatalf("env %v", env)
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}
