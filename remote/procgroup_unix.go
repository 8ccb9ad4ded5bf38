//go:build unix && !linux

package remote

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own (see the Linux
// version).
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills p's process group, or p alone when there is no group to
// kill.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		p.Kill()
	}
}

// awaitExit reports false: without waitid's WNOWAIT here, what a program
// leaves behind when it exits by itself is not killed.
func awaitExit(*os.Process) bool { return false }
