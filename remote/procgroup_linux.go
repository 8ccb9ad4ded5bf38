//go:build linux

package remote

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
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

// awaitExit blocks until p has exited, without reaping it (waitid with
// WNOWAIT), and reports true: until p is waited for, its ID cannot be
// given to another process, so its group can still be killed safely.
func awaitExit(p *os.Process) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return err == nil
		}
	}
}
