package agent

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bundleFile is one entry of a test bundle.
type bundleFile struct {
	body string
	mode fs.FileMode
}

// makeZip builds a zip bundle in memory.
func makeZip(t *testing.T, files map[string]bundleFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, f := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeFetcher serves bundles by deployment id.
type fakeFetcher map[string][]byte

func (f fakeFetcher) FetchBundle(_ context.Context, spec *DeploymentSpec, w io.Writer) (string, error) {
	b, ok := f[spec.DeploymentID]
	if !ok {
		return "", errors.New("no such bundle")
	}
	_, err := w.Write(b)
	return `"etag-` + spec.DeploymentID + `"`, err
}

type fixture struct {
	t       *testing.T
	root    string
	install string
	fetch   fakeFetcher
	x       *Executor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, root: filepath.Join(dir, "deployment-root"), install: filepath.Join(dir, "install"), fetch: fakeFetcher{}}
	if err := os.MkdirAll(f.install, 0o755); err != nil {
		t.Fatal(err)
	}
	f.x = &Executor{Root: f.root, InstallRoot: f.install, MaxRevisions: 5, DeploymentsLog: true,
		Fetcher: f.fetch, KillGrace: time.Second, HookWorkingDir: dir}
	return f
}

func (f *fixture) spec(id string) *DeploymentSpec {
	s, err := ParseDeploymentSpec([]byte(`{"DeploymentId":"` + id + `","DeploymentGroupId":"dg-1",
		"DeploymentGroupName":"web","ApplicationName":"shop",
		"Revision":{"RevisionType":"S3","S3Revision":{"Bucket":"b","Key":"k.zip","BundleType":"zip","ETag":"etag-` + id + `"}}}`))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) run(cmd string, s *DeploymentSpec) error {
	f.t.Helper()
	return f.x.Execute(context.Background(), cmd, s, nil)
}

func (f *fixture) must(cmd string, s *DeploymentSpec) {
	f.t.Helper()
	if err := f.run(cmd, s); err != nil {
		f.t.Fatalf("%s: %v (%+v)", cmd, err, DiagnosticsFor(err))
	}
}

// deploy runs the whole in-place sequence.
func (f *fixture) deploy(s *DeploymentSpec) {
	f.t.Helper()
	for _, c := range []string{"ApplicationStop", "DownloadBundle", "BeforeInstall", "Install", "AfterInstall", "ApplicationStart", "ValidateService"} {
		f.must(c, s)
	}
}

func wantCode(t *testing.T, err error, code int, msgPart string) Diagnostics {
	t.Helper()
	d := DiagnosticsFor(err)
	if err == nil || d.ErrorCode != code || !strings.Contains(d.Message, msgPart) {
		t.Fatalf("got error %v, diagnostics %+v; want code %d with %q", err, d, code, msgPart)
	}
	return d
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const hookScript = `#!/bin/sh
echo "$LIFECYCLE_EVENT" >> "$SLIPWAY_INSTALL_ROOT/events"
env > "$SLIPWAY_INSTALL_ROOT/env-$LIFECYCLE_EVENT"
echo "out $LIFECYCLE_EVENT"
echo "err $LIFECYCLE_EVENT" >&2
`

const fullAppSpec = `version: 0.0
os: linux
files:
  - source: app
    destination: /srv/app
  - source: config/app.conf
    destination: /etc/myapp
permissions:
  - object: /srv/app
    pattern: "*.sh"
    mode: 750
    type:
      - file
  - object: /etc/myapp
    mode: 600
    type:
      - file
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
  BeforeInstall:
    - location: scripts/hook.sh
  AfterInstall:
    - location: scripts/hook.sh
  ApplicationStart:
    - location: scripts/hook.sh
      timeout: 30
  ValidateService:
    - location: scripts/hook.sh
`

func fullBundle(t *testing.T, version string) []byte {
	return makeZip(t, map[string]bundleFile{
		"appspec.yml":        {body: fullAppSpec},
		"app/index.html":     {body: "hello " + version},
		"app/run.sh":         {body: "#!/bin/sh\n", mode: 0o644},
		"app/lib/util.txt":   {body: "util"},
		"config/app.conf":    {body: "conf " + version},
		"scripts/hook.sh":    {body: hookScript, mode: 0o755},
		"scripts/stop.sh":    {body: "#!/bin/sh\necho stop-from-" + version + " >> \"$SLIPWAY_INSTALL_ROOT/events\"\n", mode: 0o755},
		"only-in-" + version: {body: "x"},
	})
}

func TestFullDeployment(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.fetch["d-1"] = fullBundle(t, "v1")
	s := f.spec("d-1")
	f.deploy(s)

	// Files on disk, under the install root.
	if got := readFile(t, filepath.Join(f.install, "srv/app/index.html")); got != "hello v1" {
		t.Fatalf("index.html = %q", got)
	}
	if got := readFile(t, filepath.Join(f.install, "srv/app/lib/util.txt")); got != "util" {
		t.Fatalf("util.txt = %q", got)
	}
	if got := readFile(t, filepath.Join(f.install, "etc/myapp/app.conf")); got != "conf v1" {
		t.Fatalf("app.conf = %q", got)
	}
	// Modes from permissions.
	for p, want := range map[string]fs.FileMode{"srv/app/run.sh": 0o750, "etc/myapp/app.conf": 0o600, "srv/app/index.html": 0o644} {
		fi, err := os.Stat(filepath.Join(f.install, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	// Hook order: ApplicationStop is a no-op on the first deployment.
	if got := readFile(t, filepath.Join(f.install, "events")); got != "BeforeInstall\nAfterInstall\nApplicationStart\nValidateService\n" {
		t.Fatalf("events = %q", got)
	}
	// scripts.log lines in the stock format.
	log := readFile(t, filepath.Join(f.root, "dg-1/d-1/logs/scripts.log"))
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$`)
	var msgs []string
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("bad scripts.log line %q", l)
		}
		msgs = append(msgs, m[1])
	}
	var events []string
	for _, m := range msgs {
		if ev, ok := strings.CutPrefix(m, "LifecycleEvent - "); ok {
			events = append(events, ev)
		}
	}
	if strings.Join(events, ",") != "BeforeInstall,AfterInstall,ApplicationStart,ValidateService" {
		t.Fatalf("scripts.log events %v", events)
	}
	for _, want := range []string{"Script - scripts/hook.sh", "[stdout]out AfterInstall", "[stderr]err AfterInstall"} {
		if !strings.Contains(log, want) {
			t.Errorf("scripts.log lacks %q:\n%s", want, log)
		}
	}
	// Hook environment.
	env := readFile(t, filepath.Join(f.install, "env-AfterInstall"))
	for _, want := range []string{"LIFECYCLE_EVENT=AfterInstall", "DEPLOYMENT_ID=d-1", "APPLICATION_NAME=shop",
		"DEPLOYMENT_GROUP_NAME=web", "DEPLOYMENT_GROUP_ID=dg-1", "BUNDLE_BUCKET=b", "BUNDLE_KEY=k.zip",
		"BUNDLE_ETAG=etag-d-1", "SLIPWAY_INSTALL_ROOT=" + f.install} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("env lacks %s", want)
		}
	}
	// Deployment-root layout.
	for _, p := range []string{"dg-1/d-1/bundle.tar", "dg-1/d-1/deployment-archive/appspec.yml",
		"deployment-instructions/dg-1_last_successful_install", "deployment-instructions/dg-1_most_recent_install",
		"deployment-instructions/dg-1-install.json", "deployment-instructions/dg-1-cleanup",
		"deployment-logs/codedeploy-agent-deployments.log"} {
		if _, err := os.Stat(filepath.Join(f.root, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	if got := readFile(t, filepath.Join(f.root, "deployment-instructions/dg-1_last_successful_install")); got != filepath.Join(f.root, "dg-1/d-1") {
		t.Errorf("last successful = %q", got)
	}
	if dl := readFile(t, filepath.Join(f.root, "deployment-logs/codedeploy-agent-deployments.log")); !strings.Contains(dl, "] [d-1]LifecycleEvent - BeforeInstall") {
		t.Errorf("deployments log:\n%s", dl)
	}
	cleanup := readFile(t, filepath.Join(f.root, "deployment-instructions/dg-1-cleanup"))
	if !strings.Contains(cleanup, filepath.Join(f.install, "srv/app/index.html")+"\n") || !strings.Contains(cleanup, filepath.Join(f.install, "srv")+"\n") {
		t.Errorf("cleanup file:\n%s", cleanup)
	}

	// Second deployment: the previous revision's files are removed first,
	// ApplicationStop runs the last successful revision's script.
	f.fetch["d-2"] = fullBundle(t, "v2")
	s2 := f.spec("d-2")
	f.must("ApplicationStop", s2)
	if got := readFile(t, filepath.Join(f.install, "events")); !strings.HasSuffix(got, "stop-from-v1\n") {
		t.Fatalf("ApplicationStop did not run the last successful revision's script: %q", got)
	}
	if _, err := os.Stat(filepath.Join(f.root, "dg-1/d-2/logs/scripts.log")); err != nil {
		t.Fatalf("ApplicationStop logs to the current deployment: %v", err)
	}
	for _, c := range []string{"DownloadBundle", "BeforeInstall", "Install"} {
		f.must(c, s2)
	}
	if got := readFile(t, filepath.Join(f.install, "srv/app/index.html")); got != "hello v2" {
		t.Fatalf("index.html = %q", got)
	}
	// ApplicationStop of a third deployment now uses v2.
	f.fetch["d-3"] = fullBundle(t, "v3")
	f.must("ApplicationStop", f.spec("d-3"))
	if got := readFile(t, filepath.Join(f.install, "events")); !strings.HasSuffix(got, "stop-from-v2\n") {
		t.Fatalf("events = %q", got)
	}
}

func TestCleanupRemovesPreviousRevisionFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	spec := "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /opt/site\n"
	f.fetch["d-1"] = makeZip(t, map[string]bundleFile{"appspec.yml": {body: spec}, "a.txt": {body: "a"}, "sub/old.txt": {body: "old"}})
	f.fetch["d-2"] = makeZip(t, map[string]bundleFile{"appspec.yml": {body: spec}, "a.txt": {body: "a2"}})
	for _, id := range []string{"d-1", "d-2"} {
		f.must("DownloadBundle", f.spec(id))
		// A file a script created is not ours to remove.
		os.WriteFile(filepath.Join(f.install, "opt/site/created-by-script"), []byte("x"), 0o644)
		f.must("Install", f.spec(id))
	}
	if _, err := os.Stat(filepath.Join(f.install, "opt/site/sub/old.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("old.txt survived: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.install, "opt/site/sub")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty directory sub survived: %v", err)
	}
	if got := readFile(t, filepath.Join(f.install, "opt/site/a.txt")); got != "a2" {
		t.Fatalf("a.txt = %q", got)
	}
	if _, err := os.Stat(filepath.Join(f.install, "opt/site/created-by-script")); err != nil {
		t.Fatalf("file created by a script was removed: %v", err)
	}
}

func TestFileExistsBehavior(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, appspecFEB, deployFEB string
		wantErr                     bool
		wantBody                    string
	}{
		{name: "default-disallow", wantErr: true, wantBody: "existing"},
		{name: "deploy-overwrite", deployFEB: "OVERWRITE", wantBody: "new"},
		{name: "deploy-retain", deployFEB: "RETAIN", wantBody: "existing"},
		{name: "appspec-wins", appspecFEB: "OVERWRITE", deployFEB: "DISALLOW", wantBody: "new"},
		{name: "appspec-disallow", appspecFEB: "DISALLOW", deployFEB: "OVERWRITE", wantErr: true, wantBody: "existing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			as := "version: 0.0\nos: linux\nfiles:\n  - source: f.txt\n    destination: /data\n"
			if tc.appspecFEB != "" {
				as += "file_exists_behavior: " + tc.appspecFEB + "\n"
			}
			f.fetch["d-1"] = makeZip(t, map[string]bundleFile{"appspec.yml": {body: as}, "f.txt": {body: "new"}})
			os.MkdirAll(filepath.Join(f.install, "data"), 0o755)
			os.WriteFile(filepath.Join(f.install, "data/f.txt"), []byte("existing"), 0o644)
			s := f.spec("d-1")
			if tc.deployFEB != "" {
				s.AgentActionOverrides = &struct {
					AgentOverrides *struct {
						FileExistsBehavior string `json:"FileExistsBehavior,omitempty"`
					} `json:"AgentOverrides,omitempty"`
				}{AgentOverrides: &struct {
					FileExistsBehavior string `json:"FileExistsBehavior,omitempty"`
				}{FileExistsBehavior: tc.deployFEB}}
			}
			f.must("DownloadBundle", s)
			err := f.run("Install", s)
			if tc.wantErr {
				wantCode(t, err, CodeUnknownError, "The deployment failed because a specified file already exists at this location: "+filepath.Join(f.install, "data/f.txt"))
				if _, err := os.Stat(filepath.Join(f.root, "deployment-instructions/dg-1_last_successful_install")); err == nil {
					t.Fatal("a failed Install was recorded as successful")
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, filepath.Join(f.install, "data/f.txt")); got != tc.wantBody {
				t.Fatalf("f.txt = %q, want %q", got, tc.wantBody)
			}
		})
	}
}

func scriptBundle(t *testing.T, hook string, script *bundleFile, timeout int) []byte {
	as := "version: 0.0\nos: linux\nhooks:\n  " + hook + ":\n    - location: scripts/s.sh\n"
	if timeout > 0 {
		as += "      timeout: " + strconv.Itoa(timeout) + "\n"
	}
	files := map[string]bundleFile{"appspec.yml": {body: as}}
	if script != nil {
		files["scripts/s.sh"] = *script
	}
	return makeZip(t, files)
}

func TestScriptErrors(t *testing.T) {
	t.Parallel()
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.fetch["d-1"] = scriptBundle(t, "AfterInstall", nil, 0)
		f.must("DownloadBundle", f.spec("d-1"))
		d := wantCode(t, f.run("AfterInstall", f.spec("d-1")), CodeScriptMissing, "Script does not exist at specified location: "+filepath.Join(f.root, "dg-1/d-1/deployment-archive/scripts/s.sh"))
		if d.ScriptName != "scripts/s.sh" {
			t.Errorf("script_name %q", d.ScriptName)
		}
	})
	t.Run("not-executable-made-executable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.fetch["d-1"] = scriptBundle(t, "AfterInstall", &bundleFile{body: "#!/bin/sh\necho ran\n", mode: 0o644}, 0)
		f.must("DownloadBundle", f.spec("d-1"))
		f.must("AfterInstall", f.spec("d-1"))
	})
	t.Run("not-executable", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.x.chmod = func(string, fs.FileMode) error { return fs.ErrPermission }
		f.fetch["d-1"] = scriptBundle(t, "AfterInstall", &bundleFile{body: "#!/bin/sh\n", mode: 0o644}, 0)
		f.must("DownloadBundle", f.spec("d-1"))
		wantCode(t, f.run("AfterInstall", f.spec("d-1")), CodeScriptNotExecutable, "Unable to set script at specified location: scripts/s.sh as executable")
	})
	t.Run("no-shebang-runs-with-sh", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.fetch["d-1"] = scriptBundle(t, "AfterInstall", &bundleFile{body: "echo plain\nexit 0\n", mode: 0o755}, 0)
		f.must("DownloadBundle", f.spec("d-1"))
		f.must("AfterInstall", f.spec("d-1"))
	})
	t.Run("failing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		body := "#!/bin/sh\ni=0\nwhile [ $i -lt 300 ]; do echo \"line $i padding padding padding\"; i=$((i+1)); done\nsleep 0.3\necho boom >&2\nexit 3\n"
		f.fetch["d-1"] = scriptBundle(t, "ApplicationStart", &bundleFile{body: body, mode: 0o755}, 0)
		f.must("DownloadBundle", f.spec("d-1"))
		d := wantCode(t, f.run("ApplicationStart", f.spec("d-1")), CodeScriptFailed, "Script at specified location: scripts/s.sh failed with exit code 3")
		if !strings.Contains(d.Log, "[stderr]boom\n") || len(d.Log) > maxLogTail || len(d.Log) < maxLogTail-100 {
			t.Fatalf("log tail (%d chars) = %q", len(d.Log), d.Log)
		}
	})
	t.Run("timeout-kills-process-group", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		pidFile := filepath.Join(f.install, "child.pid")
		body := "#!/bin/sh\nsleep 300 &\necho $! > " + pidFile + "\necho started\nsleep 300\n"
		f.fetch["d-1"] = scriptBundle(t, "ValidateService", &bundleFile{body: body, mode: 0o755}, 1)
		f.must("DownloadBundle", f.spec("d-1"))
		start := time.Now()
		d := wantCode(t, f.run("ValidateService", f.spec("d-1")), CodeScriptTimedOut, "Script at specified location: scripts/s.sh failed to complete in 1 seconds")
		if el := time.Since(start); el > 10*time.Second {
			t.Fatalf("took %v", el)
		}
		if !strings.Contains(d.Log, "[stdout]started") {
			t.Errorf("log %q", d.Log)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
		if !processGone(pid, 5*time.Second) {
			t.Fatalf("background child %d of the timed-out script is still running", pid)
		}
	})
	t.Run("runas-needs-root", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() == 0 {
			t.Skip("runs as root")
		}
		f := newFixture(t)
		as := "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: s.sh\n      runas: nobody\n"
		f.fetch["d-1"] = makeZip(t, map[string]bundleFile{"appspec.yml": {body: as}, "s.sh": {body: "#!/bin/sh\n", mode: 0o755}})
		f.must("DownloadBundle", f.spec("d-1"))
		wantCode(t, f.run("AfterInstall", f.spec("d-1")), CodeScriptFailed, "run as user nobody failed: runas needs the agent to run as root")
	})
	t.Run("outputs-left-open", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		// A daemon that keeps stdout open outlives the script.
		body := "#!/bin/sh\n(setsid sleep 30 &)\nexit 0\n"
		f.fetch["d-1"] = scriptBundle(t, "ApplicationStart", &bundleFile{body: body, mode: 0o755}, 1)
		f.must("DownloadBundle", f.spec("d-1"))
		wantCode(t, f.run("ApplicationStart", f.spec("d-1")), CodeOutputsLeftOpen, "failed to close STDOUT/STDERR")
	})
}

// processGone waits for pid to exit (or become a zombie).
func processGone(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 2 && f[2] == "Z" {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func TestBadBundles(t *testing.T) {
	t.Parallel()
	zipSlip := func(t *testing.T) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.Create("appspec.yml")
		io.WriteString(w, "version: 0.0\nos: linux\n")
		w, _ = zw.CreateHeader(&zip.FileHeader{Name: "../../evil.txt"})
		io.WriteString(w, "evil")
		zw.Close()
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name   string
		bundle func(t *testing.T) []byte
		msg    string
	}{
		{"no-appspec", func(t *testing.T) []byte { return makeZip(t, map[string]bundleFile{"index.html": {body: "x"}}) }, "no appspec.yml (or appspec.yaml) at the root of the bundle"},
		{"invalid-appspec", func(t *testing.T) []byte {
			return makeZip(t, map[string]bundleFile{"appspec.yml": {body: "version: 1.0\nos: linux\n"}})
		}, "appspec.yml line 1"},
		{"zip-slip", zipSlip, "The bundle could not be unpacked"},
		{"not-an-archive", func(*testing.T) []byte { return []byte("hello, not a zip") }, "The bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			// A good deployment first.
			f.fetch["d-1"] = fullBundle(t, "v1")
			f.deploy(f.spec("d-1"))
			f.fetch["d-2"] = tc.bundle(t)
			s := f.spec("d-2")
			if tc.name == "not-an-archive" {
				s.Revision.S3Revision.BundleType = ""
			}
			wantCode(t, f.run("DownloadBundle", s), CodeUnknownError, tc.msg)
			if _, err := os.Stat(filepath.Join(f.root, "evil.txt")); err == nil {
				t.Fatal("zip-slip entry written")
			}
			if got := readFile(t, filepath.Join(f.install, "srv/app/index.html")); got != "hello v1" {
				t.Fatalf("previous install changed: %q", got)
			}
			if got := readFile(t, filepath.Join(f.root, "deployment-instructions/dg-1_last_successful_install")); got != filepath.Join(f.root, "dg-1/d-1") {
				t.Fatalf("last successful = %q", got)
			}
			// Install of the bad deployment fails too and leaves v1 alone.
			if err := f.run("Install", s); err == nil {
				t.Fatal("Install of a bad bundle succeeded")
			}
		})
	}
}

func TestChecksums(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.fetch["d-1"] = fullBundle(t, "v1")
	s := f.spec("d-1")
	s.SlipwayBundleSHA256 = strings.Repeat("0", 64)
	wantCode(t, f.run("DownloadBundle", s), CodeUnknownError, "SHA-256")
	s = f.spec("d-1")
	bad := "other"
	s.Revision.S3Revision.ETag = &bad
	wantCode(t, f.run("DownloadBundle", s), CodeUnknownError, "Expected deployment bundle ETag other")
}

func TestMaxRevisions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.x.MaxRevisions = 2
	for i := 1; i <= 4; i++ {
		id := "d-" + strconv.Itoa(i)
		f.fetch[id] = fullBundle(t, "v"+strconv.Itoa(i))
		f.must("DownloadBundle", f.spec(id))
		if i == 1 {
			f.must("Install", f.spec(id)) // d-1 is the last successful install
		}
		// Make mtimes distinct and ordered.
		ts := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(filepath.Join(f.root, "dg-1", id), ts, ts)
	}
	entries, _ := os.ReadDir(filepath.Join(f.root, "dg-1"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "d-1,d-4" {
		t.Fatalf("kept %v, want the last successful d-1 and the current d-4", names)
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	wantCode(t, f.run("Reboot", f.spec("d-1")), CodeUnknownError, "Unsupported command type: Reboot.")
	if !f.x.IsNoop("Reboot", f.spec("d-1")) || f.x.IsNoop("Install", f.spec("d-1")) {
		t.Fatal("IsNoop")
	}
	if !f.x.IsNoop("ApplicationStop", f.spec("d-1")) {
		t.Fatal("ApplicationStop on a first deployment is a no-op")
	}
}
