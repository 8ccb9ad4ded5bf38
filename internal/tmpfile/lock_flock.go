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

// Claim takes an exclusive advisory lock on path's claim file (see
// ClaimName), for a run that writes path over a while, and returns
// ErrClaimed at once when a live process holds it. release removes the
// claim file and lets the lock go.
func Claim(path string) (release func(), err error) {
	if path, err = target(path); err != nil {
		return nil, err
	}
	name := ClaimName(path)
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, fmt.Errorf("claim %s: %w", path, err)
		}
		for err = syscall.EINTR; err == syscall.EINTR; {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		}
		if err != nil {
			f.Close()
			if err == syscall.EWOULDBLOCK {
				return nil, ErrClaimed
			}
			return nil, fmt.Errorf("claim %s: %w", path, err)
		}
		// A stale claim file another writer's RemoveStale removed between
		// the open and the lock is locked in vain: take the one there now.
		st, err := f.Stat()
		if cur, cerr := os.Lstat(name); err == nil && cerr == nil && os.SameFile(st, cur) {
			return func() {
				os.Remove(name) // while still locked
				f.Close()
			}, nil
		}
		f.Close()
	}
}
