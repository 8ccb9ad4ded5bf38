package store

import (
	"bytes"
	"errors"
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
