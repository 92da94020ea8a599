package faults

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the worker get SIGKILL when the test process dies, so
// that a test run killed by its timeout leaves no worker behind. (The
// signal follows the thread that started the worker; Go only ends a thread
// when a goroutine locked to it exits, which this package never does.)
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
