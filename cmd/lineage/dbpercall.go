package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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
type dbPerCall struct {
	g    *globalOptions
	stop <-chan struct{}
	// wait and stopWait bound each wait for the lock, before and after
	// stop closes (0: commitTimeout and store.DefaultTimeout).
	wait, stopWait time.Duration
	mu             sync.Mutex // one open at a time: flock locks are per open file
}

// newDBPerCall returns the journal store of a job whose context is ctx.
func newDBPerCall(ctx context.Context, g *globalOptions) *dbPerCall {
	return &dbPerCall{g: g, stop: ctx.Done()}
}

func (d *dbPerCall) with(ctx context.Context, fn func(db *store.Store) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	wait := cmp.Or(d.wait, commitTimeout)
	if d.stopped() {
		// Interrupted: the wait under way when Ctrl-C came runs out, and
		// the batches queued behind it try briefly, so that the command
		// stops within about one wait, not one per batch in flight.
		wait = min(wait, cmp.Or(d.stopWait, store.DefaultTimeout))
	}
	db, err := store.OpenContext(ctx, d.g.dbPath(), d.g.storeOptions(false, wait))
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

// Answers returns the job's stored batches.
func (d *dbPerCall) Answers(ctx context.Context, job string) (out []store.Answer, err error) {
	err = d.with(ctx, func(db *store.Store) error { out, err = db.Answers(ctx, job); return err })
	return out, err
}

// PutAnswers stores one batch of the job, waiting for another process's
// lock for as long as the job is not interrupted.
func (d *dbPerCall) PutAnswers(ctx context.Context, job string, batch int, data []byte) error {
	for {
		err := d.with(ctx, func(db *store.Store) error { return db.PutAnswers(ctx, job, batch, data) })
		if !errors.Is(err, store.ErrLocked) || d.stopped() {
			return err
		}
		if w := d.g.stderr; w != nil {
			fmt.Fprintf(w, "lineage: still waiting for the database lock on %s, holding answers already paid for (Ctrl-C gives them up at the end of this wait)\n", d.g.dbPath())
		}
	}
}

// DeleteAnswers removes the job's batches.
func (d *dbPerCall) DeleteAnswers(ctx context.Context, job string) error {
	return d.with(ctx, func(db *store.Store) error { return db.DeleteAnswers(ctx, job) })
}
