package demo_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-cd/slipway/internal/appspec"
	"github.com/slipway-cd/slipway/internal/buildspec"
	"github.com/slipway-cd/slipway/internal/demo"
)

// The sample app's buildspec.yml and appspec.yml are valid, and every hook
// script they name is in the app.
func TestAppSpecsParse(t *testing.T) {
	t.Parallel()
	data, err := fs.ReadFile(demo.App(), "buildspec.yml")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := buildspec.Parse(data)
	if err != nil {
		t.Fatalf("buildspec.yml: %v", err)
	}
	if len(bs.Reports) != 1 {
		t.Errorf("buildspec.yml has %d report groups, want 1 (page-tests)", len(bs.Reports))
	}
	data, err = fs.ReadFile(demo.App(), "appspec.yml")
	if err != nil {
		t.Fatal(err)
	}
	as, err := appspec.Parse(data)
	if err != nil {
		t.Fatalf("appspec.yml: %v", err)
	}
	for _, ev := range []string{"ApplicationStop", "BeforeInstall", "AfterInstall", "ApplicationStart", "ValidateService"} {
		scripts := as.Hooks[appspec.Event(ev)]
		if len(scripts) != 1 {
			t.Errorf("appspec.yml: %s has %d scripts, want 1", ev, len(scripts))
			continue
		}
		if _, err := fs.Stat(demo.App(), scripts[0].Location); err != nil {
			t.Errorf("appspec.yml: %s script: %v", ev, err)
		}
	}
}

// run runs a shell script of the app in dir with env added; it returns the
// combined output and whether it exited 0.
func run(t *testing.T, dir, script string, env ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("sh", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatalf("sh %s: %v", script, err)
	}
	return string(out), err == nil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// build.sh renders the page with the release and commit, and the page
// tests pass on it and fail on a page that does not match RELEASE.
func TestAppBuildAndTests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := demo.WriteApp(dir); err != nil {
		t.Fatal(err)
	}
	const commit = "0123456789abcdef0123456789abcdef01234567"
	out, ok := run(t, dir, "build.sh", "CODEBUILD_RESOLVED_SOURCE_VERSION="+commit)
	if !ok {
		t.Fatalf("build.sh failed:\n%s", out)
	}
	page := readFile(t, filepath.Join(dir, "site", "index.html"))
	for _, want := range []string{`id="release">1<`, `id="commit">` + commit + "<"} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %s:\n%s", want, page)
		}
	}
	if got := readFile(t, filepath.Join(dir, "site", "version.txt")); got != "release=1\ncommit="+commit+"\n" {
		t.Errorf("version.txt = %q", got)
	}
	out, ok = run(t, dir, "test/page_test.sh")
	if !ok || !strings.Contains(out, "5 of 5 page tests passed") {
		t.Fatalf("page tests on a good build: ok %v\n%s", ok, out)
	}
	if junit := readFile(t, filepath.Join(dir, "reports", "junit.xml")); !strings.Contains(junit, `tests="5" failures="0"`) {
		t.Errorf("junit.xml = %s", junit)
	}

	// RELEASE changed without a rebuild: the page shows the wrong release.
	if err := os.WriteFile(filepath.Join(dir, "RELEASE"), []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, ok = run(t, dir, "test/page_test.sh")
	if ok || !strings.Contains(out, "FAIL the page shows the release") {
		t.Errorf("page tests on a stale build: ok %v\n%s", ok, out)
	}
	if junit := readFile(t, filepath.Join(dir, "reports", "junit.xml")); !strings.Contains(junit, `failures="2"`) || !strings.Contains(junit, "<failure") {
		t.Errorf("junit.xml of a failing run = %s", junit)
	}

	// A RELEASE that would break the page is refused.
	if err := os.WriteFile(filepath.Join(dir, "RELEASE"), []byte("1|2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, ok := run(t, dir, "build.sh"); ok || !strings.Contains(out, "RELEASE must hold") {
		t.Errorf("build.sh with a bad RELEASE: ok %v\n%s", ok, out)
	}
}

// The hooks install, start and validate a release under the install root,
// and ValidateService fails when the page is not the one installed.
func TestAppHooks(t *testing.T) {
	t.Parallel()
	src, root := t.TempDir(), t.TempDir()
	if err := demo.WriteApp(src); err != nil {
		t.Fatal(err)
	}
	if out, ok := run(t, src, "build.sh", "CODEBUILD_RESOLVED_SOURCE_VERSION=abc123"); !ok {
		t.Fatalf("build.sh: %s", out)
	}
	app := filepath.Join(root, "srv", "demo-app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(app, os.DirFS(filepath.Join(src, "site"))); err != nil {
		t.Fatal(err)
	}
	env := []string{"SLIPWAY_INSTALL_ROOT=" + root, "DEPLOYMENT_ID=d-TEST1", "APPLICATION_NAME=demo-app", "DEPLOYMENT_GROUP_NAME=demo-fleet"}
	hook := func(script string) (string, bool) { return run(t, src, filepath.Join("scripts", script), env...) }

	if out, ok := hook("stop.sh"); !ok || !strings.Contains(out, "nothing is running") {
		t.Errorf("stop.sh before any start: ok %v %s", ok, out)
	}
	for _, s := range []string{"before_install.sh", "after_install.sh", "start.sh"} {
		if out, ok := hook(s); !ok {
			t.Fatalf("%s: %s", s, out)
		}
	}
	state := filepath.Join(root, "var", "lib", "demo-app")
	if got := readFile(t, filepath.Join(state, "running")); got != "deployment=d-TEST1\nrelease=1\ncommit=abc123\n" {
		t.Errorf("running = %q", got)
	}
	if out, ok := hook("validate.sh"); !ok || !strings.Contains(out, "validated release 1 (commit abc123)") {
		t.Errorf("validate.sh: ok %v %s", ok, out)
	}

	// Another deployment's validation: the running release is not its own.
	other := append(env[:len(env):len(env)], "DEPLOYMENT_ID=d-OTHER")
	if out, ok := run(t, src, "scripts/validate.sh", other...); ok || !strings.Contains(out, "is not deployment d-OTHER's") {
		t.Errorf("validate.sh of another deployment: ok %v %s", ok, out)
	}
	// A page that does not show the installed release.
	page := filepath.Join(app, "index.html")
	if err := os.WriteFile(page, []byte(strings.ReplaceAll(readFile(t, page), `id="release">1<`, `id="release">9<`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, ok := hook("validate.sh"); ok || !strings.Contains(out, "does not show release 1") {
		t.Errorf("validate.sh with a wrong page: ok %v %s", ok, out)
	}
	// Stopped: nothing runs, and validation says so.
	if out, ok := hook("stop.sh"); !ok || !strings.Contains(out, "stopped: deployment=d-TEST1") {
		t.Errorf("stop.sh: ok %v %s", ok, out)
	}
	if out, ok := hook("validate.sh"); ok || !strings.Contains(out, "nothing is running") {
		t.Errorf("validate.sh after stop: ok %v %s", ok, out)
	}
}

func TestNextRelease(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ old, want string }{
		{"", "1"},
		{"1", "2"},
		{"41", "42"},
		{"1.9", "1.10"},
		{"2.0.7", "2.0.8"},
		{"beta", "beta.1"},
		{"1.x", "1.x.1"},
	} {
		if got := demo.NextRelease(tc.old); got != tc.want {
			t.Errorf("NextRelease(%q) = %q, want %q", tc.old, got, tc.want)
		}
	}
}
