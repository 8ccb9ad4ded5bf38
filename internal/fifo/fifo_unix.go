//go:build unix

package fifo

import "syscall"

// Make creates a named pipe at path with permission bits perm.
func Make(path string, perm uint32) error { return syscall.Mkfifo(path, perm) }
