package main

import (
	"context"
	"errors"
	"path/filepath"
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

// TestLockWaitNotice checks that a remote job's journal, waiting for the
// lock another process holds on the database, says so on stderr once per
// wait after about a second (the wait is otherwise silent for up to
// commitTimeout), and says nothing when it does not wait.
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
		time.AfterFunc(1500*time.Millisecond, func() { holder.Close() })
		if err := d.PutAnswers(ctx, "job", b, []byte{byte(b)}); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		if got := stderr.String(); got != strings.Repeat(want, b) {
			t.Errorf("stderr after %d waits of 1.5 s:\n%s\nwant the line %d times:\n%s", b, got, b, want)
		}
	}
}

// TestPutAnswersOutwaitsLock checks that a remote job's paid answers
// wait, wait after wait, for a lock another process holds longer than one
// wait (a reader streaming `db export -` into a pager), and that once the
// job is interrupted the store gives up after the current wait.
func TestPutAnswersOutwaitsLock(t *testing.T) {
	const wait = 300 * time.Millisecond
	t.Run("running", func(t *testing.T) {
		g, holder := lockedStore(t)
		var stderr syncBuffer
		g.stderr = &stderr
		d := &dbPerCall{g: g, stop: make(chan struct{}), wait: wait}
		time.AfterFunc(4*wait, func() { holder.Close() })
		if err := d.PutAnswers(context.Background(), "job", 0, []byte{7}); err != nil {
			t.Fatalf("PutAnswers with the lock held for 4 waits: %v, want the batch stored", err)
		}
		got, err := d.Answers(context.Background(), "job")
		if err != nil || len(got) != 1 || got[0].Data[0] != 7 {
			t.Fatalf("Answers = %v, %v; want the one batch", got, err)
		}
		if n := strings.Count(stderr.String(), "lineage: still waiting for the database lock"); n < 2 {
			t.Errorf("stderr %q: got %d notices of a further wait, want at least 2", stderr.String(), n)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		g, holder := lockedStore(t)
		defer holder.Close()
		stop := make(chan struct{})
		close(stop)
		d := &dbPerCall{g: g, stop: stop, wait: wait}
		start := time.Now()
		err := d.PutAnswers(context.Background(), "job", 0, []byte{7})
		if !errors.Is(err, store.ErrLocked) {
			t.Fatalf("PutAnswers after the interrupt: %v, want store.ErrLocked", err)
		}
		if took := time.Since(start); took > 10*wait {
			t.Errorf("PutAnswers after the interrupt returned after %v, want one wait (%v)", took, wait)
		}
	})
	// Batches in flight queue for the store: after the interrupt the
	// wait under way runs out and the queued ones try briefly, so the
	// command stops within about one wait, not one per batch (two
	// batches in flight took two minutes).
	t.Run("interrupted with batches queued", func(t *testing.T) {
		g, holder := lockedStore(t)
		defer holder.Close()
		stop := make(chan struct{})
		d := &dbPerCall{g: g, stop: stop, wait: wait, stopWait: 20 * time.Millisecond}
		time.AfterFunc(wait/3, func() { close(stop) })
		start := time.Now()
		errc := make(chan error, 4)
		for b := range 4 {
			go func() { errc <- d.PutAnswers(context.Background(), "job", b, []byte{7}) }()
		}
		for range 4 {
			if err := <-errc; !errors.Is(err, store.ErrLocked) {
				t.Errorf("PutAnswers: %v, want store.ErrLocked", err)
			}
		}
		if took := time.Since(start); took > 2*wait {
			t.Errorf("4 batches in flight returned %v after the start, want about one wait (%v)", took, wait)
		}
	})
}
