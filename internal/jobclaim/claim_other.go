//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package jobclaim

import (
	"context"
	"fmt"
)

// Acquire cannot claim anything here (there is no flock): it returns an
// error wrapping ErrUnsupported.
func Acquire(ctx context.Context, db, job, what string, wait func(holder string)) (release func(), waited bool, err error) {
	return nil, false, fmt.Errorf("claim job %q: %w", job, ErrUnsupported)
}
