package faults

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the child if the test process dies
// first (a test timeout, ^C), so no trackhook outlives the suite.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
