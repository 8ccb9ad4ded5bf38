package regfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
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

// TestKind checks the name of each kind of file, the ones errors show.
func TestKind(t *testing.T) {
	for _, tt := range []struct {
		mode fs.FileMode
		want string
	}{
		{0, "a regular file"},
		{0o644, "a regular file"},
		{fs.ModeNamedPipe | 0o600, "a named pipe"},
		{fs.ModeDevice | fs.ModeCharDevice | 0o666, "a device"},
		{fs.ModeDevice | 0o660, "a device"}, // a block device
		{fs.ModeDir | 0o755, "a directory"},
		{fs.ModeSocket | 0o755, "a socket"},
		{fs.ModeSymlink | 0o777, "a symbolic link"},
		{fs.ModeIrregular, "a special file"},
	} {
		if got := Kind(tt.mode); got != tt.want {
			t.Errorf("Kind(%v) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}

// TestOpenReads checks that the file Open returns is path's, open for
// reading.
func TestOpenReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte("1,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, err := io.ReadAll(f); string(b) != "1,a\n" || err != nil {
		t.Errorf("read %q, %v; want %q", b, err, "1,a\n")
	}
}

// TestOpenReplaced checks the second look, on the opened file: path is a
// link switched between a regular file and a directory while Open runs,
// and whatever Open returns must be a regular file or an *Error, and a
// file refused is closed. Only the second look sees a switch that falls
// between Open's Stat and its open, which happens at random, but in
// practice many times in 20,000 Opens (each mutant that skips it failed
// 19 or 20 runs of 20).
func TestOpenReplaced(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data.csv")
	if err := os.WriteFile(file, []byte("1,a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "link")
	if err := os.Symlink(file, path); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Rename is atomic: path always names one of the two.
			tmp := filepath.Join(dir, "next")
			os.Remove(tmp)
			os.Symlink([]string{dir, file}[i%2], tmp)
			os.Rename(tmp, path)
		}
	}()
	defer func() { close(stop); <-done }()
	// A file left open would be closed by the garbage collector's
	// cleanup: no collection while the files are counted.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before, fdErr := os.ReadDir("/proc/self/fd") // where there is one
	for range 20000 {
		f, err := Open(path)
		var re *Error
		switch {
		case err != nil && !errors.As(err, &re):
			t.Fatalf("Open of a link switched between a file and a directory: %v, want an *Error or the file", err)
		case err != nil:
		case f == nil:
			t.Fatal("Open returned neither a file nor an error")
		default:
			st, serr := f.Stat()
			f.Close()
			if serr != nil || !st.Mode().IsRegular() {
				t.Fatalf("Open returned %v (%v), want a regular file", st.Mode(), serr)
			}
		}
	}
	if after, err := os.ReadDir("/proc/self/fd"); fdErr == nil && err == nil && len(after) != len(before) {
		t.Errorf("files open after the Opens = %d, before %d; want the refused ones closed", len(after), len(before))
	}
}
