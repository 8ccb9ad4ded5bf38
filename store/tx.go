package store

import (
	"context"
	"fmt"
	"runtime/debug"

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
// wrapping ErrCommit, which says the transaction was rolled back: bbolt's own ("file resize error:
// truncate x.db: file too large") says neither what was being done nor
// that the store is as it was.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer s.guard(&err)
	missing := s.missing.Load()
	done := false // fn succeeded: an error from here on is the commit's
	err = s.db.Update(func(tx *bolt.Tx) error {
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
		return fmt.Errorf("store %q: %w: %w", s.path, ErrCommit, err)
	}
	if err == nil && missing {
		s.missing.Store(false)
	}
	return err
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
