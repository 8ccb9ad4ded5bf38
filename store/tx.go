package store

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Tx is one store transaction. Its methods may be called only inside the
// function passed to Store.Update or Store.View; values it returns are
// copies that stay valid afterwards.
type Tx struct {
	tx     *bolt.Tx
	shapes map[string][2]int // suite hash: probes and labels (checkSuiteShape)
}

// Update runs fn in one read-write transaction: either everything fn
// wrote is committed or, if fn returns an error or the process dies,
// nothing is. Cancelling ctx before the commit rolls back.
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("store %q: %w", s.path, ErrReadOnly)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.update(func(btx *bolt.Tx) error {
		if err := fn(&Tx{tx: btx}); err != nil {
			return err
		}
		return ctx.Err()
	})
}

// View runs fn in one read-only transaction seeing a consistent snapshot;
// nothing fn does is ever committed.
func (s *Store) View(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.view(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx}) })
}

// update and view run bbolt transactions, turning bbolt panics and memory
// faults on damaged files into ErrCorrupt errors.
//
// On a writer's store that lacks buckets (Store.missing), update adds them
// in the same transaction as fn's writes, so they are committed with those
// or not at all, and view runs fn in a read-write transaction that adds
// them and is rolled back, never committed: fn sees them empty, and the
// file stays as it is until a write succeeds. A file of an older schema
// version keeps it until a transaction stores a record only this one
// reads (see Tx.markSchema).
//
// A commit that fails once fn has succeeded (the disk full, the file size
// limit reached as the file grows) is an error naming the store and
// wrapping ErrCommit, which says the transaction was rolled back, or
// ErrUnsynced when only the last sync failed (see commitError): bbolt's
// own ("file resize error: truncate x.db: file too large") says neither
// what was being done nor what became of the store.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.guard(&err)
	missing := s.missing.Load()
	done := false // fn succeeded: an error from here on is the commit's
	txid := 0     // the transaction's ID, which its meta page records
	err = s.db.Update(func(tx *bolt.Tx) error {
		txid = tx.ID()
		if missing {
			if err := initBuckets(tx); err != nil {
				return err
			}
		}
		if err := fn(tx); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil && done {
		return commitError(s.path, s.asNamed(err), s.kept(txid))
	}
	if err == nil && missing {
		s.missing.Store(false)
	}
	return err
}

// commitError is the error of the store at path whose commit failed with
// err. bbolt commits by writing the transaction's pages, syncing them,
// then writing the meta page that makes them the store's and syncing
// again. A failure up to the meta page's write (the file could not grow,
// a page could not be written or synced) leaves the old meta page: the
// transaction is rolled back, ErrCommit. When only the last sync failed
// (written true: the meta page is in the file) the store holds the
// changes, not confirmed on disk, ErrUnsynced; bbolt's error is the
// same either way.
func commitError(path string, err error, written bool) error {
	if written {
		return fmt.Errorf("store %q: %w (the changes are in the store, but may not survive a crash): %w", path, ErrUnsynced, err)
	}
	return fmt.Errorf("store %q: %w: %w", path, ErrCommit, err)
}

// asNamed returns err with the name of bbolt's file replaced by the
// store's path where they differ: a store that Create is building is a
// temporary (".case.db.tmp…"), which bbolt's errors name ("file resize
// error: truncate .case.db.tmp3k…: file too large") and which is gone
// once the error is read.
func (s *Store) asNamed(err error) error {
	if file := s.db.Path(); file != s.path && strings.Contains(err.Error(), file) {
		return &renamedError{err: err, from: file, to: s.path}
	}
	return err
}

// renamedError is err with the file name from written to.
type renamedError struct {
	err      error
	from, to string
}

func (e *renamedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.from, e.to) }
func (e *renamedError) Unwrap() error { return e.err }

// kept reports whether transaction txid, whose commit failed, is in the
// store all the same: its meta page was written (only the last sync
// failed), and the file is the store's, not a temporary that Create
// removes when its fn fails.
func (s *Store) kept(txid int) bool {
	return s.db.Path() == s.path && s.lastTxID() >= txid
}

// lastTxID returns the ID of the store's last committed transaction, which
// its meta page records, or -1 should it not be read.
func (s *Store) lastTxID() int {
	id := -1
	if err := s.db.View(func(tx *bolt.Tx) error {
		id = tx.ID()
		return nil
	}); err != nil {
		return -1
	}
	return id
}

func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.guard(&err)
	if !s.missing.Load() {
		return s.db.View(fn)
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := initBuckets(tx); err != nil {
		return err
	}
	return fn(tx)
}

// guard must be deferred; it turns a panic into an ErrCorrupt error.
func (s *Store) guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("store %q: %w: %v", s.path, ErrCorrupt, r)
	}
}
