//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package tmpfile

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Lock takes an exclusive advisory lock on f, waiting for another holder
// (RemoveStale holds one for a moment); closing f releases it. A writer
// locks its temporary before writing to it and closes it only once the
// temporary is renamed into place or removed.
func Lock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			if err != nil {
				return fmt.Errorf("lock %s: %w", f.Name(), err)
			}
			return nil
		}
	}
}

// removeIfStale removes path when it is a regular file whose lock can be
// taken at once, that was last modified at least minAge ago and that holds
// data or was last modified at least EmptyAge ago, and reports whether it
// did.
func removeIfStale(path string, minAge time.Duration) bool {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false // a live writer's
	}
	st, err := f.Stat()
	if st != nil && st.Size() == 0 {
		minAge = max(minAge, EmptyAge)
	}
	if err != nil || !st.Mode().IsRegular() || time.Since(st.ModTime()) < minAge {
		return false
	}
	// Remove the file locked, not one put under its name since.
	if cur, err := os.Lstat(path); err != nil || !os.SameFile(st, cur) {
		return false
	}
	return os.Remove(path) == nil
}
