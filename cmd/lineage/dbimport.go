package main

// This file holds `lineage db import`.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// dbImportOptions are the flags of `lineage db import`.
type dbImportOptions struct {
	merge bool
}

// newDBImportCommand builds `lineage db import`.
func newDBImportCommand(g *globalOptions) *cobra.Command {
	o := &dbImportOptions{}
	c := &cobra.Command{
		Use:   "import FILE|- [--merge]",
		Short: "Read an export into the database (a new or empty one, unless --merge)",
		Long: `import reads the JSON lines written by 'db export' into --db in one transaction: either
every record is added or none is. The target must be new or empty unless --merge, which
adds the records to an existing database (identical records are skipped, and so is a
fingerprint that differs from the stored one only in the time the model took to answer, as
two runs of the same enroll or probe do: the stored one is kept; a conflicting record fails
the whole import); a database that holds exactly the export's records already
(the same import run again after it completed) is left as it is, and the import succeeds.
Each enrolment's report is measured again from the suite and fingerprints it names (seconds per
enrolment), and an export whose report differs is refused, naming the first field that differs.
A new database is built under a temporary name as the input is read (so the input is not held
in memory) and put in place only when the whole input has been read and checked: a failed
import leaves no new file. Into an existing database, the whole input is read and checked
before the database is opened (the reports are measured again in the import's transaction),
and a failed import leaves it as it was.
A line longer than 256 MiB is refused as it is read (no record lineage writes is a sixth of
that), so a file that is not an export cannot take the machine's memory; nor can a small
top-k fingerprint record declaring a huge matrix (its hash is checked a row at a time, its
shape against its suite's).`,
		Example: "  lineage --db copy.db db import case.jsonl",
		Args:    exactArgs(1, "FILE"),
		RunE:    func(c *cobra.Command, args []string) error { return runDBImport(c.Context(), c, g, o, args[0]) },
	}
	c.Flags().BoolVar(&o.merge, "merge", false, "add to a database that already holds records")
	return c
}

func runDBImport(ctx context.Context, c *cobra.Command, g *globalOptions, o *dbImportOptions, name string) error {
	var r io.Reader = c.InOrStdin()
	if name == "" {
		return usageError{errors.New("import FILE: an empty file name (give a path, or - for standard input)")}
	}
	if name != "-" {
		if store.IsDatabase(name) {
			return usageError{fmt.Errorf("import FILE %q is a database file, not an export (write one with: lineage --db %s db export FILE)", name, name)}
		}
		f, err := os.Open(name) // not regfile.Open: <(…) is a named pipe
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return usageError{fmt.Errorf("import FILE %q is a directory", name)}
		}
		r = f
	}
	path := g.dbPath()
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return importNew(ctx, c, path, name, r)
	}
	cr := &countingReader{r: r}
	recs, err := store.ReadExport(ctx, cr)
	if err == nil {
		err = recs.CheckContent(audit.CheckEnrolment, audit.CheckResult)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	var notes []string
	add := func(db *store.Store) error {
		// Each enrolment's report is measured again from the records the
		// import leaves, in its transaction.
		err := db.ImportRecordsChecked(ctx, recs, func(tx *store.Tx) (err error) {
			notes, err = audit.RecheckEnrolments(ctx, tx, recs.Enrolments())
			return err
		})
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		return nil
	}
	// One that exists (or appeared meanwhile: a new database is made
	// whole or not at all) gets the records in one transaction.
	done := false
	err = store.Create(ctx, path, add)
	if errors.Is(err, fs.ErrExist) {
		// The records take up to about twice the export's bytes in the
		// file (small ones fill their pages partly); Grow costs address
		// space, not memory.
		done, err = importInto(ctx, g, recs, add, o.merge, 2*cr.n)
	}
	if err != nil {
		return err
	}
	if done {
		fmt.Fprintf(c.ErrOrStderr(), "%s already holds exactly the records of %s (imported before): nothing to do\n", path, name)
		return nil
	}
	printNotes(c.ErrOrStderr(), notes)
	fmt.Fprintf(c.ErrOrStderr(), "imported %s into %s\n", name, path)
	return nil
}

// printNotes writes each note on a line of its own.
func printNotes(w io.Writer, notes []string) {
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// importInto runs add, an import of recs in one transaction, on the
// existing database, which must hold no record unless merge; the database
// is opened expecting to grow by grow bytes (store.Options.Grow). A
// database that holds exactly recs already (the same import run again
// after it completed) is left as it is, and done is true.
func importInto(ctx context.Context, g *globalOptions, recs *store.Records, add func(*store.Store) error, merge bool, grow int64) (done bool, err error) {
	opts := g.storeOptions(false, 0)
	opts.Grow = grow
	db, err := store.OpenContext(ctx, g.dbPath(), opts)
	if err != nil {
		return false, err
	}
	defer db.Close()
	if !merge {
		es, err := db.List(ctx, "")
		if err != nil {
			return false, err
		}
		if len(es) > 0 {
			if same, err := db.Holds(ctx, recs); err != nil || same {
				return same, err
			}
			return false, fmt.Errorf("import into %s: the database holds %d records; pass --merge to add to them", g.dbPath(), len(es))
		}
	}
	if err := add(db); err != nil {
		if merge && errors.Is(err, store.ErrExists) {
			err = fmt.Errorf("%w; nothing was imported: --merge adds a record only where the database holds none of that name or an identical one (import into a new --db file instead, or remove the database's record first with lineage db rm)", err)
		}
		return false, err
	}
	return false, db.Close()
}

// importNew imports the export r (read from name) into a new database at
// path, made whole or not at all (store.Create): the records are written
// into it as they are read (store.ImportStream), so the export is not
// held in memory.
func importNew(ctx context.Context, c *cobra.Command, path, name string, r io.Reader) error {
	var notes []string
	err := store.Create(ctx, path, func(db *store.Store) error {
		err := db.ImportStream(ctx, r, func(recs *store.Records) error {
			return recs.CheckContent(audit.CheckEnrolment, audit.CheckResult)
		})
		if err != nil {
			return err
		}
		// Each enrolment's report is measured again from the records
		// imported, all the new file holds: a failure leaves no file.
		return db.View(ctx, func(tx *store.Tx) error {
			es, err := tx.Enrolments()
			if err != nil {
				return err
			}
			names := make([]string, len(es))
			for i, e := range es {
				names[i] = e.Name
			}
			notes, err = audit.RecheckEnrolments(ctx, tx, names)
			return err
		})
	})
	if errors.Is(err, fs.ErrExist) {
		// The export is read: it cannot be imported into that one now.
		return fmt.Errorf("import %s: %s was created by another process while the import ran; nothing was written to it: import again (with --merge to add to what it holds)", name, path)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	printNotes(c.ErrOrStderr(), notes)
	fmt.Fprintf(c.ErrOrStderr(), "imported %s into %s\n", name, path)
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

// Read reads from r, counting.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
