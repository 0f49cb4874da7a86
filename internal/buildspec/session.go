package buildspec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// killGrace is how long a stopped or timed-out command gets between
// SIGTERM and SIGKILL.
const killGrace = 3 * time.Second

// Files of the session's state directory.
const (
	fileCommand = "command" // the user command, dot-sourced
	fileScript  = "run.sh"  // the wrapper the shell runs
	fileSet     = "set"     // `set` output
	fileVars    = "vars"    // NAME=value\0 for every set variable
	fileExports = "exports" // `export -p` output
	filePwd     = "pwd"     // the working directory
	fileDone    = "done"    // written last: the snapshot is complete
	fileEval    = "eval"    // output of an internal expansion
)

// session is the build's shell session. CodeBuild 0.2 runs all commands
// "in the same instance of the default shell"; Slipway gets the same
// observable behaviour by running each command in its own shell process
// and carrying the shell state across: before a command the wrapper
// restores the variables and the working directory, and an EXIT trap
// snapshots them when the command ends, however it ends (including
// `exit N` and `set -e`). See the package documentation.
type session struct {
	shell    string
	stateDir string
	group    *procGroup
	out      *os.File
	// exported are the environment variables, local the shell variables
	// that are not exported.
	exported map[string]string
	local    map[string]string
	dir      string
	srcDir   string
}

// outcome is the result of one command.
type outcome struct {
	// exitCode is the exit status, -1 when killed by a signal.
	exitCode int
	// reason is "exit status N" or "signal: killed".
	reason string
	// interrupted reports that the context ended while the command ran.
	interrupted bool
	// fault is set when the command could not be started.
	fault error
}

// failed reports whether the command did not succeed.
func (o outcome) failed() bool {
	return o.exitCode != 0 || o.interrupted || o.fault != nil
}

// run runs one command with env overriding the session's environment
// (CODEBUILD_BUILD_SUCCEEDING).
func (s *session) run(ctx context.Context, text string, env map[string]string) outcome {
	if err := s.prepare(text); err != nil {
		return outcome{exitCode: -1, fault: err}
	}
	cmd := exec.Command(s.shell, filepath.Join(s.stateDir, fileScript))
	cmd.Dir = s.workDir()
	cmd.Env = envList(s.exported, env)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	s.group.attach(cmd)
	if err := cmd.Start(); err != nil {
		return outcome{exitCode: -1, fault: fmt.Errorf("starting %s: %w", s.shell, err)}
	}
	o := s.wait(ctx, cmd)
	s.load()
	return o
}

// wait waits for cmd, stopping the process group when ctx ends.
func (s *session) wait(ctx context.Context, cmd *exec.Cmd) outcome {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitOutcome(err)
	case <-ctx.Done():
	}
	s.group.terminate()
	timer := time.NewTimer(killGrace)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		s.group.kill()
		err = <-done
	}
	o := exitOutcome(err)
	o.interrupted = true
	return o
}

// exitOutcome converts cmd.Wait's error.
func exitOutcome(err error) outcome {
	if err == nil {
		return outcome{reason: "exit status 0"}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return outcome{exitCode: ee.ExitCode(), reason: ee.Error()}
	}
	return outcome{exitCode: -1, reason: err.Error(), fault: err}
}

// workDir returns the working directory for the next command: where the
// last command left off, or the source directory if that is gone.
func (s *session) workDir() string {
	if st, err := os.Stat(s.dir); err == nil && st.IsDir() {
		return s.dir
	}
	return s.srcDir
}

// prepare writes the command and its wrapper script and removes the
// previous snapshot.
func (s *session) prepare(text string) error {
	for _, f := range []string{fileSet, fileVars, fileExports, filePwd, fileDone} {
		if err := os.Remove(filepath.Join(s.stateDir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clearing the shell snapshot: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.stateDir, fileCommand), []byte(text+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the command: %w", err)
	}
	script := s.restoreScript() + dumpFunction(s.stateDir) +
		"trap '__slipway_st=$?; set +eux; __slipway_dump; exit \"$__slipway_st\"' EXIT\n" +
		". " + shellQuote(filepath.Join(s.stateDir, fileCommand)) + "\n"
	if err := os.WriteFile(filepath.Join(s.stateDir, fileScript), []byte(script), 0o600); err != nil {
		return fmt.Errorf("writing the command wrapper: %w", err)
	}
	return nil
}

// restoreScript assigns the shell variables that are not exported (the
// exported ones travel in the process environment).
func (s *session) restoreScript() string {
	names := make([]string, 0, len(s.local))
	for n := range s.local {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%s\n", n, shellQuote(s.local[n]))
	}
	return b.String()
}

// dumpFunction defines __slipway_dump, which writes the snapshot: the
// working directory, `export -p`, and every variable that `set` lists,
// NUL-separated so that values may hold any byte but NUL.
func dumpFunction(dir string) string {
	q := func(f string) string { return shellQuote(filepath.Join(dir, f)) }
	return `__slipway_dump() {
	printf '%s' "$PWD" >` + q(filePwd) + `
	export -p >` + q(fileExports) + `
	set >` + q(fileSet) + `
	: >` + q(fileVars) + `
	while IFS= read -r __slipway_l; do
		case $__slipway_l in
		[A-Za-z_]*=*) ;;
		*) continue ;;
		esac
		__slipway_n=${__slipway_l%%=*}
		case $__slipway_n in
		*[!A-Za-z0-9_]* | __slipway_*) continue ;;
		esac
		eval "[ -n \"\${$__slipway_n+x}\" ]" || continue
		eval "printf '%s=%s\0' \"\$__slipway_n\" \"\${$__slipway_n}\"" >>` + q(fileVars) + `
	done <` + q(fileSet) + `
	: >` + q(fileDone) + `
}
`
}

// load reads the snapshot the last command wrote. Without a complete
// snapshot (the command replaced the EXIT trap, ran exec, or was killed)
// the previous state stays.
func (s *session) load() {
	if _, err := os.Stat(filepath.Join(s.stateDir, fileDone)); err != nil {
		return
	}
	vars, err1 := os.ReadFile(filepath.Join(s.stateDir, fileVars))
	exports, err2 := os.ReadFile(filepath.Join(s.stateDir, fileExports))
	pwd, err3 := os.ReadFile(filepath.Join(s.stateDir, filePwd))
	if err1 != nil || err2 != nil || err3 != nil {
		return
	}
	exportedNames := parseExportNames(string(exports))
	exported, local := map[string]string{}, map[string]string{}
	for _, kv := range strings.Split(string(vars), "\x00") {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !isEnvName(name) {
			continue
		}
		switch {
		case exportedNames[name] && !shellManagedExport(name):
			exported[name] = value
		case !exportedNames[name] && !shellManagedLocal(name):
			local[name] = value
		}
	}
	s.exported, s.local = exported, local
	if p := string(pwd); filepath.IsAbs(p) {
		s.dir = p
	}
}

// value returns a variable's value at this point of the session.
func (s *session) value(name string) (string, bool) {
	if v, ok := s.exported[name]; ok {
		return v, true
	}
	v, ok := s.local[name]
	return v, ok
}

// expand runs a here-document through the shell with the session's state,
// so that an artifact name like myname-$(date +%Y-%m-%d) is expanded as
// CodeBuild expands it. Its output does not go to the log; errors do.
func (s *session) expand(ctx context.Context, text string) (string, error) {
	delim := "__SLIPWAY_EOF_" + filepath.Base(s.stateDir)
	outPath := filepath.Join(s.stateDir, fileEval)
	script := s.restoreScript() +
		"while IFS= read -r __slipway_l; do printf '%s\\n' \"$__slipway_l\"; done >" + shellQuote(outPath) +
		" <<" + delim + "\n" + text + "\n" + delim + "\n"
	if err := os.WriteFile(filepath.Join(s.stateDir, fileScript), []byte(script), 0o600); err != nil {
		return "", fmt.Errorf("writing the expansion script: %w", err)
	}
	cmd := exec.Command(s.shell, filepath.Join(s.stateDir, fileScript))
	cmd.Dir = s.workDir()
	cmd.Env = envList(s.exported, nil)
	cmd.Stderr = s.out
	s.group.attach(cmd)
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", s.shell, err)
	}
	if o := s.wait(ctx, cmd); o.failed() {
		return "", fmt.Errorf("expanding %q: %s", text, o.reason)
	}
	out, err := os.ReadFile(outPath)
	if err != nil {
		return "", fmt.Errorf("reading the expansion of %q: %w", text, err)
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// parseExportNames returns the names `export -p` lists, in dash's
// (export NAME='v') and bash's (declare -x NAME="v") formats.
func parseExportNames(text string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, "export ")
		if !ok {
			flags, r, isDeclare := strings.Cut(strings.TrimPrefix(line, "declare -"), " ")
			if !isDeclare || !strings.HasPrefix(line, "declare -") || !strings.Contains(flags, "x") {
				continue
			}
			rest = r
		}
		name, _, _ := strings.Cut(rest, "=")
		if isEnvName(name) {
			names[name] = true
		}
	}
	return names
}

// shellManagedExport reports whether an exported variable is maintained by
// the shell itself and must not be carried over.
func shellManagedExport(name string) bool {
	switch name {
	case "PWD", "SHLVL", "_":
		return true
	}
	return strings.HasPrefix(name, "__slipway_")
}

// shellManagedLocal reports whether a shell variable is special to dash or
// bash (read-only, computed or per-process) and must not be restored.
func shellManagedLocal(name string) bool {
	switch name {
	case "IFS", "OPTIND", "OPTARG", "OPTERR", "PPID", "PS1", "PS2", "PS3", "PS4",
		"PWD", "LINENO", "RANDOM", "SRANDOM", "SECONDS", "SHLVL", "_", "EUID", "UID",
		"GROUPS", "HOSTNAME", "HOSTTYPE", "MACHTYPE", "OSTYPE", "SHELL", "SHELLOPTS",
		"DIRSTACK", "FUNCNAME", "PIPESTATUS", "COLUMNS", "LINES", "HISTCMD", "HISTFILE",
		"HISTFILESIZE", "HISTSIZE", "MAILCHECK", "COMP_WORDBREAKS", "EPOCHREALTIME",
		"EPOCHSECONDS", "TERM":
		return true
	}
	return strings.HasPrefix(name, "BASH") || strings.HasPrefix(name, "__slipway_")
}

// envList renders the environment, extra overriding base, sorted.
func envList(base, extra map[string]string) []string {
	merged := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		merged[k] = v
	}
	for k, v := range extra {
		merged[k] = v
	}
	out := make([]string, 0, len(merged))
	for k, v := range merged {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// shellQuote quotes s for the POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
