//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestOpenOutwaitsReaders checks that a writer waits past its Timeout
// while readers alone hold the lock (up to ReaderTimeout), and only its
// Timeout when a writer holds it or when told not to wait. A holder that
// lets go does so at the writer's OnLockWait, once the writer has waited
// LockWaitNotice (a second, past its Timeout), not at a set time: timed
// against a release at 700 ms, a writer slowed by a loaded machine could
// be told to give up, or find the lock free, early or late. Waits are
// timed only from below (a deadline never ends early) and against a hang.
func TestOpenOutwaitsReaders(t *testing.T) {
	const hang = 20 * time.Second // no wait here is meant to come near it
	tests := []struct {
		name     string
		holderRO bool
		timeout  time.Duration
		readers  time.Duration // Options.ReaderTimeout
		letGo    bool          // the holder lets go at the writer's notice
		wantErr  bool
		notices  int           // OnLockWait calls; -1: not checked
		minWait  time.Duration // the least the open may take
	}{
		{"reader lets go after the timeout", true, 150 * time.Millisecond, 10 * time.Second, true, false, 1, LockWaitNotice},
		{"reader holds on past ReaderTimeout", true, 150 * time.Millisecond, 600 * time.Millisecond, false, true, -1, 600 * time.Millisecond},
		{"writer holds on past the timeout", false, 150 * time.Millisecond, 10 * time.Second, true, true, 0, 150 * time.Millisecond},
		{"reader, told not to wait", true, -1, 10 * time.Second, true, true, 0, 0},
		{"ReaderTimeout shorter than Timeout", true, 800 * time.Millisecond, 100 * time.Millisecond, false, true, -1, 800 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tempPath(t)
			openTest(t, path, false).Close() // create it
			holder := openTest(t, path, tt.holderRO)
			notices := 0
			onWait := func() { // called by the open, on this goroutine
				notices++
				if tt.letGo {
					holder.Close()
				}
			}
			start := time.Now()
			s, err := OpenContext(context.Background(), path, Options{Timeout: tt.timeout, ReaderTimeout: tt.readers, OnLockWait: onWait})
			took := time.Since(start)
			if err == nil {
				s.Close()
			}
			if got := err != nil; got != tt.wantErr || (err != nil && !errors.Is(err, ErrLocked)) {
				t.Errorf("writer's open: %v, want an error wrapping ErrLocked: %v", err, tt.wantErr)
			}
			if tt.notices >= 0 && notices != tt.notices {
				t.Errorf("writer's open called OnLockWait %d times, want %d (waited a second: %v)", notices, tt.notices, tt.notices > 0)
			}
			if took < tt.minWait || took > hang {
				t.Errorf("writer's open took %v, want %v to %v", took, tt.minWait, hang)
			}
		})
	}
}
