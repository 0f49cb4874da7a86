package buildspec

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// build is the state of one Run.
type build struct {
	r        *Runner
	spec     *Spec
	srcDir   string
	shell    string
	stateDir string
	home     string
	now      func() time.Time

	log   *logPipe
	group *procGroup
	sess  *session
	res   *Result

	succeeding  bool
	first       *BuildError // first failure
	aborted     bool        // a failure skipped the remaining phases
	interrupted bool        // timed out or stopped
}

// removeState deletes the build's state directory.
func (b *build) removeState() { _ = os.RemoveAll(b.stateDir) }

// run runs the build.
func (b *build) run(ctx context.Context) (*Result, error) {
	b.res = &Result{Start: b.now(), ExitCode: -1}
	env, secrets, envErr := b.initialEnv()
	lp, err := newLogPipe(b.r.logWriter(), secrets)
	if err != nil {
		return nil, fmt.Errorf("buildspec: creating the log pipe: %w", err)
	}
	b.log = lp
	runCtx, cancel := context.WithTimeout(ctx, b.r.timeout())
	defer cancel()

	b.header()
	if be := b.start(env, envErr); be != nil {
		b.fail(be)
		b.skipAll()
	} else {
		b.runPhases(ctx, runCtx)
		b.finish(runCtx)
	}
	return b.close(), b.err()
}

// start fails the build when a secret could not be resolved, and
// otherwise starts the shell session.
func (b *build) start(env map[string]string, envErr error) *BuildError {
	if envErr != nil {
		b.logf("Phase context status code: CLIENT_ERROR Message: %s", envErr)
		return &BuildError{Status: StatusFailed, ExitCode: -1, Msg: "processing environment variables: " + envErr.Error()}
	}
	if err := b.startSession(env); err != nil {
		return &BuildError{Status: StatusFault, ExitCode: -1, Msg: err.Error()}
	}
	return nil
}

// header writes the opening [Container] lines.
func (b *build) header() {
	b.logf("Running on Slipway with %s", b.shell)
	b.logf("CODEBUILD_SRC_DIR=%s", b.srcDir)
	b.logf("Processing environment variables")
	for _, n := range b.spec.Notes {
		b.logf("buildspec.yml line %d: %s", n.Line, n.Msg)
	}
	b.logf("Moving to directory %s", b.srcDir)
	b.logf("Phases found in YAML: %d", len(b.spec.Phases))
	for _, p := range b.spec.Phases {
		b.logf(" %s: %d commands", p.Name.Type(), len(p.Commands)+len(p.Finally))
	}
}

// startSession starts the process group and the shell session.
func (b *build) startSession(env map[string]string) error {
	g, err := startGroup(b.shell, b.srcDir)
	if err != nil {
		return err
	}
	b.group = g
	b.succeeding = true
	b.sess = &session{shell: b.shell, stateDir: b.stateDir, group: g, out: b.log.w,
		exported: env, local: map[string]string{}, dir: b.srcDir, srcDir: b.srcDir}
	return nil
}

// close stops what is left of the build's processes, drains the log and
// completes the result.
func (b *build) close() *Result {
	if b.group != nil {
		b.group.close()
	}
	b.log.close()
	res := b.res
	res.LogTail = b.log.tail.String()
	res.End = b.now()
	for i := range res.Phases {
		res.Phases[i].Message = b.log.red.redactString(res.Phases[i].Message)
	}
	if b.first != nil {
		b.first.Msg = b.log.red.redactString(b.first.Msg)
		b.first.Command = b.log.red.redactString(b.first.Command)
		res.Status, res.Err, res.FailedPhase = b.first.Status, b.first.Msg, b.first.Phase
		res.FailedCommand, res.ExitCode = b.first.Command, b.first.ExitCode
	} else {
		res.Status = StatusSucceeded
	}
	return res
}

// err returns the build's error.
func (b *build) err() error {
	if b.first == nil {
		return nil
	}
	return b.first
}

// fail records a failure. An interruption replaces an earlier failure,
// because it decides the build status.
func (b *build) fail(e *BuildError) {
	b.succeeding = false
	if b.first == nil || e.Status == StatusTimedOut || e.Status == StatusStopped {
		b.first = e
	}
}

// logf writes one [Container] line through the log pipe, so that it stays
// in order with the commands' output.
func (b *build) logf(format string, args ...any) {
	line := fmt.Sprintf("[Container] %s %s\n", b.now().Format(logTimeFormat), fmt.Sprintf(format, args...))
	_, _ = b.log.w.WriteString(line)
}

// skipAll marks every phase skipped.
func (b *build) skipAll() {
	for _, name := range PhaseOrder() {
		b.res.Phases = append(b.res.Phases, PhaseResult{Type: name.Type(), Status: StatusSkipped})
	}
	b.res.Phases = append(b.res.Phases, PhaseResult{Type: PhaseUploadArtifacts, Status: StatusSkipped})
}

// runPhases runs the four phases under the CodeBuild transition rules.
func (b *build) runPhases(parent, ctx context.Context) {
	skipRest := false
	for _, name := range PhaseOrder() {
		if skipRest {
			b.res.Phases = append(b.res.Phases, PhaseResult{Type: name.Type(), Status: StatusSkipped})
			continue
		}
		pr := b.runPhase(parent, ctx, name)
		b.res.Phases = append(b.res.Phases, pr)
		switch {
		case pr.Status == StatusTimedOut || pr.Status == StatusStopped:
			skipRest, b.interrupted = true, true
		case pr.Status == StatusFailed && stopsBuild(b.spec.Phase(name), name):
			skipRest, b.aborted = true, true
		}
	}
}

// stopsBuild reports whether a failure of phase name skips the phases
// after it. on-failure: CONTINUE goes on and ABORT stops; without
// on-failure the CodeBuild phase transitions apply: an INSTALL or
// PRE_BUILD failure ends the build, while after a BUILD failure POST_BUILD
// still runs.
func stopsBuild(ph *Phase, name PhaseName) bool {
	if ph != nil {
		switch ph.OnFailure {
		case OnFailureContinue:
			return false
		case OnFailureAbort:
			return true
		}
	}
	return name == PhaseInstall || name == PhasePreBuild
}

// runPhase runs one phase: its commands until the first failure, then its
// finally commands whatever happened (unless the build was interrupted).
func (b *build) runPhase(parent, ctx context.Context, name PhaseName) PhaseResult {
	pr := PhaseResult{Type: name.Type(), Start: b.now(), Status: StatusSucceeded}
	b.logf("Entering phase %s", pr.Type)
	if ph := b.spec.Phase(name); ph != nil {
		b.runBlocks(parent, ctx, ph, &pr)
	}
	pr.End = b.now()
	b.logf("Phase complete: %s State: %s", pr.Type, pr.Status)
	b.logf("Phase context status code: %s Message: %s", contextCode(pr.Status), pr.Message)
	return pr
}

// contextCode is the phase context status code CodeBuild logs for a phase
// status.
func contextCode(st Status) string {
	switch st {
	case StatusFailed:
		return "COMMAND_EXECUTION_ERROR"
	case StatusTimedOut:
		return "BUILD_TIMED_OUT"
	case StatusStopped:
		return "BUILD_STOPPED"
	}
	return ""
}

// runBlocks runs a phase's commands and finally blocks into pr.
func (b *build) runBlocks(parent, ctx context.Context, ph *Phase, pr *PhaseResult) {
	if ph.RuntimeVersions != nil {
		b.logf("Skipping install of runtimes. Runtime version selection is not supported by this build image.")
	}
	for _, block := range [][]Command{ph.Commands, ph.Finally} {
		for _, c := range block {
			pr.Commands++
			st := b.command(parent, ctx, pr, c)
			if st == StatusTimedOut || st == StatusStopped {
				pr.Status = st
				return
			}
			if st == StatusFailed {
				pr.Status = StatusFailed
				break
			}
		}
	}
}

// command runs one command and returns StatusSucceeded, StatusFailed,
// StatusTimedOut or StatusStopped.
func (b *build) command(parent, ctx context.Context, pr *PhaseResult, c Command) Status {
	if ctx.Err() != nil {
		return b.interrupt(parent, pr, c, "before")
	}
	b.logf("Running command %s", c.Text)
	succeeding := "1"
	if !b.succeeding {
		succeeding = "0"
	}
	o := b.sess.run(ctx, c.Text, map[string]string{"CODEBUILD_BUILD_SUCCEEDING": succeeding})
	switch {
	case o.interrupted:
		return b.interrupt(parent, pr, c, "while")
	case o.fault != nil:
		msg := commandFailure(c.Text, o.fault.Error())
		b.logf("Command did not exit successfully %s %s", c.Text, o.fault)
		b.fail(&BuildError{Status: StatusFault, Phase: pr.Type, Command: c.Text, ExitCode: -1, Msg: msg})
		b.phaseMessage(pr, msg)
		return StatusFailed
	case o.exitCode != 0:
		msg := commandFailure(c.Text, o.reason)
		b.logf("Command did not exit successfully %s %s", c.Text, o.reason)
		b.fail(&BuildError{Status: StatusFailed, Phase: pr.Type, Command: c.Text, ExitCode: o.exitCode, Msg: msg})
		b.phaseMessage(pr, msg)
		return StatusFailed
	}
	return StatusSucceeded
}

// phaseMessage keeps a phase's first failure message.
func (b *build) phaseMessage(pr *PhaseResult, msg string) {
	if pr.Message == "" {
		pr.Message = msg
	}
}

// interrupt records a timeout or a stop while (or before) running
// command c.
func (b *build) interrupt(parent context.Context, pr *PhaseResult, c Command, when string) Status {
	st, msg := StatusTimedOut, fmt.Sprintf("Build timed out after %s %s running command: %s", b.r.timeout(), when, c.Text)
	if parent.Err() != nil {
		st, msg = StatusStopped, fmt.Sprintf("Build stopped (%v) %s running command: %s", context.Cause(parent), when, c.Text)
	}
	if when == "while" {
		b.logf("Command did not exit successfully %s %s", c.Text, strings.ToLower(string(st)))
	}
	b.fail(&BuildError{Status: st, Phase: pr.Type, Command: c.Text, ExitCode: -1, Msg: msg})
	b.phaseMessage(pr, msg)
	return st
}
