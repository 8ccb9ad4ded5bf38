//go:build !unix

package fifo

import (
	"errors"
	"fmt"
)

// Make reports that named pipes are not supported here: the error wraps
// errors.ErrUnsupported.
func Make(path string, perm uint32) error {
	return fmt.Errorf("make named pipe %q: %w", path, errors.ErrUnsupported)
}
