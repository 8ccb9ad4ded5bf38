package tmpfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/internal/fifo"
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

// TestWriteNotRegular checks that Write refuses a named pipe and a link to
// a missing file, leaving them as they were, and that target refuses a
// device without touching it: renaming over them replaced a device (as
// root, /dev/full) or a pipe with a regular file.
func TestWriteNotRegular(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "out.fifo")
	if err := fifo.Make(pipe, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink(filepath.Join(dir, "missing.json"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, what string }{{pipe, "a named pipe"}, {dangling, "a symbolic link to a missing file"}} {
		err := Write(tc.path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err })
		var ne *NotRegularError
		if !errors.As(err, &ne) || ne.What != tc.what {
			t.Errorf("Write(%s) = %v, want a NotRegularError saying %q", tc.path, err, tc.what)
		}
	}
	if fi, err := os.Lstat(pipe); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the named pipe is gone: %v, %v", fi, err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link is gone: %v, %v", fi, err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"dangling.json", "out.fifo"}) {
		t.Errorf("directory holds %v, want only the pipe and the link", got)
	}
	if runtime.GOOS == "linux" {
		var ne *NotRegularError
		if _, err := target("/dev/null"); !errors.As(err, &ne) || ne.What != "a device" {
			t.Errorf("target(/dev/null) = %v, want a NotRegularError for a device", err)
		}
	}
}

// TestWriteThroughLink checks that Write follows a symbolic link: the file
// it points to gets the content, and the link stays a link.
func TestWriteThroughLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	if err := os.WriteFile(real, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("real.json", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(real); err != nil || string(b) != "new" {
		t.Errorf("target holds %q (%v), want %q", b, err, "new")
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("link.json is no longer a link: %v, %v", fi, err)
	}
}

// TestWriteLinkToPipe checks the reason given for a link that resolves
// only through /proc, as /dev/stdout does into a pipe: it is a link to a
// named pipe, not to a missing file.
func TestWriteLinkToPipe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc/self/fd")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	link := filepath.Join(t.TempDir(), "out")
	if err := os.Symlink(fmt.Sprintf("/proc/self/fd/%d", w.Fd()), link); err != nil {
		t.Fatal(err)
	}
	err = Write(link, 0o644, func(w io.Writer) error { return nil })
	var ne *NotRegularError
	if !errors.As(err, &ne) || ne.What != "a symbolic link to a named pipe" {
		t.Errorf("Write through a link to a pipe: %v, want a NotRegularError for a link to a named pipe", err)
	}
}

// TestNamed checks that an error of writing, syncing or renaming the
// temporary is reported as one of its target: "write
// ./.m.lnm.ckpt.tmp3661767303: no space left on device" named a file the
// user never asked for.
func TestNamed(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "write", Path: "d/.m.lnm.tmp123", Err: syscall.ENOSPC}, "write d/m.lnm: no space left on device"},
		{&os.LinkError{Op: "rename", Old: "d/.m.lnm.tmp123", New: "d/m.lnm", Err: syscall.EXDEV}, "rename d/m.lnm: invalid cross-device link"},
		{errors.New("encode: bad"), "encode: bad"},
		{nil, ""},
	}
	for _, tt := range tests {
		got := named(tt.err, "d/m.lnm")
		if (got == nil) != (tt.want == "") || (got != nil && got.Error() != tt.want) {
			t.Errorf("named(%v) = %v, want %q", tt.err, got, tt.want)
		}
		if tt.err != nil && !errors.Is(got, errors.Unwrap(tt.err)) && errors.Unwrap(tt.err) != nil {
			t.Errorf("named(%v) = %v does not wrap %v", tt.err, got, errors.Unwrap(tt.err))
		}
	}
}

// TestWriteLongName: a target whose name is up to 255 bytes long is
// written, though ".NAME.tmp" and a suffix would not fit in a file name
// (report --plot named a teacher's figure so, and failed with "file name
// too long"); its temporaries have a shortened prefix that Match knows,
// so a stale one is removed.
func TestWriteLongName(t *testing.T) {
	dir := t.TempDir()
	for _, base := range []string{strings.Repeat("a", 241), strings.Repeat("b", 242), strings.Repeat("é", 127) + "x", strings.Repeat("c", 255)} {
		prefix := Prefix(base)
		if len(prefix)+maxSuffix > maxName || !utf8.ValidString(prefix) {
			t.Errorf("Prefix(%d bytes) = %q (%d bytes), want at most %d valid UTF-8", len(base), prefix, len(prefix), maxName-maxSuffix)
		}
		path := filepath.Join(dir, base)
		stale := filepath.Join(dir, prefix+"zzzzzzzzzzzzz")
		if err := os.WriteFile(stale, []byte("left by a killed writer"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Write(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
			t.Errorf("Write to a %d-byte name: %v", len(base), err)
			continue
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "x" {
			t.Errorf("%d-byte name: read %q, %v; want x", len(base), b, err)
		}
		if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%d-byte name: the stale temporary %q was not removed (%v)", len(base), filepath.Base(stale), err)
		}
	}
	if got, want := len(dirNames(t, dir)), 4; got != want {
		t.Errorf("%d files left in the directory, want %d: %q", got, want, dirNames(t, dir))
	}
	for _, tt := range []struct {
		n       int
		shorter bool
	}{{7, false}, {237, false}, {238, true}, {255, true}} {
		base := strings.Repeat("d", tt.n)
		if full := "." + base + ".tmp"; (Prefix(base) != full) != tt.shorter {
			t.Errorf("Prefix of a %d-byte name: %q, shortened %v, want %v", tt.n, Prefix(base), !tt.shorter, tt.shorter)
		}
		// Temporaries earlier versions named in full are still known.
		if old := "." + base + ".tmp1234567890"; len(old) <= maxName && !Match(base)(old) {
			t.Errorf("Match of a %d-byte name misses the full-form temporary", tt.n)
		}
	}
}

// TestCheckDirectory checks that Check finds a directory Write cannot
// create its temporary in before any work (a command trained its model,
// then failed to write it), and leaves nothing behind in one it can.
func TestCheckDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := Check(filepath.Join(dir, "m.lnm")); err != nil {
		t.Fatalf("Check in a writable directory: %v", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("Check left %d files behind", len(es))
	}
	if err := Check(filepath.Join(dir, "nosuch", "m.lnm")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Check in a missing directory: %v, want fs.ErrNotExist", err)
	}
	if os.Geteuid() == 0 {
		t.Skip("root writes in read-only directories")
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ro, "m.lnm")
	if err := Check(path); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "create "+path) {
		t.Errorf("Check in a read-only directory: %v, want a permission error creating %s", err, path)
	}
}
