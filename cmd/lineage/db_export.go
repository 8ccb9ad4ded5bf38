package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lineage-audit/lineage/internal/tmpfile"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// newDBExportCommand builds `lineage db export`.
func newDBExportCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "export [FILE|-]",
		Short: "Write the whole database as JSON lines (to FILE, or standard output)",
		Long: `export writes every record as one JSON line; 'db import' reads it back exactly. The output
depends only on the content, so export → import → export gives identical bytes. The last line
counts the records, so import refuses a truncated copy. A FILE is written under a temporary
name and renamed, so it is never left half-written, and is readable by its owner only: it
holds the enrolments' watermark keys.`,
		Example: "  lineage --db case.db db export case.jsonl",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return badCommandLine(c, "want at most one FILE, got %s", countArgs(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return runDBExport(c.Context(), c, g, args...) },
	}
}

func runDBExport(ctx context.Context, c *cobra.Command, g *globalOptions, args ...string) error {
	if len(args) == 1 && args[0] == "" {
		return usageError{errors.New("export FILE: an empty file name (give a path, or - for standard output)")}
	}
	if len(args) == 1 && args[0] != "-" {
		if err := notTheDB(g, "export FILE", args[0]); err != nil {
			return err
		}
		if isModelFile(args[0]) {
			return usageError{fmt.Errorf("export FILE %q is a model file: it would be written over; choose another file", args[0])}
		}
		// As report --plot: a FILE that cannot be written is a
		// usage error named before the store is read.
		if err := checkDest("export FILE", args[0]); err != nil {
			return err
		}
	}
	db, err := openDB(g, true)
	if err != nil {
		return err
	}
	defer db.Close()
	var err2 error
	if len(args) == 0 || args[0] == "-" {
		err2 = db.Export(ctx, c.OutOrStdout())
	} else {
		err2 = writeFileAtomic(args[0], func(w io.Writer) error { return db.Export(ctx, w) })
	}
	if err2 != nil {
		return err2
	}
	// The export is in place: a Ctrl-C now must not make the
	// exit status say it was not (130), so its check runs on.
	return exportProblems(context.WithoutCancel(ctx), db)
}

// exportProblems is the error for an export, already written, of a store
// whose records db verify finds fault with (a dangling reference left by
// rm --force, a damaged record): db import would refuse the export, which
// is better learnt now than when restoring it. Damage to bbolt's own
// structures alone is no error: the records exported are sound, and
// exporting is the way out of it.
func exportProblems(ctx context.Context, db *store.Store) error {
	r, err := db.Verify(ctx)
	if err != nil {
		return err
	}
	n, first := 0, ""
	for _, p := range r.Problems {
		if p.Type == "bbolt" {
			continue
		}
		if n == 0 {
			first = fmt.Sprintf("%s %q: %s", p.Type, p.ID, p.Problem)
		}
		n++
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("the export was written, but db import may refuse it: the store has %d record problem%s (%s; `lineage db verify` lists them all)", n, plural(n), first)
}

// writeFileAtomic writes path through a locked temporary file renamed
// into place (tmpfile.Write), readable by its owner only: an export holds
// the watermark keys.
func writeFileAtomic(path string, fn func(w io.Writer) error) error {
	return tmpfile.Write(path, 0o600, fn)
}
