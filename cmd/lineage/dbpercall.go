package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/lineage-audit/lineage/store"
)

// dbPerCall is a journal.Store that opens the database for each call and
// closes it straight after, so that other commands can read or write the
// database between the batches of a long remote job instead of finding
// it locked for the whole run. Each call waits up to wait (0:
// commitTimeout) for the lock (saying so on g.stderr after
// store.LockWaitNotice), or until its ctx is done. The answers PutAnswers
// stores are paid for, so journal.Model stores them with a ctx that
// Ctrl-C does not cancel, and PutAnswers keeps waiting, wait after wait,
// as long as stop is open: a reader that holds the lock for minutes (`db
// export - | less`) delays the job instead of costing it a batch. Once
// stop is closed (the command was interrupted) it gives up after the
// current wait (later calls then wait store.DefaultTimeout at most). A
// nil stop is never closed. The zero value is not usable.
//
// A missing database is not created until there is a batch to store: the
// first PutAnswers creates it holding that batch (store.Create: built
// under a temporary name and linked into place), so a job that fails
// before any answer is kept leaves no empty database where there was
// none, and nothing is ever removed, neither a database that was there
// before nor one another process creates meanwhile (the batch is then
// stored in that one).
type dbPerCall struct {
	g    *globalOptions
	stop <-chan struct{}
	// wait and stopWait bound each wait for the lock, before and after
	// stop closes (0: commitTimeout and store.DefaultTimeout).
	wait, stopWait time.Duration
	// open opens the database for a call (nil: store.OpenContext); a
	// test seam, to see each wait's bound and act between the waits.
	open func(ctx context.Context, path string, o store.Options) (*store.Store, error)
	mu   sync.Mutex // one open at a time: flock locks are per open file
}

// newDBPerCall returns the journal store of a job whose context is ctx.
func newDBPerCall(ctx context.Context, g *globalOptions) *dbPerCall {
	return &dbPerCall{g: g, stop: ctx.Done()}
}

// with runs fn on the database, opened for it alone. When there is no
// file at the database's path, it runs missing instead, unless missing
// returns an error wrapping fs.ErrExist (another process created the
// database meanwhile): fn then runs on that one.
func (d *dbPerCall) with(ctx context.Context, missing func(path string) error, fn func(db *store.Store) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	path := d.g.dbPath()
	// Lstat: a dangling symbolic link is the user's file, to be opened
	// (and reported) as before, not a missing database.
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := missing(path); !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	wait := cmp.Or(d.wait, commitTimeout)
	if d.stopped() {
		// Interrupted: the wait under way when Ctrl-C came runs out, and
		// the batches queued behind it try briefly, so that the command
		// stops within about one wait, not one per batch in flight.
		wait = min(wait, cmp.Or(d.stopWait, store.DefaultTimeout))
	}
	open := d.open
	if open == nil {
		open = store.OpenContext
	}
	db, err := open(ctx, path, d.g.storeOptions(false, wait))
	if err != nil {
		return err
	}
	if err := fn(db); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

// stopped reports whether the job was interrupted.
func (d *dbPerCall) stopped() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// Answers returns the job's stored batches: none when there is no
// database yet. A missing database is not created, only checked to be
// creatable (checkWritable), so that a job whose answers could not be
// kept fails before it asks for any.
func (d *dbPerCall) Answers(ctx context.Context, job string) (out []store.Answer, err error) {
	noDB := func(string) error { return checkWritable(d.g) }
	err = d.with(ctx, noDB, func(db *store.Store) error { out, err = db.Answers(ctx, job); return err })
	return out, err
}

// PutAnswers stores one batch of the job, waiting for another process's
// lock for as long as the job is not interrupted. When there is no
// database yet, it creates one holding the batch.
func (d *dbPerCall) PutAnswers(ctx context.Context, job string, batch int, data []byte) error {
	put := func(db *store.Store) error { return db.PutAnswers(ctx, job, batch, data) }
	create := func(path string) error { return store.Create(ctx, path, put) }
	for {
		err := d.with(ctx, create, put)
		if !errors.Is(err, store.ErrLocked) || d.stopped() {
			return err
		}
		if w := d.g.stderr; w != nil {
			fmt.Fprintf(w, "lineage: still waiting for the database lock on %s, holding answers already paid for (Ctrl-C gives them up at the end of this wait)\n", d.g.dbPath())
		}
	}
}

// DeleteAnswers removes the job's batches (none without a database,
// which it does not create).
func (d *dbPerCall) DeleteAnswers(ctx context.Context, job string) error {
	noDB := func(string) error { return nil }
	return d.with(ctx, noDB, func(db *store.Store) error { return db.DeleteAnswers(ctx, job) })
}
