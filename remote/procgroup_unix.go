//go:build unix

package remote

import (
	"os"
	"os/exec"
	"syscall"
)

// ownGroup starts cmd in a process group of its own, so that killing it
// also kills what it started: a wrapper script's model (sh run.sh starting
// python3 model.py) outlived lineage's kill, holding its memory. It also
// keeps the terminal's Ctrl-C away from the program: lineage stops it.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills p's process group (p and everything it started that is
// still in that group), or p alone when there is no group to kill. p must
// not have been reaped: its ID then still names its group and no other.
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		p.Kill()
	}
}
