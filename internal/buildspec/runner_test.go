//go:build unix

package buildspec

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a log writer the test reads after the build.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// buildRun is the outcome of one test build.
type buildRun struct {
	res *Result
	err error
	log string
	dir string
}

// runSpec parses src and runs it in a fresh directory. r may be nil.
func runSpec(t *testing.T, src string, r *Runner) buildRun {
	t.Helper()
	return runSpecIn(t, src, t.TempDir(), r)
}

// runSpecIn parses src and runs it in dir.
func runSpecIn(t *testing.T, src, dir string, r *Runner) buildRun {
	t.Helper()
	spec := mustParse(t, src)
	if r == nil {
		r = &Runner{}
	}
	buf := &syncBuffer{}
	r.Log = buf
	if r.Timeout == 0 {
		r.Timeout = 30 * time.Second
	}
	res, err := r.Run(context.Background(), spec, dir)
	if res == nil {
		t.Fatalf("Run returned no result: %v", err)
	}
	return buildRun{res: res, err: err, log: buf.String(), dir: dir}
}

// phases renders the phase statuses as "INSTALL=SUCCEEDED ...".
func phases(res *Result) string {
	var parts []string
	for _, p := range res.Phases {
		parts = append(parts, p.Type+"="+string(p.Status))
	}
	return strings.Join(parts, " ")
}

// requireLog checks that the log has every want and none of the unwanted
// strings.
func requireLog(t *testing.T, log string, want, unwanted []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(log, u) {
			t.Errorf("log has %q:\n%s", u, log)
		}
	}
}

// buildError returns err as a *BuildError.
func buildError(t *testing.T, err error) *BuildError {
	t.Helper()
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("error %T %v is not a *BuildError", err, err)
	}
	return be
}

func TestRunSharesOneShellSession(t *testing.T) {
	t.Parallel()
	run := runSpec(t, `version: 0.2
env:
  variables:
    GREETING: hello
phases:
  install:
    commands:
      - mkdir -p work/sub
      - cd work
      - export FROM_INSTALL=yes
      - PLAIN=$(printf "it's %s\nsecond line" "$GREETING")
  build:
    commands:
      - cd sub
      - echo "pwd=$(pwd)"
      - echo "exported=$FROM_INSTALL"
      - printf 'plain=[%s]\n' "$PLAIN"
      - sh -c 'echo "child=[$FROM_INSTALL][$PLAIN]"'
      - unset FROM_INSTALL
  post_build:
    commands:
      - echo "after-unset=[${FROM_INSTALL-unset}] still-in=$(basename "$PWD")"
`, nil)
	if run.err != nil {
		t.Fatalf("Run: %v\n%s", run.err, run.log)
	}
	requireLog(t, run.log, []string{
		"pwd=" + filepath.Join(run.dir, "work", "sub") + "\n",
		"exported=yes\n",
		"plain=[it's hello\nsecond line]\n",
		"child=[yes][]\n", // a plain shell variable is not exported to children
		"after-unset=[unset] still-in=sub\n",
	}, nil)
}

func TestRunCommandFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, command string
		exitCode      int
		reason        string
	}{
		{"exit status", "exit 4", 4, "exit status 4"},
		{"false", "false", 1, "exit status 1"},
		{"set -e", "set -e; false; echo unreachable", 1, "exit status 1"},
		{"syntax error", "if then fi", 2, "exit status 2"},
		{"killed", "kill -9 $$", -1, "signal: killed"},
		{"missing program", "no-such-program-xyz", 127, "exit status 127"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := runSpec(t, `version: 0.2
phases:
  build:
    commands:
      - KEPT=before
      - `+strconv.Quote(tc.command)+`
      - echo must-not-run
  post_build:
    commands:
      - echo "post KEPT=$KEPT"
`, nil)
			be := buildError(t, run.err)
			want := "Error while executing command: " + tc.command + ". Reason: " + tc.reason
			if be.Msg != want || be.ExitCode != tc.exitCode || be.Phase != "BUILD" || be.Command != tc.command || be.Status != StatusFailed {
				t.Fatalf("error %+v, want message %q exit %d", be, want, tc.exitCode)
			}
			requireLog(t, run.log, []string{"post KEPT=before\n"}, []string{"must-not-run", "\nunreachable\n"})
		})
	}
}

func TestRunFailedBuildRunsFinallyAndPostBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	test := "#!/bin/sh\necho 'FAIL: TestWidget (0.01s)'\necho 'widget_test.go:12: got 2, want 3' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "test.sh"), []byte(test), 0o755); err != nil {
		t.Fatal(err)
	}
	run := runSpecIn(t, `version: 0.2
phases:
  build:
    commands:
      - echo compiling
      - ./test.sh
      - echo never-runs
    finally:
      - echo "build-finally succeeding=$CODEBUILD_BUILD_SUCCEEDING"
  post_build:
    commands:
      - echo "post_build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
    finally:
      - echo post-finally
`, dir, nil)
	be := buildError(t, run.err)
	if be.Msg != "Error while executing command: ./test.sh. Reason: exit status 1" || be.ExitCode != 1 || be.Phase != "BUILD" {
		t.Fatalf("error %+v", be)
	}
	res := run.res
	if got := phases(res); got != "INSTALL=SUCCEEDED PRE_BUILD=SUCCEEDED BUILD=FAILED POST_BUILD=SUCCEEDED UPLOAD_ARTIFACTS=SUCCEEDED" {
		t.Fatalf("phases %s", got)
	}
	if res.Status != StatusFailed || res.FailedCommand != "./test.sh" || res.ExitCode != 1 || res.Err != be.Msg {
		t.Fatalf("result %+v", res)
	}
	requireLog(t, run.log, []string{"build-finally succeeding=0", "post_build succeeding=0", "post-finally",
		"Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: ./test.sh. Reason: exit status 1"},
		[]string{"never-runs"})
	for _, w := range []string{"FAIL: TestWidget", "got 2, want 3", "post-finally"} {
		if !strings.Contains(res.LogTail, w) {
			t.Errorf("log tail lacks %q: %s", w, res.LogTail)
		}
	}
	sum := res.Summary()
	if !strings.HasPrefix(sum, "Build FAILED in phase BUILD: Error while executing command: ./test.sh. Reason: exit status 1\n") ||
		!strings.Contains(sum, "FAIL: TestWidget") || len(sum) > MaxSummary {
		t.Fatalf("summary:\n%s", sum)
	}
}

func TestRunPhaseTransitions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		phases   string
		want     string
		inLog    []string
		notInLog []string
	}{
		{
			name: "install failure ends the build",
			phases: `  install:
    commands: [false]
    finally: [echo install-finally]
  pre_build:
    commands: [echo pre-ran]
  post_build:
    commands: [echo post-ran]`,
			want:     "INSTALL=FAILED PRE_BUILD=SKIPPED BUILD=SKIPPED POST_BUILD=SKIPPED UPLOAD_ARTIFACTS=SKIPPED",
			inLog:    []string{"install-finally"},
			notInLog: []string{"pre-ran", "post-ran"},
		},
		{
			name: "pre_build failure skips build and post_build",
			phases: `  pre_build:
    commands: [false]
  build:
    commands: [echo build-ran]
  post_build:
    commands: [echo post-ran]`,
			want:     "INSTALL=SUCCEEDED PRE_BUILD=FAILED BUILD=SKIPPED POST_BUILD=SKIPPED UPLOAD_ARTIFACTS=SKIPPED",
			notInLog: []string{"build-ran", "post-ran"},
		},
		{
			name: "build failure runs post_build",
			phases: `  build:
    commands: [false]
  post_build:
    commands: [echo post-ran]`,
			want:  "INSTALL=SUCCEEDED PRE_BUILD=SUCCEEDED BUILD=FAILED POST_BUILD=SUCCEEDED UPLOAD_ARTIFACTS=SUCCEEDED",
			inLog: []string{"post-ran"},
		},
		{
			name: "ABORT in build skips post_build",
			phases: `  build:
    on-failure: ABORT
    commands: [false]
    finally: [echo build-finally]
  post_build:
    commands: [echo post-ran]`,
			want:     "INSTALL=SUCCEEDED PRE_BUILD=SUCCEEDED BUILD=FAILED POST_BUILD=SKIPPED UPLOAD_ARTIFACTS=SKIPPED",
			inLog:    []string{"build-finally"},
			notInLog: []string{"post-ran"},
		},
		{
			name: "CONTINUE in install goes on",
			phases: `  install:
    on-failure: CONTINUE
    commands: [false, echo rest-of-install]
  pre_build:
    commands: [echo "pre-ran succeeding=$CODEBUILD_BUILD_SUCCEEDING"]
  build:
    commands: [echo build-ran]`,
			want:     "INSTALL=FAILED PRE_BUILD=SUCCEEDED BUILD=SUCCEEDED POST_BUILD=SUCCEEDED UPLOAD_ARTIFACTS=SUCCEEDED",
			inLog:    []string{"pre-ran succeeding=0", "build-ran"},
			notInLog: []string{"rest-of-install"},
		},
		{
			name: "post_build failure fails the build",
			phases: `  build:
    commands: [echo build-ran]
  post_build:
    commands: ["exit 3"]`,
			want: "INSTALL=SUCCEEDED PRE_BUILD=SUCCEEDED BUILD=SUCCEEDED POST_BUILD=FAILED UPLOAD_ARTIFACTS=SUCCEEDED",
		},
		{
			name: "failing finally fails the phase",
			phases: `  build:
    commands: [echo ok]
    finally: [false, echo second-finally]
  post_build:
    commands: [echo post-ran]`,
			want:     "INSTALL=SUCCEEDED PRE_BUILD=SUCCEEDED BUILD=FAILED POST_BUILD=SUCCEEDED UPLOAD_ARTIFACTS=SUCCEEDED",
			inLog:    []string{"post-ran"},
			notInLog: []string{"second-finally"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			run := runSpec(t, "version: 0.2\nphases:\n"+tc.phases+"\n", nil)
			if got := phases(run.res); got != tc.want {
				t.Fatalf("phases %s\nwant   %s\n%s", got, tc.want, run.log)
			}
			if run.res.Status != StatusFailed || buildError(t, run.err).Status != StatusFailed {
				t.Fatalf("status %s, error %v", run.res.Status, run.err)
			}
			requireLog(t, run.log, tc.inLog, tc.notInLog)
		})
	}
}

func TestRunSucceeds(t *testing.T) {
	t.Parallel()
	run := runSpec(t, "version: 0.2\nphases:\n  build:\n    commands: [echo ok]\n", nil)
	if run.err != nil || run.res.Status != StatusSucceeded || run.res.Err != "" || run.res.ExitCode != -1 {
		t.Fatalf("result %+v, error %v", run.res, run.err)
	}
	if run.res.End.Before(run.res.Start) || run.res.Phases[2].Commands != 1 {
		t.Fatalf("result %+v", run.res)
	}
	if sum := run.res.Summary(); sum != "Build SUCCEEDED\n" {
		t.Fatalf("summary %q", sum)
	}
}

func TestRunExportedVariables(t *testing.T) {
	t.Parallel()
	run := runSpec(t, `version: 0.2
env:
  variables:
    FROM_SPEC: spec-value
  exported-variables:
    - IMAGE_TAG
    - PLAIN_VAR
    - FROM_SPEC
    - NEVER_SET
    - CHANGED_LATE
phases:
  build:
    commands:
      - export IMAGE_TAG=$(echo abcdef1234 | cut -c 1-7)
      - PLAIN_VAR="not exported"
      - export CHANGED_LATE=early
      - exit 1
  post_build:
    commands:
      - CHANGED_LATE=late
`, nil)
	want := map[string]string{"IMAGE_TAG": "abcdef1", "PLAIN_VAR": "not exported", "FROM_SPEC": "spec-value", "NEVER_SET": "", "CHANGED_LATE": "late"}
	got := run.res.ExportedVariables
	if len(got) != len(want) {
		t.Fatalf("exported %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestRunRedactsSecrets(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []string
	secrets := map[string]string{
		"parameter-store /prod/db/password": "hunter2-pw",
		"secrets-manager ci-token":          `{"token":"tok-123456","cert":"-----BEGIN-----\nline-of-cert\n-----END-----"}`,
	}
	r := &Runner{Secrets: func(kind, name string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, kind+" "+name)
		v, ok := secrets[kind+" "+name]
		if !ok {
			return "", errors.New("not found")
		}
		return v, nil
	}}
	run := runSpec(t, `version: 0.2
env:
  parameter-store:
    DB_PW: /prod/db/password
  secrets-manager:
    TOKEN: ci-token:token
    CERT: ci-token:cert
    RAW: ci-token
  exported-variables:
    - COPY
phases:
  build:
    commands:
      - echo "pw=$DB_PW"
      - printf 'split=%s' "$(echo "$TOKEN" | cut -c 1-6)"; sleep 0.2; printf '%s done\n' "$(echo "$TOKEN" | cut -c 7-)"
      - printf 'cert=%s\n' "$CERT"
      - printf 'raw=%s\n' "$RAW"
      - export COPY="token is $TOKEN"
      - echo "$DB_PW" >&2; exit 1
`, r)
	for _, s := range []string{"hunter2-pw", "tok-123456", "line-of-cert", "tok-12"} {
		if strings.Contains(run.log, s) || strings.Contains(run.res.LogTail, s) || strings.Contains(run.res.Summary(), s) {
			t.Errorf("secret %q is in the log:\n%s", s, run.log)
		}
	}
	requireLog(t, run.log, []string{"pw=***\n", "split=*** done\n", "cert=***\n", "raw=***\n"}, nil)
	if got := run.res.ExportedVariables["COPY"]; got != "token is ***" {
		t.Errorf("exported COPY = %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 4 || calls[0] != "parameter-store /prod/db/password" || calls[1] != "secrets-manager ci-token" {
		t.Errorf("resolver calls %v", calls)
	}
}

func TestRunSecretResolutionFailure(t *testing.T) {
	t.Parallel()
	r := &Runner{Secrets: func(kind, name string) (string, error) { return "", errors.New("no such secret") }}
	run := runSpec(t, `version: 0.2
env:
  parameter-store:
    DB_PW: /prod/db/password
phases:
  build:
    commands: [echo must-not-run]
`, r)
	be := buildError(t, run.err)
	if be.Status != StatusFailed || !strings.Contains(be.Msg, `env.parameter-store.DB_PW: resolving parameter-store "/prod/db/password": no such secret`) {
		t.Fatalf("error %+v", be)
	}
	if got := phases(run.res); got != "INSTALL=SKIPPED PRE_BUILD=SKIPPED BUILD=SKIPPED POST_BUILD=SKIPPED UPLOAD_ARTIFACTS=SKIPPED" {
		t.Fatalf("phases %s", got)
	}
	requireLog(t, run.log, nil, []string{"must-not-run"})

	run = runSpec(t, "version: 0.2\nenv:\n  secrets-manager:\n    T: s:k\nphases:\n  build:\n    commands: [echo x]\n", nil)
	if be := buildError(t, run.err); !strings.Contains(be.Msg, "no secret store is configured") {
		t.Fatalf("error %+v", be)
	}
}

// processGone waits until pid no longer runs (it may linger as a zombie
// until its new parent reaps it).
func processGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err == nil {
			if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d is still running", pid)
}

// readPID reads a PID the build wrote.
func readPID(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestRunTimeoutKillsTheProcessGroup(t *testing.T) {
	t.Parallel()
	start := time.Now()
	run := runSpec(t, `version: 0.2
phases:
  build:
    commands:
      - sleep 100 & echo $! > bg.pid; sleep 100
    finally:
      - echo finally-must-not-run
  post_build:
    commands: [echo post-must-not-run]
`, &Runner{Timeout: time.Second})
	if elapsed := time.Since(start); elapsed > 15*time.Second {
		t.Fatalf("the build took %s", elapsed)
	}
	be := buildError(t, run.err)
	if be.Status != StatusTimedOut || !strings.Contains(be.Msg, "timed out after 1s") || run.res.Status != StatusTimedOut {
		t.Fatalf("error %+v status %s", be, run.res.Status)
	}
	if got := phases(run.res); got != "INSTALL=SUCCEEDED PRE_BUILD=SUCCEEDED BUILD=TIMED_OUT POST_BUILD=SKIPPED UPLOAD_ARTIFACTS=SKIPPED" {
		t.Fatalf("phases %s", got)
	}
	processGone(t, readPID(t, filepath.Join(run.dir, "bg.pid")))
	requireLog(t, run.log, []string{"Phase complete: BUILD State: TIMED_OUT"}, []string{"must-not-run"})
	if run.res.ExportedVariables != nil {
		t.Fatalf("exported variables after a timeout: %v", run.res.ExportedVariables)
	}
}

func TestRunContextCancelStopsTheBuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := mustParse(t, "version: 0.2\nphases:\n  build:\n    commands:\n      - echo $$ > shell.pid; sleep 100\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(filepath.Join(dir, "shell.pid")); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	start := time.Now()
	res, err := (&Runner{Timeout: time.Minute}).Run(ctx, spec, dir)
	if elapsed := time.Since(start); elapsed > 15*time.Second {
		t.Fatalf("the build took %s", elapsed)
	}
	be := buildError(t, err)
	if be.Status != StatusStopped || res.Status != StatusStopped || !strings.Contains(be.Msg, "context canceled") {
		t.Fatalf("error %+v status %s", be, res.Status)
	}
	processGone(t, readPID(t, filepath.Join(dir, "shell.pid")))
}

func TestRunStopsLeftoverBackgroundProcesses(t *testing.T) {
	t.Parallel()
	start := time.Now()
	run := runSpec(t, "version: 0.2\nphases:\n  build:\n    commands:\n      - sleep 100 & echo $! > bg.pid\n      - echo started\n", nil)
	if run.err != nil || time.Since(start) > 15*time.Second {
		t.Fatalf("error %v after %s", run.err, time.Since(start))
	}
	processGone(t, readPID(t, filepath.Join(run.dir, "bg.pid")))
}

func TestRunCleanEnvironment(t *testing.T) {
	t.Parallel()
	info := BuildInfo{ID: "proj:1234", Number: 7, ResolvedSourceVersion: "abc123", Region: "eu-west-1"}
	env := info.Env()
	env["PROJECT_VAR"] = "from-project"
	run := runSpec(t, `version: 0.2
env:
  variables:
    SPEC_VAR: from-spec
    PROJECT_VAR: overridden-by-project
phases:
  build:
    commands:
      - env > env.txt
`, &Runner{Env: env})
	if run.err != nil {
		t.Fatal(run.err)
	}
	data, err := os.ReadFile(filepath.Join(run.dir, "env.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		got[k] = v
	}
	want := map[string]string{
		"PATH": defaultPath, "SPEC_VAR": "from-spec", "PROJECT_VAR": "from-project",
		"CODEBUILD_SRC_DIR": run.dir, "CODEBUILD_BUILD_SUCCEEDING": "1", "CODEBUILD_BUILD_ID": "proj:1234",
		"CODEBUILD_BUILD_NUMBER": "7", "CODEBUILD_RESOLVED_SOURCE_VERSION": "abc123", "CODEBUILD_CI": "true",
		"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	shellOwn := map[string]bool{"HOME": true, "PWD": true, "SHLVL": true, "_": true, "OLDPWD": true}
	for k := range got {
		if _, ok := want[k]; !ok && !shellOwn[k] {
			t.Errorf("unexpected variable %s=%q in the build environment", k, got[k])
		}
	}
	if home := got["HOME"]; home == os.Getenv("HOME") || !strings.HasSuffix(home, "/home") {
		t.Errorf("HOME = %q", home)
	}
}

func TestRunBashShell(t *testing.T) {
	t.Parallel()
	if _, err := findBash(); err != nil {
		t.Skip(err)
	}
	run := runSpec(t, `version: 0.2
env:
  shell: bash
phases:
  build:
    commands:
      - V="a b"; [[ $V == a* ]] && echo "bash=${BASH_VERSION%%.*}"
      - echo "kept=$V"
`, nil)
	if run.err != nil {
		t.Fatal(run.err)
	}
	requireLog(t, run.log, []string{"bash=", "kept=a b\n"}, nil)
}

func TestRunLogFormatAndOrder(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC)
	run := runSpec(t, "version: 0.2\nphases:\n  build:\n    commands:\n      - echo one\n      - echo two >&2\n", &Runner{Now: func() time.Time { return fixed }})
	if run.err != nil {
		t.Fatal(run.err)
	}
	want := "[Container] 2026/11/22 02:00:00 Running command echo one\none\n[Container] 2026/11/22 02:00:00 Running command echo two >&2\ntwo\n[Container] 2026/11/22 02:00:00 Phase complete: BUILD State: SUCCEEDED\n"
	if !strings.Contains(run.log, want) {
		t.Fatalf("log lacks\n%s\nin\n%s", want, run.log)
	}
	line := regexp.MustCompile(`^\[Container\] \d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `)
	for _, l := range strings.Split(strings.TrimSpace(run.log), "\n") {
		if l != "one" && l != "two" && !line.MatchString(l) {
			t.Errorf("log line %q", l)
		}
	}
}

func TestRunArtifacts(t *testing.T) {
	t.Parallel()
	run := runSpec(t, `version: 0.2
phases:
  build:
    commands:
      - mkdir -p dist/assets dist/maps docs/site node_modules/x
      - echo a > dist/index.html; echo b > dist/assets/app.js; echo c > dist/maps/app.js.map
      - echo d > docs/site/page.html; echo e > node_modules/x/i.js; echo f > .hidden
      - ln -s index.html dist/link.html
      - export BUILD_TAG=v1
artifacts:
  files: ['**/*']
  base-directory: dist
  exclude-paths: ['**/*.map']
  name: web-$BUILD_TAG
  enable-symlinks: yes
  secondary-artifacts:
    flat:
      files: ['dist/**/*', 'docs/site']
      discard-paths: yes
      exclude-paths: ['dist/maps/']
    everything:
      files: ['**/*']
      exclude-paths: [node_modules]
`, nil)
	if run.err != nil {
		t.Fatalf("%v\n%s", run.err, run.log)
	}
	a := run.res.Artifacts
	if a == nil || a.Name != "web-v1" || !a.EnableSymlinks {
		t.Fatalf("artifact %+v", a)
	}
	want := []ArtifactFile{
		{Source: "dist/assets/app.js", Dest: "assets/app.js"},
		{Source: "dist/index.html", Dest: "index.html"},
		{Source: "dist/link.html", Dest: "link.html", Symlink: true},
	}
	if !equalFiles(a.Files, want) {
		t.Fatalf("primary files %+v", a.Files)
	}
	flat := run.res.SecondaryArtifacts["flat"]
	if dests(flat.Files) != "app.js index.html link.html page.html" || flat.ID != "flat" {
		t.Fatalf("flat files %+v", flat)
	}
	if got := dests(run.res.SecondaryArtifacts["everything"].Files); got != ".hidden dist/assets/app.js dist/index.html dist/link.html dist/maps/app.js.map docs/site/page.html" {
		t.Fatalf("everything files %s", got)
	}
}

func equalFiles(a, b []ArtifactFile) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func dests(files []ArtifactFile) string {
	var out []string
	for _, f := range files {
		out = append(out, f.Dest)
	}
	return strings.Join(out, " ")
}

func TestRunNoMatchingArtifacts(t *testing.T) {
	t.Parallel()
	run := runSpec(t, "version: 0.2\nphases:\n  build:\n    commands: [touch other.txt]\nartifacts:\n  files: [target/app.jar]\n", nil)
	be := buildError(t, run.err)
	if be.Msg != "CLIENT_ERROR: no matching artifact paths found" || be.Phase != PhaseUploadArtifacts {
		t.Fatalf("error %+v", be)
	}
	if got := phases(run.res); got != "INSTALL=SUCCEEDED PRE_BUILD=SUCCEEDED BUILD=SUCCEEDED POST_BUILD=SUCCEEDED UPLOAD_ARTIFACTS=FAILED" {
		t.Fatalf("phases %s", got)
	}
	requireLog(t, run.log, []string{"Skipping invalid file path target/app.jar"}, nil)
}

func TestRunReportsFromBuildOutput(t *testing.T) {
	t.Parallel()
	run := runSpec(t, `version: 0.2
phases:
  build:
    commands:
      - mkdir -p reports/junit/nested out
      - |
        cat > reports/junit/unit.xml <<'EOF'
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites>
          <testsuite name="pkg" tests="4">
            <testcase name="a" time="0.5"/>
            <testcase name="b" time="0.25"><failure message="boom">trace</failure></testcase>
            <testcase name="c" time="0"><skipped/></testcase>
            <testsuite name="inner"><testcase name="d" time="1"><error message="panic"/></testcase></testsuite>
          </testsuite>
        </testsuites>
        EOF
      - echo '<testsuite><testcase name="e"/></testsuite>' > reports/junit/nested/more.xml
      - echo '<testsuite><testcase name="broken">' > reports/junit/broken.xml
      - |
        cat > out/cucumber.json <<'EOF'
        [{"name": "checkout", "elements": [
          {"type": "scenario", "steps": [{"result": {"status": "passed", "duration": 1000000}}]},
          {"type": "scenario", "steps": [{"result": {"status": "failed", "duration": 2000000}}]},
          {"type": "scenario", "steps": [{"result": {"status": "undefined"}}]}
        ]}]
        EOF
reports:
  unit:
    files: ['**/*.xml']
    base-directory: reports/junit
  features:
    files: [cucumber.json]
    base-directory: out
    file-format: CUCUMBERJSON
  missing:
    files: ['*.xml']
    base-directory: nowhere
`, nil)
	if run.err != nil {
		t.Fatalf("%v\n%s", run.err, run.log)
	}
	if len(run.res.Reports) != 3 {
		t.Fatalf("reports %+v", run.res.Reports)
	}
	unit, features, missing := run.res.Reports[0], run.res.Reports[1], run.res.Reports[2]
	wantUnit := TestCounts{Total: 5, Passed: 2, Failed: 2, Errors: 1, Skipped: 1, Duration: 1750 * time.Millisecond}
	if unit.Counts != wantUnit || unit.Status != ReportFailed || len(unit.Files) != 2 || !strings.Contains(unit.Err, "reports/junit/broken.xml: invalid JUnit XML") {
		t.Fatalf("unit report %+v", unit)
	}
	wantFeatures := TestCounts{Total: 3, Passed: 1, Failed: 1, Skipped: 1, Duration: 3 * time.Millisecond}
	if features.Counts != wantFeatures || features.Status != ReportFailed || features.Format != FormatCucumberJSON {
		t.Fatalf("features report %+v", features)
	}
	if missing.Status != ReportIncomplete || !strings.Contains(missing.Err, "no matching base directory path found for nowhere") {
		t.Fatalf("missing report %+v", missing)
	}
	requireLog(t, run.log, []string{"Report group unit (JUNITXML, 2 file(s)): FAILED: 5 total, 2 passed, 2 failed, 1 skipped in 1.75s"}, nil)
	if sum := run.res.Summary(); !strings.Contains(sum, "Report features: 3 total, 1 passed, 1 failed, 1 skipped in 3ms\n") {
		t.Fatalf("summary %s", sum)
	}
}

func TestRunInvalidArguments(t *testing.T) {
	t.Parallel()
	spec := mustParse(t, "version: 0.2\nphases:\n  build:\n    commands: [echo x]\n")
	dir := t.TempDir()
	cases := []struct {
		name string
		r    *Runner
		spec *Spec
		dir  string
		want string
	}{
		{"nil spec", &Runner{}, nil, dir, "no spec"},
		{"missing directory", &Runner{}, spec, filepath.Join(dir, "nope"), "not a directory"},
		{"unsupported shell", &Runner{Shell: "/bin/zsh"}, spec, dir, "not supported"},
		{"relative shell", &Runner{Shell: "sh"}, spec, dir, "absolute path"},
		{"bad env name", &Runner{Env: map[string]string{"A-B": "x"}}, spec, dir, "not a valid environment variable name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := tc.r.Run(context.Background(), tc.spec, tc.dir)
			if res != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("result %v, error %v", res, err)
			}
		})
	}
}

func TestRunSurvivesKillingTheGroup(t *testing.T) {
	t.Parallel()
	// kill 0 signals the whole build group, the anchor included; later
	// commands must still be able to join the group.
	run := runSpec(t, "version: 0.2\nphases:\n  build:\n    commands: ['kill 0']\n  post_build:\n    commands: [echo still-running]\n", nil)
	be := buildError(t, run.err)
	if be.ExitCode != -1 || !strings.Contains(be.Msg, "Reason: signal: terminated") {
		t.Fatalf("error %+v", be)
	}
	requireLog(t, run.log, []string{"\nstill-running\n"}, nil)
}
