package appspec_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// mustParse parses data and fails the test on an error.
func mustParse(t *testing.T, data string) *appspec.Spec {
	t.Helper()
	spec, err := appspec.Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestVersionForms checks the version values the agent accepts: YAML
// numbers equal to 0.0 (application_specification.rb parse_version).
func TestVersionForms(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"0.0", "0", "0.00", "00"} {
		if _, err := appspec.Parse([]byte(doc("version: "+v, "os: linux"))); err != nil {
			t.Errorf("version: %s: %v", v, err)
		}
	}
	for _, v := range []string{`"0.0"`, "'0.0'", "0.1", "1", "zero", "!!str 0.0"} {
		if _, err := appspec.Parse([]byte(doc("version: "+v, "os: linux"))); err == nil {
			t.Errorf("version: %s was accepted", v)
		}
	}
}

// TestMinimal checks the smallest valid file and the defaults it gets.
func TestMinimal(t *testing.T) {
	t.Parallel()
	spec := mustParse(t, linux())
	if spec.Version != "0.0" || spec.OS != appspec.OSLinux || spec.Hooks == nil ||
		len(spec.Files) != 0 || len(spec.Permissions) != 0 || spec.FileExistsBehavior != "" {
		t.Errorf("spec = %+v", spec)
	}
	if err := spec.CheckOS(appspec.OSLinux); err != nil {
		t.Errorf("CheckOS(linux) = %v", err)
	}
}

// TestJSONForm checks that a JSON-style (flow) file parses, as it does for
// the agent's YAML reader.
func TestJSONForm(t *testing.T) {
	t.Parallel()
	spec := mustParse(t, `{"version": 0.0, "os": "linux", "files": [{"source": "/", "destination": "/srv"}],`+
		` "hooks": {"AfterInstall": [{"location": "a.sh", "timeout": 60}]}}`)
	if len(spec.Files) != 1 || spec.Scripts(appspec.AfterInstall)[0].Timeout != time.Minute {
		t.Errorf("spec = %+v", spec)
	}
}

// TestCheckOS checks the host OS comparison and its error line.
func TestCheckOS(t *testing.T) {
	t.Parallel()
	spec := mustParse(t, doc("# comment", "version: 0.0", "os: windows"))
	err := spec.CheckOS(appspec.OSLinux)
	var pe *appspec.ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(err.Error(), "set os: linux") {
		t.Errorf("CheckOS = %v", err)
	}
	if err := spec.CheckOS(appspec.OSWindows); err != nil {
		t.Errorf("CheckOS(windows) = %v", err)
	}
}

// TestEffectiveFileExistsBehavior checks the precedence: the AppSpec file,
// then the deployment, then DISALLOW.
func TestEffectiveFileExistsBehavior(t *testing.T) {
	t.Parallel()
	plain := mustParse(t, linux())
	retain := mustParse(t, linux("file_exists_behavior: RETAIN"))
	tests := []struct {
		spec       *appspec.Spec
		deployment appspec.FileExistsBehavior
		want       appspec.FileExistsBehavior
	}{
		{plain, "", appspec.FileExistsDisallow},
		{plain, appspec.FileExistsOverwrite, appspec.FileExistsOverwrite},
		{retain, "", appspec.FileExistsRetain},
		{retain, appspec.FileExistsOverwrite, appspec.FileExistsRetain},
	}
	for _, tc := range tests {
		if got := tc.spec.EffectiveFileExistsBehavior(tc.deployment); got != tc.want {
			t.Errorf("file %q, deployment %q: got %q, want %q",
				tc.spec.FileExistsBehavior, tc.deployment, got, tc.want)
		}
	}
}

// TestBundlePaths checks how sources and locations are made relative to
// the bundle root.
func TestBundlePaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		os, source, want string
	}{
		{"linux", "/", "."},
		{"linux", ".", "."},
		{"linux", "./", "."},
		{"linux", "/app", "app"},
		{"linux", "./app/../config//x.txt", "config/x.txt"},
		{"linux", "a/b/..", "a"},
		{"windows", `\`, "."},
		{"windows", `.\my-folder`, "my-folder"},
		{"windows", `\index.html`, "index.html"},
	}
	for _, tc := range tests {
		dest := "/opt/app"
		if tc.os == "windows" {
			dest = `c:\temp`
		}
		spec := mustParse(t, doc("version: 0.0", "os: "+tc.os, "files:",
			"  - source: '"+tc.source+"'", "    destination: '"+dest+"'"))
		if got := spec.Files[0].BundlePath; got != tc.want {
			t.Errorf("%s source %q: BundlePath = %q, want %q", tc.os, tc.source, got, tc.want)
		}
	}
}

// TestWindowsDestinations checks the absolute path forms accepted on
// Windows.
func TestWindowsDestinations(t *testing.T) {
	t.Parallel()
	for _, d := range []string{`c:\temp`, `C:/temp`, `\\server\share`, `d:\`} {
		if _, err := appspec.Parse([]byte(doc("version: 0.0", "os: windows", "files:",
			"  - source: a", "    destination: '"+d+"'"))); err != nil {
			t.Errorf("destination %s: %v", d, err)
		}
	}
	for _, d := range []string{`temp`, `/temp`, `c:temp`, `1:\temp`} {
		if _, err := appspec.Parse([]byte(doc("version: 0.0", "os: windows", "files:",
			"  - source: a", "    destination: '"+d+"'"))); err == nil {
			t.Errorf("destination %s was accepted", d)
		}
	}
}

// TestScriptOptions checks runas, sudo and timeout values the agent
// accepts.
func TestScriptOptions(t *testing.T) {
	t.Parallel()
	spec := mustParse(t, linux("hooks:", "  ApplicationStart:",
		"    - location: a.sh", "      runas: ' www-data '", "      sudo: yes", `      timeout: "120"`,
		"    - location: b.sh", "      sudo: false", "      timeout:", "      runas:"))
	scripts := spec.Scripts(appspec.ApplicationStart)
	want := []appspec.Script{
		{Location: "a.sh", BundlePath: "a.sh", Timeout: 120 * time.Second, TimeoutSet: true, RunAs: "www-data", Sudo: true, Line: 5},
		{Location: "b.sh", BundlePath: "b.sh", Timeout: time.Hour, Line: 9},
	}
	if !slices.Equal(scripts, want) {
		t.Errorf("scripts = %+v\nwant      %+v", scripts, want)
	}
}

// TestEmptyEventList checks that an event with an empty list is accepted
// and runs nothing, as for the agent.
func TestEmptyEventList(t *testing.T) {
	t.Parallel()
	spec := mustParse(t, linux("hooks:", "  AfterInstall: []"))
	if s, ok := spec.Hooks[appspec.AfterInstall]; !ok || len(s) != 0 {
		t.Errorf("Hooks = %v", spec.Hooks)
	}
}

// TestWarnings checks what Parse accepts, as the agent does, with a
// warning.
func TestWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		line int
		want string
	}{
		{"unknown files key", linux("files:", "  - source: /", "    destination: /opt/app", "    overwrite: true"), 6, "overwrite is not part"},
		{"unknown script key", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      retries: 3"), 6, "retries is not part"},
		{"empty files", linux("files:"), 3, "files is empty"},
		{"empty hooks", linux("hooks:"), 3, "hooks is empty"},
		{"empty permissions", linux("permissions:"), 3, "permissions is empty"},
		{"empty file_exists_behavior", linux("file_exists_behavior:"), 3, "file_exists_behavior is empty"},
		{"SELinux context", linux("permissions:", "  - object: /opt", "    context:", "      type: t"), 5, "do not apply"},
		{"windows runas", doc("version: 0.0", "os: windows", "hooks:", "  AfterInstall:", "    - location: a.bat", "      runas: admin"), 6, "not supported on Windows"},
		{"event timeouts over an hour", linux("hooks:", "  AfterInstall:", "    - location: a.sh", "      timeout: 3000",
			"    - location: b.sh", "      timeout: 900"), 4, "add up to 3900 seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := mustParse(t, tc.yaml)
			if len(spec.Warnings) != 1 {
				t.Fatalf("Warnings = %v, want one", spec.Warnings)
			}
			w := spec.Warnings[0]
			if w.Line != tc.line || !strings.Contains(w.String(), tc.want) ||
				!strings.HasPrefix(w.String(), "appspec.yml line ") {
				t.Errorf("warning = %v, want line %d with %q", w, tc.line, tc.want)
			}
		})
	}
}

// TestContextRanges checks MLS ranges the agent accepts (range_info.rb).
func TestContextRanges(t *testing.T) {
	t.Parallel()
	for _, r := range []string{"s0", "s0-s0", "s0-s15", "s0:c0", "s0-s1:c0.c1023", "s2:c1,c3.c5,c9"} {
		if _, err := appspec.Parse([]byte(linux("permissions:", "  - object: /opt", "    context:",
			"      name: system_u", "      type: t", "      range: "+r))); err != nil {
			t.Errorf("range %s: %v", r, err)
		}
	}
	for _, r := range []string{"", "0", "s", "sx", "s0-", "s0:", "s0:c", "s0:c5.c1", "s0:c1,c1", "s0:c1.c3,c2",
		"s0-s1-s2", "s0:c1:c2", "c0", "s0:s1"} {
		if _, err := appspec.Parse([]byte(linux("permissions:", "  - object: /opt", "    context:",
			"      type: t", "      range: '"+r+"'"))); err == nil {
			t.Errorf("range %q was accepted", r)
		}
	}
}

// TestLifecycle checks the event lists and classifications
// (codedeploy.md §2.2 to §2.4).
func TestLifecycle(t *testing.T) {
	t.Parallel()
	want := []appspec.Event{"ApplicationStop", "DownloadBundle", "BeforeInstall", "Install",
		"AfterInstall", "ApplicationStart", "ValidateService"}
	if got := appspec.DeploymentOrder(); !slices.Equal(got, want) {
		t.Errorf("DeploymentOrder = %v", got)
	}
	lb := appspec.LoadBalancerOrder()
	if len(lb) != 13 || lb[0] != appspec.BeforeBlockTraffic || lb[12] != appspec.AfterAllowTraffic ||
		!slices.Equal(lb[3:10], want) {
		t.Errorf("LoadBalancerOrder = %v", lb)
	}
	order := appspec.DeploymentOrder()
	order[0] = "changed"
	if appspec.DeploymentOrder()[0] != appspec.ApplicationStop {
		t.Error("DeploymentOrder returns shared state")
	}
	var scriptable []appspec.Event
	for _, e := range lb {
		if e.Scriptable() {
			scriptable = append(scriptable, e)
		} else if !e.Reserved() {
			t.Errorf("%s is neither scriptable nor reserved", e)
		}
	}
	if !slices.Equal(scriptable, appspec.ScriptableEvents()) {
		t.Errorf("scriptable events in order = %v, ScriptableEvents = %v", scriptable, appspec.ScriptableEvents())
	}
	for _, e := range []appspec.Event{"Start", "End", "DownloadBundle", "Install", "BlockTraffic", "AllowTraffic"} {
		if !e.Reserved() || e.Scriptable() {
			t.Errorf("%s: Reserved %v, Scriptable %v", e, e.Reserved(), e.Scriptable())
		}
	}
	var previous []appspec.Event
	for _, e := range lb {
		if e.UsesLastSuccessfulRevision() {
			previous = append(previous, e)
		}
	}
	if want := []appspec.Event{"BeforeBlockTraffic", "AfterBlockTraffic", "ApplicationStop"}; !slices.Equal(previous, want) {
		t.Errorf("UsesLastSuccessfulRevision = %v", previous)
	}
}

// TestEveryScriptableEventParses checks that each scriptable event is
// accepted in a hooks section, and recorded under its name.
func TestEveryScriptableEventParses(t *testing.T) {
	t.Parallel()
	lines := []string{"hooks:"}
	for _, e := range appspec.ScriptableEvents() {
		lines = append(lines, "  "+string(e)+":", "    - location: scripts/"+string(e)+".sh")
	}
	spec := mustParse(t, linux(lines...))
	for _, e := range appspec.ScriptableEvents() {
		if s := spec.Scripts(e); len(s) != 1 || s[0].Location != "scripts/"+string(e)+".sh" {
			t.Errorf("%s: %+v", e, s)
		}
	}
}

// TestDiagnosticCodes checks the API error names of the agent's codes.
func TestDiagnosticCodes(t *testing.T) {
	t.Parallel()
	if got := appspec.DiagnosticUnknownError.LifecycleErrorCode(); got != "UnknownError" {
		t.Errorf("UnknownError = %q", got)
	}
	if got := appspec.DiagnosticScriptMissing.LifecycleErrorCode(); got != "ScriptMissing" {
		t.Errorf("ScriptMissing = %q", got)
	}
}
