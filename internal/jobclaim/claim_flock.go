//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package jobclaim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// Poll is how often a waiting Acquire tries the lock again.
var Poll = 200 * time.Millisecond

// flock is syscall.Flock (a variable so that tests can play a file
// system without locks).
var flock = syscall.Flock

// Acquire claims job in the database at db (see Name), waiting while
// another holder has it: wait, when not nil, is called once, with what the
// holder wrote in the claim file ("pid N since TIME: WHAT", or "" when it
// could not be read), before the first wait. what says what the claim is
// for (a command line), for other processes' wait. waited reports whether
// Acquire had to wait. A ctx done while waiting returns ctx.Err(). The
// claim lasts until release, which removes the claim file, or until the
// process exits. It returns an error wrapping ErrUnsupported when the
// claim file cannot be locked.
func Acquire(ctx context.Context, db, job, what string, wait func(holder string)) (release func(), waited bool, err error) {
	name := Name(db, job)
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, waited, fmt.Errorf("claim job %q: %w", job, err)
		}
		err = lockNB(f)
		if err == nil {
			// A claim file its holder removed between the open and the
			// lock is locked in vain: take the one there now.
			st, serr := f.Stat()
			if cur, cerr := os.Lstat(name); serr == nil && cerr == nil && os.SameFile(st, cur) {
				f.Truncate(0)
				fmt.Fprintf(f, "pid %d since %s: %s\n", os.Getpid(), time.Now().UTC().Format("15:04:05 UTC"), what)
				return func() {
					os.Remove(name) // while still locked
					f.Close()
				}, waited, nil
			}
			f.Close()
			continue
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			if errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EINVAL) {
				err = fmt.Errorf("%w: %w", ErrUnsupported, err)
			}
			return nil, waited, fmt.Errorf("claim job %q: lock %s: %w", job, name, err)
		}
		if !waited && wait != nil {
			wait(holder(name))
		}
		waited = true
		if t == nil {
			t = time.NewTimer(Poll)
		} else {
			t.Reset(Poll)
		}
		select {
		case <-ctx.Done():
			return nil, waited, ctx.Err()
		case <-t.C:
		}
	}
}

// lockNB tries an exclusive lock on f without waiting.
func lockNB(f *os.File) error {
	for {
		if err := flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != syscall.EINTR {
			return err
		}
	}
}

// holder returns what the holder of the claim file name wrote in it.
func holder(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}
