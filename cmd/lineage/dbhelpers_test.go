package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"encoding/json"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/internal/fifo"
	"github.com/lineage-audit/lineage/internal/jsonnum"
	"github.com/lineage-audit/lineage/store"
)

// TestAuditRecordRoundTrip checks that a stored audit result decodes to
// what was stored: numbers that were NaN (an unmeasured statistic, no
// effect size) come back NaN, not 0, so report does not show them as
// measured zeros.
func TestAuditRecordRoundTrip(t *testing.T) {
	nan := math.NaN()
	in := audit.Result{Suspect: "s", Alpha: 0.01, Results: []audit.TeacherResult{{
		Teacher: "acme", Verdict: audit.Inconclusive, PValue: 1, PCombined: 1, EffectSize: nan,
		Statistics: map[string]audit.StatEvidence{
			"agreement": {Value: 0.9, N: 300, Similarity: 2.2, NullMean: 1.5, NullSD: 0.25, NullN: 64, Z: 2.8, P: 0.01, PEmpirical: 0.02, Method: compare.MethodT},
			"mistakes":  {Value: nan, Similarity: nan, NullMean: nan, NullSD: nan, Z: nan, P: 1, PEmpirical: 1, Method: compare.MethodInsufficient},
		},
		PerKind: map[string]float64{"data": 0.5, "noise": nan}, Temperature: math.Inf(1), TPR: -1, FPR: nan,
	}}}
	b, err := jsonnum.MarshalIndent(in)
	if err != nil {
		t.Fatalf("MarshalIndent: %v", err)
	}
	var got audit.Result
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal: %v\n%s", err, b)
	}
	tr := got.Results[0]
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	checks := []struct {
		name      string
		got, want float64
	}{
		{"p_value", tr.PValue, 1},
		{"effect_size", tr.EffectSize, nan},
		{"fitted_temperature", tr.Temperature, nan}, // ±Inf is written as null too
		{"calibration_tpr", tr.TPR, -1},
		{"calibration_fpr", tr.FPR, -1}, // an unknown rate, NaN or −1, is −1 (written null)
		{"per_kind[data]", tr.PerKind["data"], 0.5},
		{"per_kind[noise]", tr.PerKind["noise"], nan},
		{"agreement.similarity", tr.Statistics["agreement"].Similarity, 2.2},
		{"agreement.z", tr.Statistics["agreement"].Z, 2.8},
		{"mistakes.similarity", tr.Statistics["mistakes"].Similarity, nan},
		{"mistakes.null_sd", tr.Statistics["mistakes"].NullSD, nan},
	}
	for _, c := range checks {
		if !same(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if tr.Teacher != "acme" || tr.Verdict != audit.Inconclusive || tr.Statistics["agreement"].NullN != 64 || tr.Statistics["mistakes"].Method != compare.MethodInsufficient {
		t.Errorf("other fields: got %+v", tr)
	}
	// Re-encoding what was decoded gives the same bytes.
	b2, err := jsonnum.MarshalIndent(got)
	if err != nil || string(b2) != string(b) {
		t.Errorf("re-encoded:\n%s\nwant\n%s (err %v)", b2, b, err)
	}
}

// TestLockWaitStopsOnInterrupt checks that the minute-long waits for
// another process's lock (the journal's, and an enrolment's final commit)
// end as soon as the command's context is cancelled (Ctrl-C).
func TestLockWaitStopsOnInterrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case.db")
	g := &globalOptions{db: path}
	holder, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	d := &dbPerCall{g: g}
	for name, call := range map[string]func(context.Context) error{
		"journal Answers":       func(ctx context.Context) error { _, err := d.Answers(ctx, "job"); return err },
		"journal DeleteAnswers": func(ctx context.Context) error { return d.DeleteAnswers(ctx, "job") },
		"createDB": func(ctx context.Context) error {
			return createDB(ctx, g, time.Hour, func(*store.Tx) error { return nil })
		},
		"commitDB": func(ctx context.Context) error {
			return commitDB(ctx, g, time.Hour, func(*store.Tx) error { return nil })
		},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- call(ctx) }()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: error %v, want context.Canceled", name, err)
			}
			// Seconds, for a loaded machine: the wait it must cut
			// short is a minute (commitTimeout).
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s: returned %v after start, want about 200ms", name, d)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still waiting for the lock 30 s after start (cancelled at 200ms)", name)
		}
		cancel()
	}
}

// TestReaderWaitStopsOnInterrupt checks that a write's wait for readers
// (store.Options.ReaderTimeout, 30 s) ends as soon as the command's
// context is cancelled: updateDB, db rm and db import opened the store
// without the context, so Ctrl-C during a long report was ignored, and
// the command failed 30 s later with "database is locked".
func TestReaderWaitStopsOnInterrupt(t *testing.T) {
	g := readStore(t)
	for _, c := range []struct {
		name string
		call func(context.Context) error
	}{
		{"updateDB", func(ctx context.Context) error { return updateDB(ctx, g, func(*store.Tx) error { return nil }) }},
		{"db rm's open", func(ctx context.Context) error {
			db, err := openExistingDB(ctx, g)
			if err == nil {
				db.Close()
			}
			return err
		}},
		{"db import's open", func(ctx context.Context) error {
			_, err := importInto(ctx, g, &store.Records{}, func(*store.Store) error { return nil }, true, 0)
			return err
		}},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		errc := make(chan error, 1)
		go func() { errc <- c.call(ctx) }()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s: error %v, want context.Canceled", c.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still waiting for the readers 10 s after start (cancelled at 200ms)", c.name)
		}
		cancel()
	}
}

// lockedStore creates a store in a temporary directory and opens it for
// writing, as another process holding its lock would; the caller closes
// the holder.
func lockedStore(t *testing.T) (*globalOptions, *store.Store) {
	t.Helper()
	g := &globalOptions{db: filepath.Join(t.TempDir(), "case.db")}
	if err := createDB(context.Background(), g, 0, func(*store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	holder, err := store.Open(g.db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g, holder
}

// readStore creates a store in a temporary directory and holds it open
// read-only until the test ends, as a long report would: a writer then
// waits up to store.Options.ReaderTimeout for the reader.
func readStore(t *testing.T) *globalOptions {
	t.Helper()
	g, holder := lockedStore(t)
	holder.Close()
	reader, err := store.Open(g.db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	return g
}

// TestCommitDBWaits checks that the commit after long work (probe, audit
// --save, reference add) outwaits a lock held for longer than
// store.DefaultTimeout, where an ordinary open gives up.
func TestCommitDBWaits(t *testing.T) {
	g, holder := lockedStore(t)
	hold := store.DefaultTimeout + time.Second
	time.AfterFunc(hold, func() { holder.Close() })
	ran := false
	if err := commitDB(context.Background(), g, time.Minute, func(*store.Tx) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("commitDB with the lock held for %v: err %v, ran %v; want nil, true", hold, err, ran)
	}
	missing := &globalOptions{db: filepath.Join(t.TempDir(), "missing.db")}
	if err := commitDB(context.Background(), missing, 0, func(*store.Tx) error { return nil }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("commitDB on a missing database: got %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(missing.db); err == nil {
		t.Error("commitDB created a missing database")
	}
}

// TestCreateDBCancelled checks that an enrolment interrupted just before
// its commit leaves no database file behind.
func TestCreateDBCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case.db")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := createDB(ctx, &globalOptions{db: path}, 0, func(*store.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("createDB = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a cancelled createDB created the database")
	}
}

// TestLockWait pins the wait for another process's lock before a commit:
// as long as the work it would lose, within [store.DefaultTimeout,
// commitTimeout].
func TestLockWait(t *testing.T) {
	tests := []struct{ work, want time.Duration }{
		{0, store.DefaultTimeout},
		{5 * time.Millisecond, store.DefaultTimeout},
		{10 * time.Second, 10 * time.Second},
		{time.Hour, commitTimeout},
	}
	for _, tt := range tests {
		if got := lockWait(tt.work); got != tt.want {
			t.Errorf("lockWait(%v) = %v, want %v", tt.work, got, tt.want)
		}
	}
}

// TestCommitDBShortWorkFailsFast checks that a commit after quick work (a
// local probe, an audit) gives up on a held lock after
// store.DefaultTimeout, with the "locked" error, instead of waiting a
// minute.
func TestCommitDBShortWorkFailsFast(t *testing.T) {
	g, holder := lockedStore(t)
	defer holder.Close()
	errc := make(chan error, 1)
	go func() {
		errc <- commitDB(context.Background(), g, time.Millisecond, func(*store.Tx) error { return nil })
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, store.ErrLocked) {
			t.Errorf("commitDB after 1ms of work with the lock held: %v, want store.ErrLocked", err)
		}
	case <-time.After(store.DefaultTimeout + 5*time.Second):
		t.Fatalf("commitDB after 1ms of work still waiting %v after start", store.DefaultTimeout+5*time.Second)
	}
}

// TestCommitDBOutwaitsReader checks that a commit after quick work (a
// local probe) waits for a command that only reads (a report of a
// thousand suspects reads for seconds) past store.DefaultTimeout, where a
// writer's lock makes it give up.
func TestCommitDBOutwaitsReader(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock here: a writer waits store.DefaultTimeout for readers too")
	}
	t.Parallel()
	g, holder := lockedStore(t)
	holder.Close()
	reader, err := store.Open(g.db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	hold := store.DefaultTimeout + time.Second
	time.AfterFunc(hold, func() { reader.Close() })
	ran := false
	if err := commitDB(context.Background(), g, time.Millisecond, func(*store.Tx) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("commitDB after 1ms of work with a reader holding the lock for %v: err %v, ran %v; want nil, true", hold, err, ran)
	}
}

// TestNotFingerprintOrModel checks that a suspect path that is no regular
// file is named for what it is.
func TestNotFingerprintOrModel(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("dir.lnm", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := fifo.Make("pipe.lnm", 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), "dangling.lnm"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ ref, want string }{
		{"dir.lnm", `"dir.lnm" is not a stored fingerprint, and as a model file it is a directory, not a regular file`},
		{"pipe.lnm", `"pipe.lnm" is not a stored fingerprint, and as a model file it is a named pipe, not a regular file`},
		{"dangling.lnm", `"dangling.lnm" is not a stored fingerprint, and as a model file it is a symbolic link to a missing file`},
		{"missing.lnm", `"missing.lnm" is neither a stored fingerprint nor a model file (see ` + "`lineage db ls fingerprint`)"},
	}
	for _, tt := range tests {
		if got := notFingerprintOrModel(tt.ref).Error(); got != tt.want {
			t.Errorf("notFingerprintOrModel(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// TestCreateDBAtomic: a store createDB makes appears only with what fn
// stored; when fn fails (or the process is killed while it runs) there is
// none, where an empty store was left. An existing store is updated.
func TestCreateDBAtomic(t *testing.T) {
	ctx := context.Background()
	g := &globalOptions{db: filepath.Join(t.TempDir(), "case.db")}
	errFn := errors.New("refused")
	if err := createDB(ctx, g, 0, func(*store.Tx) error { return errFn }); !errors.Is(err, errFn) {
		t.Fatalf("createDB with fn failing = %v, want fn's error", err)
	}
	if _, err := os.Stat(g.db); err == nil {
		t.Fatal("createDB left a store when fn failed")
	}
	put := func(id string) func(tx *store.Tx) error {
		return func(tx *store.Tx) error {
			return tx.PutAnswers(id, 0, []byte(id))
		}
	}
	for _, id := range []string{"first", "second"} { // created, then updated
		if err := createDB(ctx, g, 0, put(id)); err != nil {
			t.Fatalf("createDB storing %s: %v", id, err)
		}
	}
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		for _, id := range []string{"first", "second"} {
			n := 0
			for range tx.Answers(id) {
				n++
			}
			if n != 1 {
				return fmt.Errorf("job %s: %d batches stored, want 1", id, n)
			}
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// TestDanglingDBLink: a --db that is a symbolic link to no file is named
// with where it leads by the commands that only read the database, as by
// those that would create it; they said "no lineage database at
// "dang.db" … file does not exist" of a path the user sees listed.
func TestDanglingDBLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "dang.db")
	if err := os.Symlink("gone.db", link); err != nil {
		t.Fatal(err)
	}
	want := `no lineage database at "` + link + `", a symbolic link to "gone.db", which leads to no file (enrol a teacher first, or pass --db / set LINEAGE_DB): file does not exist`
	for _, args := range [][]string{
		{"report"},
		{"db", "ls"},
		{"db", "export", filepath.Join(dir, "out.json")},
		{"audit", "x", "--dry-run"},
		{"db", "rm", "audit", "x"},
	} {
		_, stderr, code := runCLI(t, append([]string{"--db", link}, args...)...)
		if code != exitError || stderr != "lineage: "+want+"\n" {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", args, code, stderr, exitError, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "gone.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("gone.db: Lstat = %v; want no file made", err)
	}
}
