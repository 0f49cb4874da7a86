package appspec_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// readSample reads testdata/name.
func readSample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// parseSample parses testdata/name and fails the test on an error.
func parseSample(t *testing.T, name string) *appspec.Spec {
	t.Helper()
	spec, err := appspec.Parse(readSample(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return spec
}

// TestSamplesParse parses every sample in testdata: the AppSpec files of
// codedeploy.md §4.8 (verbatim, plus the variants the guide describes in
// prose) and the permissions examples of §4.4.
func TestSamplesParse(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 11 {
		t.Fatalf("found %d samples, want at least 11", len(names))
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			spec := parseSample(t, filepath.Base(name))
			if spec.Version != "0.0" {
				t.Errorf("Version = %q", spec.Version)
			}
		})
	}
}

// TestReferenceSample checks what the guide's reference example parses to,
// including its run sequence (codedeploy.md §4.8).
func TestReferenceSample(t *testing.T) {
	t.Parallel()
	spec := parseSample(t, "reference_linux.yml")
	if spec.OS != appspec.OSLinux || spec.OSLine != 2 {
		t.Errorf("OS = %q on line %d", spec.OS, spec.OSLine)
	}
	wantFiles := []appspec.FileMapping{
		{Source: "Config/config.txt", BundlePath: "Config/config.txt", Destination: "/webapps/Config", Line: 4},
		{Source: "source", BundlePath: "source", Destination: "/webapps/myApp", Line: 6},
	}
	if !slices.Equal(spec.Files, wantFiles) {
		t.Errorf("Files = %+v, want %+v", spec.Files, wantFiles)
	}
	before := spec.Scripts(appspec.BeforeInstall)
	if len(before) != 2 || before[0].Location != "Scripts/UnzipResourceBundle.sh" ||
		before[1].Location != "Scripts/UnzipDataBundle.sh" {
		t.Errorf("BeforeInstall = %+v", before)
	}
	if before[0].Timeout != time.Hour || before[0].TimeoutSet {
		t.Errorf("default timeout = %v (set %v), want 1h unset", before[0].Timeout, before[0].TimeoutSet)
	}
	after := spec.Scripts(appspec.AfterInstall)
	if len(after) != 1 || after[0].Timeout != 180*time.Second || !after[0].TimeoutSet {
		t.Errorf("AfterInstall = %+v", after)
	}
	validate := spec.Scripts(appspec.ValidateService)
	if len(validate) != 1 || validate[0].RunAs != "codedeployuser" || validate[0].Line != 19 {
		t.Errorf("ValidateService = %+v", validate)
	}
	if len(spec.Hooks) != 4 || len(spec.Warnings) != 0 {
		t.Errorf("Hooks = %v, Warnings = %v", spec.Hooks, spec.Warnings)
	}
}

// TestWordPressSample checks the whole-bundle source and the agent's total
// timeout for an event with a script that has no timeout (api.md §6.13:
// 300 s plus the default 3600 s gives 3900 s).
func TestWordPressSample(t *testing.T) {
	t.Parallel()
	spec := parseSample(t, "wordpress.yml")
	if len(spec.Files) != 1 || !spec.Files[0].WholeBundle() {
		t.Errorf("Files = %+v, want the whole bundle", spec.Files)
	}
	if got := spec.TotalTimeout(appspec.ApplicationStart); got != 3900*time.Second {
		t.Errorf("TotalTimeout(ApplicationStart) = %v, want 3900s", got)
	}
	if got := spec.TotalTimeout(appspec.ValidateService); got != 0 {
		t.Errorf("TotalTimeout(ValidateService) = %v, want 0", got)
	}
	stop := spec.Scripts(appspec.ApplicationStop)
	if len(stop) != 1 || stop[0].RunAs != "root" || stop[0].BundlePath != "scripts/stop_server.sh" {
		t.Errorf("ApplicationStop = %+v", stop)
	}
	if len(spec.Warnings) != 0 {
		t.Errorf("Warnings = %v", spec.Warnings)
	}
}

// TestWindowsSamples checks the Windows path rules: a leading \ is the
// bundle root and destinations are drive paths.
func TestWindowsSamples(t *testing.T) {
	t.Parallel()
	spec := parseSample(t, "windows_hello_world.yml")
	if spec.OS != appspec.OSWindows {
		t.Errorf("OS = %q", spec.OS)
	}
	if f := spec.Files[0]; f.BundlePath != "index.html" || f.Destination != `c:\inetpub\wwwroot` {
		t.Errorf("Files[0] = %+v", f)
	}
	if s := spec.Scripts(appspec.BeforeInstall)[0]; s.BundlePath != "before-install.bat" || s.Timeout != 900*time.Second {
		t.Errorf("BeforeInstall[0] = %+v", s)
	}
	if err := spec.CheckOS(appspec.OSLinux); err == nil {
		t.Error("CheckOS(linux) accepted a windows spec")
	}
	onprem := parseSample(t, "onprem_windows.yml")
	if got := onprem.Scripts(appspec.ValidateService)[0].BundlePath; got != "scripts/validate-service.bat" {
		t.Errorf("BundlePath = %q", got)
	}
	all := parseSample(t, "windows_overwrite.yml")
	if !all.Files[0].WholeBundle() || all.FileExistsBehavior != appspec.FileExistsOverwrite {
		t.Errorf("windows_overwrite = %+v", all)
	}
}

// TestPermissionsSample checks the §4.4 example's six rules.
func TestPermissionsSample(t *testing.T) {
	t.Parallel()
	spec := parseSample(t, "permissions_example.yml")
	if len(spec.Permissions) != 6 {
		t.Fatalf("got %d permissions", len(spec.Permissions))
	}
	first := spec.Permissions[0]
	if first.Pattern != "*-3.txt" || first.Owner != "adm" || first.Group != "wheel" ||
		first.Mode.Text != "464" || !first.AppliesTo(appspec.ObjectFile) || first.AppliesTo(appspec.ObjectDirectory) {
		t.Errorf("rule 1 = %+v", first)
	}
	third := spec.Permissions[2]
	if !slices.Equal(third.Except, []string{"my-file-4.txt", "my-file-5.txt"}) ||
		!third.AppliesTo(appspec.ObjectFile) || !third.AppliesTo(appspec.ObjectDirectory) {
		t.Errorf("rule 3 = %+v", third)
	}
	if last := spec.Permissions[5]; last.Owner != "" || last.Mode.Bits != 0o564 || last.Pattern != "**" {
		t.Errorf("rule 6 = %+v", last)
	}
}

// TestACLContextSample checks the §4.4 ACL and context example, including
// the warning that Slipway agents do not apply SELinux contexts.
func TestACLContextSample(t *testing.T) {
	t.Parallel()
	spec := parseSample(t, "acl_context_example.yml")
	perm := spec.Permissions[0]
	var acl []string
	for _, a := range perm.ACLs {
		acl = append(acl, a.String())
	}
	if want := []string{"user:mary:rw-", "user:sam:rw-", "mask::rw-"}; !slices.Equal(acl, want) {
		t.Errorf("ACLs = %v, want %v", acl, want)
	}
	want := appspec.SELinuxContext{User: "unconfined_u", Type: "httpd_sys_content_t", Range: "s0"}
	if perm.Context == nil || *perm.Context != want {
		t.Errorf("Context = %+v", perm.Context)
	}
	if len(spec.Warnings) != 1 || spec.Warnings[0].Line != 15 {
		t.Errorf("Warnings = %v, want one about the context on line 15", spec.Warnings)
	}
}
