package store

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestReadOnlyUnchanged checks that no read-only method writes the file.
func TestReadOnlyUnchanged(t *testing.T) {
	path := tempPath(t)
	w := openTest(t, path, false)
	populate(t, w)
	w.Close()
	before := fileSum(t, path)
	s := openTest(t, path, true)
	calls := map[string]func() error{
		"List":        func() error { _, err := s.List(ctx, ""); return err },
		"Show":        func() error { _, err := s.Show(ctx, "", "acme"); return err },
		"Verify":      func() error { _, err := s.Verify(ctx); return err },
		"Export":      func() error { return s.Export(ctx, &bytes.Buffer{}) },
		"Suite":       func() error { _, err := s.Suite(ctx, "acme-suite"); return err },
		"Fingerprint": func() error { _, err := s.Fingerprint(ctx, "teacher"); return err },
		"Enrolment":   func() error { _, err := s.Enrolment(ctx, "acme"); return err },
		"Enrolments":  func() error { _, err := s.Enrolments(ctx); return err },
		"Audit":       func() error { _, err := s.Audit(ctx, "case-1"); return err },
		"Answers":     func() error { _, err := s.Answers(ctx, "remote-1"); return err },
	}
	for name, call := range calls {
		if err := call(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if fileSum(t, path) != before {
			t.Errorf("%s modified a read-only store", name)
		}
	}
	if err := s.PutAnswers(ctx, "j", 0, nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write on read-only store = %v, want ErrReadOnly", err)
	}
	s.Close()
	if fileSum(t, path) != before {
		t.Error("Close modified a read-only store")
	}
}

// TestWriteOpenError: a store file that cannot be opened for writing (its
// mode, chattr +i, a read-only mount) is refused to a writer as read-only,
// saying why; the error was the bare "open case.db: permission denied" of
// a file that commands reading it open without fault.
func TestWriteOpenError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string // "" for err unchanged
	}{
		{&fs.PathError{Op: "open", Path: "case.db", Err: syscall.EACCES}, "store is read-only: it cannot be opened for writing (permission denied)"},
		{&fs.PathError{Op: "open", Path: "case.db", Err: syscall.EPERM}, "store is read-only: it cannot be opened for writing (operation not permitted)"},
		{&fs.PathError{Op: "open", Path: "case.db", Err: syscall.EROFS}, "store is read-only: it cannot be opened for writing (read-only file system)"},
		{&fs.PathError{Op: "open", Path: "case.db", Err: syscall.ENOSPC}, ""},
		{ErrLocked, ""},
	} {
		got := WriteOpenError(tt.err)
		if tt.want == "" {
			if got != tt.err {
				t.Errorf("WriteOpenError(%v) = %v, want it unchanged", tt.err, got)
			}
			continue
		}
		if !errors.Is(got, ErrReadOnly) || !strings.Contains(got.Error(), tt.want) {
			t.Errorf("WriteOpenError(%v) = %v, want ErrReadOnly saying %q", tt.err, got, tt.want)
		}
	}
}

// TestOpenUnwritableFile opens for writing a store whose file mode
// forbids it (not as root, whom permissions do not stop).
func TestOpenUnwritableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("permissions do not stop root")
	}
	path := tempPath(t)
	w := openTest(t, path, false)
	populate(t, w)
	w.Close()
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, path)
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "(permission denied)") {
		t.Errorf("Open of a file of mode 0444 for writing = %v, want ErrReadOnly naming the permission", err)
	}
	s := openTest(t, path, true) // reading it still works
	if _, err := s.Enrolments(ctx); err != nil {
		t.Errorf("read-only open: %v", err)
	}
	s.Close()
	if fileSum(t, path) != before {
		t.Error("the file changed")
	}
}
