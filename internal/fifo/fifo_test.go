package fifo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestMake checks that Make makes a named pipe with the permission bits
// asked for (none of which a usual umask clears), and reports what it
// cannot make: a path taken, a directory missing.
func TestMake(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pipe")
	if err := Make(path, 0o600); errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no named pipes here")
	} else if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode(), fs.ModeNamedPipe|0o600; got != want {
		t.Errorf("mode of the pipe made = %v, want %v", got, want)
	}
	for _, p := range []string{path, filepath.Join(dir, "missing", "pipe")} {
		if err := Make(p, 0o600); err == nil {
			t.Errorf("Make(%s): no error, want one", p)
		}
	}
}
