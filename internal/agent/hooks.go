package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slipway-cd/slipway/internal/appspec"
)

// scriptsLogTime is the timestamp of a scripts.log line: Ruby's Time#to_s
// without the zone (hook_executor.rb; api.md §6.10).
const scriptsLogTime = "2006-01-02 15:04:05"

// streamInterval is how often buffered hook output is sent to the server.
const streamInterval = time.Second

// hookDeploymentDir returns the deployment directory whose revision a hook
// uses, or "" when none applies (hook_executor.rb
// select_correct_deployment_root_dir; api.md §6.7): ApplicationStop and
// the block-traffic hooks use the last successful install while the
// current deployment has no revision yet; a blue/green rollback swaps in
// the most recent and last successful installs for the traffic hooks.
func (x *Executor) hookDeploymentDir(ev appspec.Event, spec *DeploymentSpec) string {
	cur := x.DeploymentDir(spec)
	group := spec.DeploymentGroupID
	if spec.DeploymentCreator == "codeDeployRollback" && spec.DeploymentType == "BLUE_GREEN" {
		switch ev {
		case appspec.BeforeBlockTraffic, appspec.AfterBlockTraffic:
			return readPointer(x.mostRecentFile(group))
		case appspec.BeforeAllowTraffic, appspec.AfterAllowTraffic:
			return readPointer(x.lastSuccessfulFile(group))
		}
	}
	if ev.UsesLastSuccessfulRevision() {
		if _, err := os.Stat(archiveDir(cur)); err == nil {
			return cur
		}
		return readPointer(x.lastSuccessfulFile(group))
	}
	return cur
}

// runHook executes a lifecycle-event command: the event's scripts, in
// order, stopping at the first failure (hook_executor.rb execute).
func (x *Executor) runHook(ctx context.Context, ev appspec.Event, spec *DeploymentSpec, stream LogStreamer) error {
	dir := x.hookDeploymentDir(ev, spec)
	if dir == "" {
		x.log().Info("no revision for this lifecycle event; nothing to do", "event", ev, "deployment", spec.DeploymentID)
		return nil
	}
	as, err := x.loadAppSpec(archiveDir(dir), spec)
	if err != nil {
		return unknownError(err.Error())
	}
	scripts := as.Scripts(ev)
	if len(scripts) == 0 {
		return nil
	}
	logDir := filepath.Join(x.DeploymentDir(spec), "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(logDir, "scripts.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	out := &hookOutput{x: x, file: f, deploymentID: spec.DeploymentID, stream: stream, ctx: ctx}
	defer out.close()
	out.line("LifecycleEvent - " + string(ev))
	for _, sc := range scripts {
		if err := x.runScript(ctx, ev, sc, dir, spec, out); err != nil {
			return err
		}
	}
	return nil
}

// hookOutput writes a hook's output to scripts.log, the deployments log,
// the diagnostics tail and the server stream.
type hookOutput struct {
	x            *Executor
	file         *os.File
	deploymentID string
	ctx          context.Context
	stream       LogStreamer

	mu       sync.Mutex
	tail     *scriptLog
	pending  strings.Builder
	disabled bool
	flushing sync.Mutex
}

// line writes one log entry.
func (o *hookOutput) line(msg string) {
	text := time.Now().Format(scriptsLogTime) + " " + msg + "\n"
	o.mu.Lock()
	_, _ = o.file.WriteString(text)
	if o.tail != nil && (strings.HasPrefix(msg, "[stdout]") || strings.HasPrefix(msg, "[stderr]")) {
		o.tail.append(msg + "\n")
	}
	if o.stream != nil && !o.disabled {
		o.pending.WriteString(text)
	}
	big := o.pending.Len() >= maxPayload/2
	o.mu.Unlock()
	o.x.appendDeploymentsLog(o.deploymentID, msg)
	if big {
		o.flush()
	}
}

// flush sends buffered output to the server. The first error disables the
// stream for the rest of the command.
func (o *hookOutput) flush() {
	if o.stream == nil {
		return
	}
	o.flushing.Lock()
	defer o.flushing.Unlock()
	o.mu.Lock()
	chunk := o.pending.String()
	o.pending.Reset()
	disabled := o.disabled
	o.mu.Unlock()
	for len(chunk) > 0 && !disabled {
		n := min(len(chunk), maxPayload)
		part := chunk[:n]
		chunk = chunk[n:]
		ctx, cancel := context.WithTimeout(context.WithoutCancel(o.ctx), 10*time.Second)
		err := o.stream(ctx, part)
		cancel()
		if err != nil {
			o.x.log().Warn("the server does not accept streamed hook output; continuing without it", "err", err)
			o.mu.Lock()
			o.disabled = true
			o.mu.Unlock()
			return
		}
	}
}

func (o *hookOutput) close() { o.flush() }

// runScript runs one script with its timeout.
func (x *Executor) runScript(ctx context.Context, ev appspec.Event, sc appspec.Script, dir string, spec *DeploymentSpec, out *hookOutput) error {
	loc := sc.Location
	abs := filepath.Join(archiveDir(dir), filepath.FromSlash(sc.BundlePath))
	fi, err := os.Stat(abs)
	if err != nil {
		return &ScriptError{Code: CodeScriptMissing, ScriptName: loc, Message: "Script does not exist at specified location: " + abs}
	}
	if fi.Mode()&0o111 == 0 {
		x.log().Info("script is not executable; trying to make it executable", "location", loc)
		chmod := x.chmod
		if chmod == nil {
			chmod = os.Chmod
		}
		if err := chmod(abs, fi.Mode().Perm()|0o111); err != nil {
			return &ScriptError{Code: CodeScriptNotExecutable, ScriptName: loc,
				Message: fmt.Sprintf("Unable to set script at specified location: %s as executable: %v", loc, err)}
		}
	}
	out.line("Script - " + loc)
	tail := &scriptLog{}
	out.mu.Lock()
	out.tail = tail
	out.mu.Unlock()
	fail := func(code int, msg string) error {
		return &ScriptError{Code: code, ScriptName: loc, Message: msg, Log: tail.String()}
	}
	asUser := ""
	if sc.RunAs != "" {
		asUser = " run as user " + sc.RunAs
	}

	argv, cred, userEnv, err := x.scriptCommand(sc, abs)
	if err != nil {
		return fail(CodeScriptFailed, fmt.Sprintf("Script at specified location: %s%s failed: %v", loc, asUser, err))
	}
	env := x.hookEnv(ev, spec, userEnv)

	timeout := sc.Timeout
	if timeout <= 0 {
		timeout = appspec.DefaultTimeout
	}
	deadline := time.Now().Add(timeout)

	cmd, outR, errR, err := startScript(argv, cred, env, x.HookWorkingDir)
	if err != nil {
		return fail(CodeScriptFailed, fmt.Sprintf("Script at specified location: %s%s failed with error %T with message %v", loc, asUser, err, err))
	}
	pgid := cmd.Process.Pid

	var readers sync.WaitGroup
	for _, r := range []struct {
		f      *os.File
		prefix string
	}{{outR, "[stdout]"}, {errR, "[stderr]"}} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			br := bufio.NewReader(r.f)
			for {
				s, err := br.ReadString('\n')
				if s != "" {
					out.line(r.prefix + strings.TrimRight(s, "\r\n"))
				}
				if err != nil {
					return
				}
			}
		}()
	}
	readersDone := make(chan struct{})
	go func() { readers.Wait(); close(readersDone) }()

	stopTicker := make(chan struct{})
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		t := time.NewTicker(streamInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				out.flush()
			case <-stopTicker:
				return
			}
		}
	}()
	defer func() { close(stopTicker); <-tickerDone; out.flush() }()

	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()

	closeReaders := func(wait time.Duration) bool {
		select {
		case <-readersDone:
			return true
		case <-time.After(wait):
			outR.Close()
			errR.Close()
			<-readersDone
			return false
		}
	}

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var waitErr error
	select {
	case waitErr = <-waitDone:
	case <-timer.C:
		x.killGroup(pgid, waitDone)
		closeReaders(2 * time.Second)
		return fail(CodeScriptTimedOut, fmt.Sprintf("Script at specified location: %s failed to complete in %d seconds", loc, int(timeout/time.Second)))
	case <-ctx.Done():
		x.killGroup(pgid, waitDone)
		closeReaders(2 * time.Second)
		return fail(CodeScriptFailed, fmt.Sprintf("Script at specified location: %s%s was stopped: the agent is shutting down (%v)", loc, asUser, context.Cause(ctx)))
	}
	if !closeReaders(max(time.Until(deadline), 0)) {
		return fail(CodeOutputsLeftOpen, fmt.Sprintf("Script at specified location: %s failed to close STDOUT/STDERR", loc))
	}
	outR.Close()
	errR.Close()
	if waitErr != nil {
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			code := ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return fail(CodeScriptFailed, fmt.Sprintf("Script at specified location: %s%s failed with signal %v", loc, asUser, ws.Signal()))
			}
			return fail(CodeScriptFailed, fmt.Sprintf("Script at specified location: %s%s failed with exit code %d", loc, asUser, code))
		}
		return fail(CodeScriptFailed, fmt.Sprintf("Script at specified location: %s%s failed with error %T with message %v", loc, asUser, waitErr, waitErr))
	}
	return nil
}

// killGroup sends SIGTERM to the script's process group, as the stock
// agent does, then SIGKILL to whatever is left after KillGrace.
func (x *Executor) killGroup(pgid int, waitDone <-chan error) {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	grace := x.KillGrace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	select {
	case <-waitDone:
	case <-time.After(grace):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// startScript starts argv in a process group of its own with stdin from
// /dev/null and stdout and stderr on pipes. A script without a #! line
// (ENOEXEC) is run by /bin/sh, as Ruby's spawn does.
func startScript(argv []string, cred *syscall.Credential, env []string, dir string) (*exec.Cmd, *os.File, *os.File, error) {
	start := func(argv []string) (*exec.Cmd, *os.File, *os.File, error) {
		outR, outW, err := os.Pipe()
		if err != nil {
			return nil, nil, nil, err
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			outR.Close()
			outW.Close()
			return nil, nil, nil, err
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		cmd.Dir = dir
		cmd.Stdout = outW
		cmd.Stderr = errW
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
		err = cmd.Start()
		outW.Close()
		errW.Close()
		if err != nil {
			outR.Close()
			errR.Close()
			return nil, nil, nil, err
		}
		return cmd, outR, errR, nil
	}
	cmd, outR, errR, err := start(argv)
	if errors.Is(err, syscall.ENOEXEC) {
		return start(append([]string{"/bin/sh"}, argv[len(argv)-1]))
	}
	return cmd, outR, errR, err
}

// scriptCommand builds the command line of a script
// (linux_util.rb prepare_script_command): runas switches user, which only
// root can do directly; a non-root agent uses sudo when the script asks for
// it, and otherwise refuses runas for another user.
func (x *Executor) scriptCommand(sc appspec.Script, abs string) ([]string, *syscall.Credential, []string, error) {
	root := x.isRoot()
	if sc.RunAs == "" {
		if sc.Sudo && !root {
			return []string{"sudo", "-n", "--", abs}, nil, nil, nil
		}
		return []string{abs}, nil, nil, nil
	}
	if !root {
		if me, err := user.Current(); err == nil && me.Username == sc.RunAs {
			return []string{abs}, nil, nil, nil
		}
		if sc.Sudo {
			return []string{"sudo", "-n", "-u", sc.RunAs, "--", abs}, nil, nil, nil
		}
		return nil, nil, nil, fmt.Errorf("runas needs the agent to run as root, but it runs as uid %d; run the agent as root, or remove runas", os.Geteuid())
	}
	u, err := user.Lookup(sc.RunAs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("user %s: %w", sc.RunAs, err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	env := []string{"HOME=" + u.HomeDir, "USER=" + u.Username, "LOGNAME=" + u.Username}
	return []string{abs}, cred, env, nil
}

// secretEnv lists the agent's own environment variables scripts do not
// inherit (the stock agent clears them in command_poller.rb).
var secretEnv = map[string]bool{
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
	"AWS_CREDENTIAL_FILE": true, "AWS_ACCESS_KEY": true, "AWS_SECRET_KEY": true,
}

// hookEnv returns a script's environment: the agent's own, without its
// credentials, plus the variables of codedeploy.md §4.6 (hook_executor.rb
// :106, command_executor.rb:262–281).
func (x *Executor) hookEnv(ev appspec.Event, spec *DeploymentSpec, extra []string) []string {
	vars := map[string]string{
		"LIFECYCLE_EVENT":       string(ev),
		"DEPLOYMENT_ID":         spec.DeploymentID,
		"APPLICATION_NAME":      spec.ApplicationName,
		"DEPLOYMENT_GROUP_NAME": spec.DeploymentGroupName,
		"DEPLOYMENT_GROUP_ID":   spec.DeploymentGroupID,
	}
	switch r := spec.Revision; {
	case r.RevisionType == RevisionS3 && r.S3Revision != nil:
		vars["BUNDLE_BUCKET"] = r.S3Revision.Bucket
		vars["BUNDLE_KEY"] = r.S3Revision.Key
		if r.S3Revision.Version != nil {
			vars["BUNDLE_VERSION"] = *r.S3Revision.Version
		}
		if r.S3Revision.ETag != nil {
			vars["BUNDLE_ETAG"] = *r.S3Revision.ETag
		}
	case r.RevisionType == RevisionGitHub && r.GitHubRevision != nil:
		vars["BUNDLE_COMMIT"] = r.GitHubRevision.CommitID
	}
	if x.InstallRoot != "" {
		vars["SLIPWAY_INSTALL_ROOT"] = x.InstallRoot
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, override := vars[k]; override || secretEnv[k] {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}
