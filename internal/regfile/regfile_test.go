package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lineage-audit/lineage/internal/fifo"
)

// TestOpen checks that Open opens a regular file (and one through a
// link) and refuses a named pipe without blocking, and a directory.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data.csv")
	if err := os.WriteFile(file, []byte("1,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, link} {
		f, err := Open(p)
		if err != nil {
			t.Errorf("Open(%s): %v", p, err)
			continue
		}
		f.Close()
	}
	pipe := filepath.Join(dir, "pipe.csv")
	if err := fifo.Make(pipe, 0o600); err != nil {
		t.Skip("no named pipes:", err)
	}
	for _, tc := range []struct{ path, want string }{
		{pipe, `"` + pipe + `" is a named pipe, not a regular file`},
		{dir, `"` + dir + `" is a directory, not a regular file`},
	} {
		_, err := Open(tc.path)
		var re *Error
		if !errors.As(err, &re) || err.Error() != tc.want {
			t.Errorf("Open(%s) = %v, want %q", tc.path, err, tc.want)
		}
	}
}
