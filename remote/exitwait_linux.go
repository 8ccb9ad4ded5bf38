//go:build linux

package remote

import (
	"os"

	"golang.org/x/sys/unix"
)

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
