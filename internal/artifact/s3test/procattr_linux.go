//go:build linux

package s3test

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the server die with the test process.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
