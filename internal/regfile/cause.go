package regfile

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Cause returns the cause of err when err is a *fs.PathError about path,
// for an error that names path already: a path of 4 KB was written out
// twice, `open store "P": stat P: file name too long`. A name too long is
// said with the limits. Any other error is returned as it is.
func Cause(err error, path string) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != path {
		return err
	}
	if errors.Is(pe.Err, syscall.ENAMETOOLONG) {
		return fmt.Errorf("%w (a name in a path may have at most 255 bytes, a path 4,095)", pe.Err)
	}
	return pe.Err
}
