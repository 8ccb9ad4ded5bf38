package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/internal/jsonnum"
	"github.com/lineage-audit/lineage/internal/regfile"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/store"
)

// storeOptions are the options of a command's store opens: read-only or
// not, the wait for another process's lock (0: store.DefaultTimeout) and,
// when the wait lasts (store.LockWaitNotice), one line on g.stderr saying
// so: the command would otherwise seem stuck for up to the timeout.
func (g *globalOptions) storeOptions(readOnly bool, timeout time.Duration) store.Options {
	o := store.Options{ReadOnly: readOnly, Timeout: timeout}
	if w := g.stderr; w != nil {
		path := g.dbPath()
		o.OnLockWait = func() {
			fmt.Fprintf(w, "lineage: waiting for the database lock on %s (held by another lineage process)\n", path)
		}
	}
	return o
}

// openDB opens the store at g.dbPath(). A read-only open never modifies the
// file; a missing file opened read-only is reported with a hint instead of
// being created, and a symbolic link to a missing file with where it leads.
func openDB(g *globalOptions, readOnly bool) (*store.Store, error) {
	return openDBContext(context.Background(), g, readOnly)
}

// openDBContext is openDB, except that it stops waiting for another
// process's lock when ctx is done: a writer waits up to 30 s for readers
// (store.Options.ReaderTimeout), which Ctrl-C must end.
func openDBContext(ctx context.Context, g *globalOptions, readOnly bool) (*store.Store, error) {
	path := g.dbPath()
	db, err := store.OpenContext(ctx, path, g.storeOptions(readOnly, 0))
	if err != nil {
		if readOnly && errors.Is(err, fs.ErrNotExist) {
			link := ""
			if target, lerr := os.Readlink(path); lerr == nil {
				// Named as the commands that would create it name it:
				// "file does not exist" of a path the user sees listed.
				link = fmt.Sprintf(", a symbolic link to %q, which leads to no file", target)
			}
			return nil, fmt.Errorf("no lineage database at %q%s (enrol a teacher first, or pass --db / set LINEAGE_DB): %w", path, link, fs.ErrNotExist)
		}
		return nil, err
	}
	return db, nil
}

// viewDB runs fn in one read-only transaction of a store opened read-only
// just for it, so the file is locked as briefly as possible.
func viewDB(ctx context.Context, g *globalOptions, fn func(tx *store.Tx) error) error {
	db, err := openDB(g, true)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(ctx, fn)
}

// viewDBIfExists is viewDB, except that a missing database is no error
// (fn does not run): for checks before work that will create it.
func viewDBIfExists(ctx context.Context, g *globalOptions, fn func(tx *store.Tx) error) error {
	err := viewDB(ctx, g, fn)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// openExistingDB opens the database read-write, refusing to create it: a
// command that only changes records (rm, reference add) must not leave a
// new file behind when its --db is mistyped. It stops waiting for another
// process's lock when ctx is done.
func openExistingDB(ctx context.Context, g *globalOptions) (*store.Store, error) {
	return openExistingWait(ctx, g, 0)
}

// openExistingWait is openExistingDB waiting up to timeout (0:
// store.DefaultTimeout) for another process's lock, or until ctx is done.
func openExistingWait(ctx context.Context, g *globalOptions, timeout time.Duration) (*store.Store, error) {
	if _, err := os.Stat(g.dbPath()); errors.Is(err, fs.ErrNotExist) {
		return openDB(g, true) // the read-only open's error names the missing file
	}
	return store.OpenContext(ctx, g.dbPath(), g.storeOptions(false, timeout))
}

// updateDB runs fn in one read-write transaction of an existing store
// opened just for it (see openExistingDB).
func updateDB(ctx context.Context, g *globalOptions, fn func(tx *store.Tx) error) error {
	return updateWith(ctx, g, func(g *globalOptions) (*store.Store, error) { return openExistingDB(ctx, g) }, fn)
}

// commitDB is updateDB for the write that ends work on an existing store
// (a probe's fingerprint, an audit's record, a reference's): it waits for
// another process's lock up to lockWait(work), work being how long the
// result took to compute, so minutes of probing are not lost to a report
// that happens to be running, and a write after milliseconds of work
// fails within seconds as any other would.
func commitDB(ctx context.Context, g *globalOptions, work time.Duration, fn func(tx *store.Tx) error) error {
	return updateWith(ctx, g, func(g *globalOptions) (*store.Store, error) {
		return openExistingWait(ctx, g, lockWait(work))
	}, fn)
}

// createDB is commitDB on a store created when missing (an enrolment's).
// A missing store is created holding what fn stores, atomically
// (store.Create): opened, it was created empty first, and a kill or
// error during the commit left that empty store behind, where an
// interrupted enrolment must leave none.
func createDB(ctx context.Context, g *globalOptions, work time.Duration, fn func(tx *store.Tx) error) error {
	err := store.Create(ctx, g.dbPath(), func(db *store.Store) error { return db.Update(ctx, fn) })
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	return updateWith(ctx, g, func(g *globalOptions) (*store.Store, error) {
		return store.OpenContext(ctx, g.dbPath(), g.storeOptions(false, lockWait(work)))
	}, fn)
}

// commitTimeout bounds the wait for the lock before storing the result
// of long work.
const commitTimeout = time.Minute

// lockWait is how long a write that ends work of the given duration waits
// for another process's lock: as long as the work took, at least
// store.DefaultTimeout and at most commitTimeout. A command never waits
// longer than it would take to redo what it would lose.
func lockWait(work time.Duration) time.Duration {
	return min(max(work, store.DefaultTimeout), commitTimeout)
}

func updateWith(ctx context.Context, g *globalOptions, open func(*globalOptions) (*store.Store, error), fn func(tx *store.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err // before open, which would create createDB's file for nothing
	}
	db, err := open(g)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Update(ctx, fn); err != nil {
		return err
	}
	return db.Close()
}

// currentCases returns the error of audit.CheckCurrent for the first of
// cases that older lineage enrolled without what verdicts now need, saying
// also, when there are others, that --against can leave it out.
func currentCases(cases []*audit.Case) error {
	for _, cs := range cases {
		if err := audit.CheckCurrent(cs.Enrolment); err != nil {
			if len(cases) > 1 {
				return fmt.Errorf("%w; or leave it out with --against", err)
			}
			return err
		}
	}
	return nil
}

// loadCases loads the enrolments named (all of them, in name order, when
// names is empty), each once, in the order first named. An unknown name is
// an error listing the enrolled ones.
func loadCases(tx *store.Tx, names []string) ([]*audit.Case, error) {
	if len(names) == 0 {
		es, err := tx.Enrolments()
		if err != nil {
			return nil, err
		}
		if len(es) == 0 {
			return nil, errors.New("no teacher is enrolled in this database (run `lineage enroll` first)")
		}
		for _, e := range es {
			names = append(names, e.Name)
		}
	}
	var cases []*audit.Case
	seen := map[string]bool{}
	for _, n := range names {
		// A teacher named twice (--against acme,acme) is audited once:
		// a second copy would count as another test in Holm's correction.
		if seen[n] {
			continue
		}
		seen[n] = true
		c, err := audit.LoadCase(tx, n)
		if err != nil {
			return nil, notFoundHint(tx, n, err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// notFoundHint adds to err, an error looking up the enrolment or suite
// the user called name, what would help: the enrolled names when name
// itself was not found (a mistyped name), or, when a record it needs was
// not found under an enrolled name, that the store is incomplete and how
// to see why. Other errors are returned as they are.
func notFoundHint(tx *store.Tx, name string, err error) error {
	var nf *store.NotFoundError
	if !errors.As(err, &nf) {
		return err
	}
	es, lerr := tx.Enrolments()
	enrolled := lerr == nil && slices.ContainsFunc(es, func(e store.Enrolment) bool { return e.Name == name })
	if !enrolled && nf.Name == name {
		return fmt.Errorf("%w (enrolled: %s)", err, enrolledNames(tx))
	}
	if enrolled && nf.Kind == "suite" {
		// `db rm suite --force` leaves the enrolment without its suite;
		// nothing can be measured on it until it is enrolled again.
		return fmt.Errorf("%w (its suite is no longer stored: removed with `lineage db rm suite --force`, or lost; remove the enrolment with `%s` and enrol the teacher again%s)",
			err, shellword.Command("lineage db rm enrolment", name, "--purge"), othersHint(es, name))
	}
	if enrolled {
		return fmt.Errorf("%w (the store is incomplete: `lineage db verify` lists its problems)", err)
	}
	return err
}

// othersHint names, for an error about the enrolment name, the other
// enrolled teachers a command can still be pointed at ("" for none).
func othersHint(es []store.Enrolment, name string) string {
	var others []string
	for _, e := range es {
		if e.Name != name {
			others = append(others, e.Name)
		}
	}
	if len(others) == 0 {
		return ""
	}
	return "; the other teachers, " + store.JoinNames(others, ", ") + ", can still be named with --against or --suite"
}

// enrolledNames lists the enrolled teachers for error messages.
func enrolledNames(tx *store.Tx) string {
	es, err := tx.Enrolments()
	if err != nil || len(es) == 0 {
		return "none"
	}
	n := make([]string, len(es))
	for i, e := range es {
		n[i] = e.Name
	}
	return store.JoinNames(n, ", ")
}

// writeJSON writes v to w as indented JSON followed by a newline (NaN as
// null).
func writeJSON(w io.Writer, v any) error {
	b, err := jsonnum.MarshalIndent(v)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		// A full disk or a closed pipe: say what was being written, as
		// the tables' errors do (report.RenderAll).
		return fmt.Errorf("writing the output as json: %w", err)
	}
	return nil
}

// fileExists reports whether path names an existing regular file.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// notFingerprintOrModel is the error for ref, named as a suspect or a
// model to compare, when it is no stored fingerprint and no regular file:
// what is at the path when something is (a directory, a named pipe, a link
// to a missing file), else that it is neither.
func notFingerprintOrModel(ref string) error {
	if lst, err := os.Lstat(ref); err == nil {
		st, err := os.Stat(ref)
		switch {
		case err != nil && lst.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%q is not a stored fingerprint, and as a model file it is a symbolic link to a missing file", ref)
		case err == nil:
			return fmt.Errorf("%q is not a stored fingerprint, and as a model file it is %s, not a regular file", ref, regfile.Kind(st.Mode()))
		}
	}
	return fmt.Errorf("%q is neither a stored fingerprint nor a model file (see `lineage db ls fingerprint`)", ref)
}

// isPlainPath reports whether ref is a file path rather than a URL or an
// exec: reference.
func isPlainPath(ref string) bool {
	r, err := remote.ParseRef(ref)
	return err != nil || r.Kind == remote.RefFile
}

// notTheDB refuses path, a file a command is about to write (flag names
// it), when it is the database itself: writing it into place would replace
// the store (`db export case.db` with --db case.db did, exit 0); or when
// it holds another database (notADatabase).
func notTheDB(g *globalOptions, flag, path string) error {
	db := g.dbPath()
	same := filepath.Clean(path) == filepath.Clean(db)
	if a, err := os.Stat(path); err == nil {
		if b, err := os.Stat(db); err == nil {
			same = os.SameFile(a, b)
		}
	}
	if same {
		return usageError{fmt.Errorf("%s %q is the database itself", flag, path)}
	}
	return notADatabase(flag, path)
}

// notADatabase refuses path, a file a command is about to write (flag
// names it in the error), when it holds a database (store.IsDatabase):
// another lineage database, or any bbolt file, named by mistake would be
// written over with something else.
func notADatabase(flag, path string) error {
	if store.IsDatabase(path) {
		return usageError{fmt.Errorf("%s %q is a database file: it would be written over; choose another file", flag, path)}
	}
	return nil
}

// openForWrite opens a database file for writing (checkWritable); tests
// replace it to see a file that cannot be written (chattr +i) even as
// root, whom permissions do not stop.
var openForWrite = func(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }

// checkWritable checks, before long work that ends by writing the
// database, that it can be written: the file opened for writing when it
// exists (nothing is written), else a file created and removed beside
// where it will be. An enrolment found the database unwritable only after
// training every control. A symbolic link leading to no file is refused
// as the store's open refuses it (it makes no database through a link):
// an API distillation otherwise asked the teacher, and noted that its job
// could not be claimed where the link leads, before that open failed.
func checkWritable(g *globalOptions) error {
	path := g.dbPath()
	f, err := openForWrite(path)
	if errors.Is(err, fs.ErrNotExist) {
		if lerr := store.CheckLink(path); lerr != nil {
			return fmt.Errorf("database %q cannot be written: %w", path, lerr)
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if err2 := store.WriteOpenError(err); errors.Is(err2, store.ErrReadOnly) {
			return fmt.Errorf("database %q: %w", path, err2)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.CreateTemp(filepath.Dir(path), ".lineage-check-*")
		if err == nil {
			defer os.Remove(f.Name())
		}
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("database %q cannot be written: %w", path, err)
	}
	return f.Close()
}

// suiteGone adds to err, when it is (or wraps) a *store.SuiteGoneError,
// what to do, advice given the command that removes the fingerprint: a
// fingerprint whose suite db rm suite --force removed is not a damaged
// store (it was said to be, with "run db verify").
func suiteGone(err error, advice func(rm string) string) error {
	var gone *store.SuiteGoneError
	if !errors.As(err, &gone) {
		return err
	}
	return fmt.Errorf("%w; %s", err, advice(shellword.Command("lineage db rm fingerprint", gone.Fingerprint)))
}
