//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package store

// onlyReaders reports false here: without flock this package cannot tell
// readers from a writer, and a writer waits Options.Timeout whoever holds
// the lock.
func onlyReaders(path string) bool { return false }
