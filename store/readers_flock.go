//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"os"
	"syscall"
)

// onlyReaders reports whether the lock on the file at path is held by
// readers alone (or by nobody): whether a shared lock can be taken now.
// bbolt takes a shared flock for a read-only open and an exclusive one for
// a writer, so false means a writer holds it (or the file cannot be read).
func onlyReaders(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close() // closing the descriptor lets its lock go
	return syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) == nil
}
