//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package tmpfile

import (
	"os"
	"time"
)

// Lock does nothing here: this system has no flock, so RemoveStale cannot
// tell a live writer's temporary from a stale one and removes none.
func Lock(f *os.File) error { return nil }

// removeIfStale never removes a file where advisory locks are not
// available.
func removeIfStale(path string, minAge time.Duration) bool { return false }

// Claim claims nothing here (there is no flock): it returns a release
// that does nothing.
func Claim(path string) (release func(), err error) { return func() {}, nil }
