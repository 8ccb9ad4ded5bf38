package tmpfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
)

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestWrite writes a file, fails a second write (the file keeps its
// first content, no temporary is left) and checks that a later write
// removes what a killed writer left.
func TestWrite(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no advisory locks here")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.lnm")
	put := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := Write(path, 0o640, put("first")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), os.FileMode(0o640); got != want {
		t.Errorf("mode %v, want %v", got, want)
	}
	boom := errors.New("boom")
	err = Write(path, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("a failing write returned %v, want %v", err, boom)
	}
	if b, _ := os.ReadFile(path); string(b) != "first" {
		t.Errorf("after a failed write the file holds %q, want %q", b, "first")
	}
	if got, want := dirNames(t, dir), []string{"model.lnm"}; !slices.Equal(got, want) {
		t.Errorf("after a failed write the directory holds %q, want %q", got, want)
	}
	// A killed writer's temporary (data, no lock) and a live one's.
	if err := os.WriteFile(filepath.Join(dir, ".model.lnm.tmp7"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := os.Create(filepath.Join(dir, ".model.lnm.tmp8"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := Lock(live); err != nil {
		t.Fatal(err)
	}
	live.WriteString("being written")
	if err := Write(path, 0o644, put("second")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second" {
		t.Errorf("the file holds %q, want %q", b, "second")
	}
	if got, want := dirNames(t, dir), []string{".model.lnm.tmp8", "model.lnm"}; !slices.Equal(got, want) {
		t.Errorf("after a write beside a killed and a live writer's temporaries the directory holds %q, want %q", got, want)
	}
}

// TestWriteTargetErrors checks that Write's errors name the path asked
// for, never the temporary: a missing directory, and a path that is a
// directory (refused before write runs).
func TestWriteTargetErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub.lnm"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       error
	}{
		{"missing directory", filepath.Join(dir, "nosuch", "a.lnm"), fs.ErrNotExist},
		{"a directory", filepath.Join(dir, "sub.lnm"), syscall.EISDIR},
	}
	for _, tt := range tests {
		ran := false
		err := Write(tt.path, 0o600, func(io.Writer) error { ran = true; return nil })
		var pe *os.PathError
		if !errors.As(err, &pe) || pe.Path != tt.path || !errors.Is(err, tt.want) || ran {
			t.Errorf("%s: Write = %v (write ran: %v), want a *PathError on %q wrapping %v", tt.name, err, ran, tt.path, tt.want)
		}
	}
}
