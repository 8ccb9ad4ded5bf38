package store

import (
	"errors"
	"syscall"
	"testing"
)

// TestCommitError checks what a failed commit says it left: rolled back
// when the meta page that makes the transaction the store's was not
// written, and in the store but unconfirmed when it was and only the last
// sync failed. Both said "commit rolled back", of a transaction every
// reader then saw. The meta page's transaction ID tells them apart
// (lastTxID), which the test reads from a commit that succeeded: a
// failing fsync cannot be made to order.
func TestCommitError(t *testing.T) {
	path := tempPath(t)
	s := openTest(t, path, false)
	if err := s.Update(ctx, func(tx *Tx) error { return tx.PutAnswers("job", 0, []byte("small")) }); err != nil {
		t.Fatal(err)
	}
	last := s.lastTxID()
	if last < 1 {
		t.Fatalf("lastTxID after a commit: %d, want at least 1", last)
	}
	for _, tt := range []struct {
		txid      int // the failed transaction's
		want      string
		is, isNot error
	}{
		// Its meta page was written: the store holds it.
		{last, `store "` + path + `": commit written but not confirmed by the disk (the changes are in the store, but may not survive a crash): input/output error`, ErrUnsynced, ErrCommit},
		// The store's meta page is the one before it.
		{last + 1, `store "` + path + `": commit rolled back: input/output error`, ErrCommit, ErrUnsynced},
	} {
		err := commitError(s.path, syscall.EIO, s.kept(tt.txid))
		if err.Error() != tt.want || !errors.Is(err, tt.is) || errors.Is(err, tt.isNot) || !errors.Is(err, syscall.EIO) {
			t.Errorf("commit of transaction %d failing (last committed %d): error %q, want %q wrapping %v and EIO, not %v",
				tt.txid, last, err, tt.want, tt.is, tt.isNot)
		}
	}
}

// TestCommitErrorCreate checks that a store Create is building never says
// a failed commit's changes are in the store: its temporary is removed
// when fn fails, whatever bbolt wrote into it.
func TestCommitErrorCreate(t *testing.T) {
	path := tempPath(t)
	err := Create(ctx, path, func(s *Store) error {
		if err := s.Update(ctx, func(tx *Tx) error { return tx.PutAnswers("job", 0, []byte("small")) }); err != nil {
			return err
		}
		if last := s.lastTxID(); s.kept(last) {
			t.Errorf("a commit into Create's temporary (transaction %d, its last): kept, want not (the temporary is removed)", last)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
