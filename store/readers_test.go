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
// Timeout when a writer holds it or when told not to wait.
func TestOpenOutwaitsReaders(t *testing.T) {
	tests := []struct {
		name          string
		holderRO      bool
		timeout       time.Duration
		readers       time.Duration // Options.ReaderTimeout
		release       time.Duration // when the holder lets go (0: never)
		wantErr       bool
		minWait, maxW time.Duration
	}{
		{"reader lets go after the timeout", true, 150 * time.Millisecond, 5 * time.Second, 700 * time.Millisecond, false, 600 * time.Millisecond, 3 * time.Second},
		{"reader holds on past ReaderTimeout", true, 150 * time.Millisecond, 600 * time.Millisecond, 0, true, 550 * time.Millisecond, 3 * time.Second},
		{"writer lets go after the timeout", false, 150 * time.Millisecond, 5 * time.Second, 700 * time.Millisecond, true, 100 * time.Millisecond, 550 * time.Millisecond},
		{"reader, told not to wait", true, -1, 5 * time.Second, 700 * time.Millisecond, true, 0, 550 * time.Millisecond},
		{"ReaderTimeout shorter than Timeout", true, 800 * time.Millisecond, 100 * time.Millisecond, 0, true, 750 * time.Millisecond, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tempPath(t)
			openTest(t, path, false).Close() // create it
			holder := openTest(t, path, tt.holderRO)
			if tt.release > 0 {
				time.AfterFunc(tt.release, func() { holder.Close() })
			}
			start := time.Now()
			s, err := OpenContext(context.Background(), path, Options{Timeout: tt.timeout, ReaderTimeout: tt.readers})
			took := time.Since(start)
			if err == nil {
				s.Close()
			}
			if got := err != nil; got != tt.wantErr || (err != nil && !errors.Is(err, ErrLocked)) {
				t.Errorf("writer's open: %v, want an error wrapping ErrLocked: %v", err, tt.wantErr)
			}
			if took < tt.minWait || took > tt.maxW {
				t.Errorf("writer's open took %v, want %v to %v", took, tt.minWait, tt.maxW)
			}
		})
	}
}
