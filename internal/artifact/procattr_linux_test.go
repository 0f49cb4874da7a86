package artifact

import (
	"os/exec"
	"syscall"
)

// setTestProcAttr makes the kernel kill a server the tests started if the
// test binary dies without stopping it.
func setTestProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
