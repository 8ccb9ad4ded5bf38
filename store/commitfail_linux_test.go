package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCommitFailsFileSizeLimit checks a commit that cannot grow the file
// (`ulimit -f`, which Go turns into EFBIG; a full disk is alike): the
// error names the store and says the transaction was rolled back, where
// bbolt's alone said "file resize error: truncate …: file too large", and
// the store is as it was, the same write succeeding once the limit is
// lifted. Not parallel: the limit holds for the whole process.
func TestCommitFailsFileSizeLimit(t *testing.T) {
	path := tempPath(t)
	s := openTest(t, path, false)
	if err := s.Update(ctx, func(tx *Tx) error { return tx.PutAnswers("job", 0, []byte("small")) }); err != nil {
		t.Fatal(err)
	}
	restore := limitFileSize(t, 1<<20) // the store is far smaller; the put needs 4 MiB
	defer restore()
	big := make([]byte, 4<<20)
	err := s.Update(ctx, func(tx *Tx) error { return tx.PutAnswers("job", 1, big) })
	restore()
	want := `store "` + path + `": commit rolled back: `
	if !errors.Is(err, ErrCommit) || errors.Is(err, ErrUnsynced) || !strings.HasPrefix(err.Error(), want) || strings.Count(err.Error(), path) > 2 {
		t.Fatalf("put beyond the file size limit: error %v, want one starting %q", err, want)
	}
	a, err := s.Answers(ctx, "job")
	if err != nil || len(a) != 1 || string(a[0].Data) != "small" {
		t.Errorf("answers after the failed commit: %d batches (%v), want the first alone", len(a), err)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("Verify after the failed commit: %+v, %v", rep, err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.PutAnswers("job", 1, big) }); err != nil {
		t.Errorf("the same put with the limit lifted: %v", err)
	}
}

// limitFileSize sets the process's file size limit (`ulimit -f`) to n
// bytes, skipping the test where it cannot, and returns the function that
// restores it.
func limitFileSize(t *testing.T, n uint64) (restore func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skip(err)
	}
	lim := old
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skip(err)
	}
	return func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatalf("restore the file size limit: %v", err)
		}
	}
}

// TestCreateFailsFileSizeLimit checks a new store (Create, as `db import`
// into a new file makes one) whose commit cannot grow the file: the error
// names the file the caller gave, where bbolt's named the temporary the
// store is built in ("truncate .case.db.tmp…: file too large"), and
// nothing is left in the directory. Not parallel, as above.
func TestCreateFailsFileSizeLimit(t *testing.T) {
	path := tempPath(t)
	restore := limitFileSize(t, 1<<20)
	defer restore()
	err := Create(ctx, path, func(s *Store) error {
		return s.Update(ctx, func(tx *Tx) error { return tx.PutAnswers("job", 0, make([]byte, 4<<20)) })
	})
	restore()
	want := `store "` + path + `": commit rolled back: file resize error: truncate ` + path + `: file too large`
	if err == nil || err.Error() != want || !errors.Is(err, ErrCommit) {
		t.Errorf("new store beyond the file size limit: error %v, want %s", err, want)
	}
	if left, err := os.ReadDir(filepath.Dir(path)); err != nil || len(left) != 0 {
		t.Errorf("left in the directory: %v (%v), want nothing", left, err)
	}
}
