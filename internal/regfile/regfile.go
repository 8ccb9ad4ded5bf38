// Package regfile opens files that must be regular files: a named pipe
// given where a data file is expected would block the open until some
// writer appears (an interrupt cannot end that wait), and a device such as
// /dev/zero would be read forever.
package regfile

import (
	"fmt"
	"io/fs"
	"os"
)

// Kind names what a file of mode m is, for errors: "a named pipe", "a
// device", "a directory", "a socket", "a symbolic link" (Lstat's), "a
// regular file" or "a special file".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file"
}

// Error reports a path that is not a regular file.
type Error struct {
	Path string
	Mode fs.FileMode
}

// Error formats as `"data.csv" is a named pipe, not a regular file`.
func (e *Error) Error() string {
	return fmt.Sprintf("%q is %s, not a regular file", e.Path, Kind(e.Mode))
}

// Open opens path for reading when it is a regular file (following
// symbolic links), checked before the open, which would block on a named
// pipe, and again on the opened file, in case path was replaced in between.
// Other files give an *Error; a missing one, the os package's error.
func Open(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Path: path, Mode: st.Mode()}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = &Error{Path: path, Mode: st.Mode()}
		}
		return nil, err
	}
	return f, nil
}
