//go:build !unix

package remote

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where there are no process groups.
func ownGroup(*exec.Cmd) {}

// killGroup kills p (what it started is not tracked here).
func killGroup(p *os.Process) { p.Kill() }
