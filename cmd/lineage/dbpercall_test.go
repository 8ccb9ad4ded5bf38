package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/store"
)

// TestDBPerCall checks that a long job's journal holds the database only
// while it reads or writes a batch: between batches another process's
// writer gets the lock at once.
func TestDBPerCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case.db")
	d := &dbPerCall{g: &globalOptions{db: path}}
	ctx := context.Background()
	for b := range 3 {
		if err := d.PutAnswers(ctx, "job", b, []byte{byte(b)}); err != nil {
			t.Fatal(err)
		}
		other, err := store.Open(path, store.Options{Timeout: -1})
		if err != nil {
			t.Fatalf("after batch %d another writer could not open the store: %v", b, err)
		}
		other.Close()
	}
	got, err := d.Answers(ctx, "job")
	if err != nil || len(got) != 3 || got[2].Data[0] != 2 {
		t.Fatalf("Answers = %v, %v; want 3 batches", got, err)
	}
	if err := d.DeleteAnswers(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Answers(ctx, "job"); len(got) != 0 {
		t.Errorf("after DeleteAnswers: %d batches left", len(got))
	}
}

// TestDBPerCallCreatesWithFirstBatch checks that the journal store
// creates a missing database only to store a batch in it: reading or
// deleting a job's answers leaves no file (a remote distillation that
// failed before its first answer left an empty database), a directory
// that could not hold the database is reported before any answer is
// asked, and a database another process creates meanwhile gets the batch
// with what it holds.
func TestDBPerCallCreatesWithFirstBatch(t *testing.T) {
	ctx := context.Background()
	put := func(db *store.Store) error { return db.PutAnswers(ctx, "job", 0, []byte{7}) }
	tests := []struct {
		name    string
		gone    bool // the database's directory does not exist
		call    func(d *dbPerCall) error
		want    string   // in the error; "" for none
		batches []string // jobs with a batch afterwards; nil: no database
	}{
		{"Answers", false, func(d *dbPerCall) error {
			got, err := d.Answers(ctx, "job")
			if err == nil && len(got) != 0 {
				return fmt.Errorf("%d batches", len(got))
			}
			return err
		}, "", nil},
		{"DeleteAnswers", false, func(d *dbPerCall) error { return d.DeleteAnswers(ctx, "job") }, "", nil},
		{"Answers where it cannot be created", true, func(d *dbPerCall) error {
			_, err := d.Answers(ctx, "job")
			return err
		}, "cannot be written: no such file or directory", nil},
		{"PutAnswers", false, func(d *dbPerCall) error { return d.PutAnswers(ctx, "job", 0, []byte{7}) }, "", []string{"job"}},
		{"created by another process meanwhile", false, func(d *dbPerCall) error {
			return d.with(ctx, func(path string) error {
				// The other process's database appears after the Lstat.
				if err := store.Create(ctx, path, func(db *store.Store) error { return db.PutAnswers(ctx, "other", 0, []byte{1}) }); err != nil {
					return err
				}
				return store.Create(ctx, path, put)
			}, put)
		}, "", []string{"job", "other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "case.db")
			if tt.gone {
				path = filepath.Join(dir, "gone", "case.db")
			}
			err := tt.call(&dbPerCall{g: &globalOptions{db: path}})
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("got error %v, want %q", err, tt.want)
			}
			if tt.batches == nil {
				if entries, _ := os.ReadDir(dir); len(entries) > 0 {
					t.Errorf("%d files left in the directory (%s first), want none", len(entries), entries[0].Name())
				}
				return
			}
			db, err := store.Open(path, store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, job := range tt.batches {
				if got, err := db.Answers(ctx, job); err != nil || len(got) != 1 {
					t.Errorf("job %q: %d batches (%v), want 1", job, len(got), err)
				}
			}
		})
	}
}

// TestLockWaitNotice checks that a remote job's journal, waiting for the
// lock another process holds on the database, says so on stderr once per
// wait after about a second (the wait is otherwise silent for up to
// commitTimeout), and says nothing when it does not wait. The lock is let
// go once the notice is out, not at a set time (a notice due after a
// second of waiting, against a lock let go at 1.5 s).
func TestLockWaitNotice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case.db")
	var stderr syncBuffer
	d := &dbPerCall{g: &globalOptions{db: path, stderr: &stderr}}
	ctx := context.Background()
	if err := d.PutAnswers(ctx, "job", 0, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if got := stderr.String(); got != "" {
		t.Fatalf("stderr %q without a wait, want nothing", got)
	}
	want := "lineage: waiting for the database lock on " + path + " (held by another lineage process)\n"
	for b := 1; b <= 2; b++ {
		holder, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// The lock goes half a second after the notice (or after 30 s
		// without one), so that a notice repeated as the wait goes on
		// shows.
		go func() {
			for deadline := time.Now().Add(30 * time.Second); strings.Count(stderr.String(), want) < b && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond)
			holder.Close()
		}()
		if err := d.PutAnswers(ctx, "job", b, []byte{byte(b)}); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		if got := stderr.String(); got != strings.Repeat(want, b) {
			t.Errorf("stderr after %d waits:\n%s\nwant the line %d times:\n%s", b, got, b, want)
		}
	}
}

// TestPutAnswersOutwaitsLock checks that a remote job's paid answers
// wait, wait after wait, for a lock another process holds longer than one
// wait (a reader streaming `db export -` into a pager), and that once the
// job is interrupted the store gives up after the current wait, the
// batches queued behind it trying only briefly. It follows the waits
// through dbPerCall.open, which acts between them (lets the lock go,
// interrupts the job) and records the bound each was given, so that
// nothing depends on how fast the machine is (the queued batches were
// timed against 2 waits, and took 604 ms against 600 under load).
func TestPutAnswersOutwaitsLock(t *testing.T) {
	const wait, stopWait = 200 * time.Millisecond, 20 * time.Millisecond
	// opens returns a dbPerCall.open that calls at before its n-th
	// open (from 1) and records each open's bound in timeouts.
	opens := func(timeouts *[]time.Duration, at func(n int)) func(context.Context, string, store.Options) (*store.Store, error) {
		return func(ctx context.Context, path string, o store.Options) (*store.Store, error) {
			*timeouts = append(*timeouts, o.Timeout) // dbPerCall.mu: one open at a time
			at(len(*timeouts))
			return store.OpenContext(ctx, path, o)
		}
	}
	t.Run("running", func(t *testing.T) {
		g, holder := lockedStore(t)
		defer holder.Close()
		var stderr syncBuffer
		g.stderr = &stderr
		var timeouts []time.Duration
		d := &dbPerCall{g: g, stop: make(chan struct{}), wait: wait, open: opens(&timeouts, func(n int) {
			if n == 4 { // 3 waits ran out
				holder.Close()
			}
		})}
		if err := d.PutAnswers(context.Background(), "job", 0, []byte{7}); err != nil {
			t.Fatalf("PutAnswers with the lock held for 3 waits: %v, want the batch stored", err)
		}
		if want := []time.Duration{wait, wait, wait, wait}; !slices.Equal(timeouts, want) {
			t.Errorf("opens waited up to %v, want %v", timeouts, want)
		}
		got, err := d.Answers(context.Background(), "job")
		if err != nil || len(got) != 1 || got[0].Data[0] != 7 {
			t.Fatalf("Answers = %v, %v; want the one batch", got, err)
		}
		if n := strings.Count(stderr.String(), "lineage: still waiting for the database lock"); n != 3 {
			t.Errorf("stderr %q: got %d notices of a further wait, want 3", stderr.String(), n)
		}
	})
	// Interrupted before the call: one wait, then ErrLocked. The lock
	// goes from the second open on, so that a store that waited on
	// would store the batch instead of hanging.
	t.Run("interrupted", func(t *testing.T) {
		g, holder := lockedStore(t)
		defer holder.Close()
		stop := make(chan struct{})
		close(stop)
		var timeouts []time.Duration
		d := &dbPerCall{g: g, stop: stop, wait: wait, open: opens(&timeouts, func(n int) {
			if n == 2 {
				holder.Close()
			}
		})}
		err := d.PutAnswers(context.Background(), "job", 0, []byte{7})
		if !errors.Is(err, store.ErrLocked) {
			t.Fatalf("PutAnswers after the interrupt: %v, want store.ErrLocked", err)
		}
		if want := []time.Duration{wait}; !slices.Equal(timeouts, want) {
			t.Errorf("opens waited up to %v, want one wait %v", timeouts, want)
		}
	})
	// Batches in flight queue for the store: after the interrupt the
	// wait under way runs out and the queued ones try briefly, so the
	// command stops within about one wait, not one per batch (two
	// batches in flight took two minutes). The interrupt comes while the
	// first batch waits; the others open after it.
	t.Run("interrupted with batches queued", func(t *testing.T) {
		g, holder := lockedStore(t)
		defer holder.Close()
		stop := make(chan struct{})
		var timeouts []time.Duration
		d := &dbPerCall{g: g, stop: stop, wait: wait, stopWait: stopWait, open: opens(&timeouts, func(n int) {
			switch n {
			case 1:
				close(stop)
			case 5: // one too many: let a store that waits on store them
				holder.Close()
			}
		})}
		errc := make(chan error, 4)
		for b := range 4 {
			go func() { errc <- d.PutAnswers(context.Background(), "job", b, []byte{7}) }()
		}
		for range 4 {
			if err := <-errc; !errors.Is(err, store.ErrLocked) {
				t.Errorf("PutAnswers: %v, want store.ErrLocked", err)
			}
		}
		if want := []time.Duration{wait, stopWait, stopWait, stopWait}; !slices.Equal(timeouts, want) {
			t.Errorf("4 batches in flight: opens waited up to %v, want %v (one wait, then brief tries)", timeouts, want)
		}
	})
}
