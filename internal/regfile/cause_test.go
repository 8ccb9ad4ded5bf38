package regfile

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestCause: a path error about the path named is its cause, a name too
// long with the limits; others are kept whole.
func TestCause(t *testing.T) {
	long := strings.Repeat("n", 300)
	_, err := os.Stat(long)
	if got := Cause(err, long); !errors.Is(got, syscall.ENAMETOOLONG) {
		t.Errorf("Cause(%v) = %v, want it to wrap ENAMETOOLONG", err, got)
	}
	for _, tt := range []struct {
		err  error
		path string
		want string
	}{
		{err, long, "file name too long (a name in a path may have at most 255 bytes, a path 4,095)"},
		{&fs.PathError{Op: "stat", Path: "a/", Err: syscall.ENOTDIR}, "a/", "not a directory"},
		{&fs.PathError{Op: "stat", Path: "b", Err: syscall.ENOTDIR}, "a/", "stat b: not a directory"},
		{errors.New("other"), "a", "other"},
	} {
		if got := Cause(tt.err, tt.path); got.Error() != tt.want {
			t.Errorf("Cause(%v, %.10q) = %q, want %q", tt.err, tt.path, got, tt.want)
		}
	}
}
