//go:build unix

package buildspec

import (
	"fmt"
	"io"
	"os/exec"
	"syscall"
)

// procGroup is the build's process group. An anchor process leads it for
// the whole build, so every command can join the group even after earlier
// commands exited. The anchor is reaped last, which keeps its PID, and so
// the group ID, from being reused while the runner may still signal it.
type procGroup struct {
	anchor *exec.Cmd
	stdin  io.WriteCloser
	pgid   int
}

// startGroup starts the anchor process with shell in dir.
func startGroup(shell, dir string) (*procGroup, error) {
	cmd := exec.Command(shell, "-c", "read _")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + defaultPath}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("creating the process group: %w", err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("creating the process group: %w", err)
	}
	return &procGroup{anchor: cmd, stdin: stdin, pgid: cmd.Process.Pid}, nil
}

// attach makes cmd join the group when it starts.
func (g *procGroup) attach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: g.pgid}
}

// signal sends sig to every process of the group.
func (g *procGroup) signal(sig syscall.Signal) {
	_ = syscall.Kill(-g.pgid, sig)
}

// terminate asks the group to stop.
func (g *procGroup) terminate() { g.signal(syscall.SIGTERM) }

// kill stops the group at once.
func (g *procGroup) kill() { g.signal(syscall.SIGKILL) }

// close kills what is left of the group (background processes the build
// started) and reaps the anchor.
func (g *procGroup) close() {
	g.kill()
	_ = g.stdin.Close()
	_ = g.anchor.Wait()
}
