package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/internal/tmpfile"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// newDBCommand builds `lineage db` and its subcommands.
func newDBCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "db",
		Short: "Inspect and maintain the database: ls, show, rm, verify, export, import",
		Long: `db works on the lineage database (--db, $LINEAGE_DB, or lineage.db). ls, show, verify and
export open it read-only and never modify the file.`,
		Args: subcommandArgs,
		RunE: wantSubcommand,
	}
	g.bindDB(c, dbUsage)
	c.AddCommand(newDBLsCommand(g), newDBShowCommand(g), newDBRmCommand(g), newDBVerifyCommand(g),
		newDBExportCommand(g), newDBImportCommand(g))
	return c
}

// checkType validates a record type argument.
func checkType(typ string) error {
	if !slices.Contains(store.Types(), typ) {
		return usageError{fmt.Errorf("unknown record type %q (want one of %s)", typ, strings.Join(store.Types(), ", "))}
	}
	return nil
}

func newDBLsCommand(g *globalOptions) *cobra.Command {
	format := report.FormatTable
	c := &cobra.Command{
		Use:     "ls [TYPE]",
		Short:   "List the records (suites, fingerprints, enrolments, audits, answers)",
		Example: "  lineage --db case.db db ls fingerprint",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return badCommandLine(c, "want at most one TYPE, got %s", countArgs(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			typ := ""
			if len(args) == 1 {
				typ = args[0]
				if err := checkType(typ); err != nil {
					return err
				}
			}
			return runDBLs(c.Context(), c, g, typ, format)
		},
	}
	c.Flags().Var(&format, "format", "output format: table, json, markdown or csv")
	return c
}

func runDBLs(ctx context.Context, c *cobra.Command, g *globalOptions, typ string, f report.Format) error {
	db, err := openDB(g, true)
	if err != nil {
		return err
	}
	defer db.Close()
	es, err := db.List(ctx, typ)
	if err != nil {
		return err
	}
	// Output may go to a pipe that blocks (a pager): the lock is let go
	// first, so that writers are not kept waiting on the reader.
	if err := db.Close(); err != nil {
		return err
	}
	// Within a type, IDs in natural order: control-9 before control-10
	// and control-99 before control-100 (the store keeps byte order).
	rank := map[string]int{} // the types in the store's order
	for _, e := range es {
		if _, ok := rank[e.Type]; !ok {
			rank[e.Type] = len(rank)
		}
	}
	slices.SortStableFunc(es, func(a, b store.Entry) int {
		return cmp.Or(cmp.Compare(rank[a.Type], rank[b.Type]), naturalCompare(a.ID, b.ID))
	})
	if f == report.FormatJSON {
		if es == nil {
			es = []store.Entry{}
		}
		return writeJSON(c.OutOrStdout(), es)
	}
	t := report.Table{Title: "Records in " + g.dbPath(),
		Columns: []report.Column{{Name: "type"}, {Name: "id"}, {Name: "size", Unit: "bytes"}, {Name: "detail"}}}
	for _, e := range es {
		t.AddRow(report.Text(e.Type), report.Text(e.ID), report.Int(int64(e.Size)), report.Text(e.Detail))
	}
	return report.Render(c.OutOrStdout(), t, f)
}

func newDBShowCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show [TYPE] ID",
		Short: "Print one record as JSON (without the probe and probability matrices)",
		Example: `  lineage --db case.db db show acme
  lineage --db case.db db show fingerprint suspect-1`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return badCommandLine(c, "want [TYPE] ID, got %s", countArgs(args))
			}
			if len(args) == 2 {
				return checkType(args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			typ, id := "", args[0]
			if len(args) == 2 {
				typ, id = args[0], args[1]
			}
			db, err := openDB(g, true)
			if err != nil {
				return err
			}
			defer db.Close()
			b, err := db.Show(c.Context(), typ, id)
			if typ == "" && errors.Is(err, store.ErrNotFound) && checkType(id) == nil {
				// `db show fingerprint`: a type without the ID, not a
				// record named after a type.
				return usageError{fmt.Errorf("db show %s: want the ID of the %s after its type (see `lineage db ls %s`)", id, id, id)}
			}
			if err != nil {
				return err
			}
			var others []string // other records under the same ID
			if typ == "" {
				// Best effort: a damaged other record does not stop the show
				// (db verify reports it).
				if types, err := db.TypesOf(c.Context(), id); err == nil {
					others = types[min(1, len(types)):]
				}
			}
			if err := db.Close(); err != nil { // before output (see runDBLs)
				return err
			}
			if _, err = c.OutOrStdout().Write(append(b, '\n')); err != nil {
				return err
			}
			for _, ty := range others {
				fmt.Fprintf(c.ErrOrStderr(), "lineage: %q is also the ID of a%s %s record, shown by db show %s ID\n", id, article(ty), ty, ty)
			}
			return nil
		},
	}
}

// article is the indefinite article's ending before the word w: "n" for
// a vowel, "" otherwise.
func article(w string) string {
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "n"
	}
	return ""
}

func newDBRmCommand(g *globalOptions) *cobra.Command {
	var force, purge bool
	c := &cobra.Command{
		Use:   "rm TYPE ID [--force] | rm enrolment NAME --purge",
		Short: "Remove one record (refused when others refer to it, unless --force)",
		Long: `rm removes one record in one transaction. Removing a fingerprint an enrolment or an audit
refers to, or a suite an enrolment or a fingerprint refers to, is refused unless --force
(which leaves the referring records dangling; 'db verify' then reports them, and 'report' notes a
verdict whose fingerprint is gone). Removing an
enrolment keeps its suite, fingerprints and the audits that name it.
With --purge, 'rm enrolment NAME' also removes what the enrolment stored and nothing else
uses: its teacher's and controls' fingerprints (NAME/teacher, NAME/control-NN: those the
record lists, or every one under such an ID once the record is gone) that no other enrolment
or audit refers to (a fingerprint you stored under another NAME/ ID, such as a suspect probed
with --name NAME/x, stays, and so do references), its suite name, and its suite when no fingerprint is left on it. It works as well
after a plain 'rm enrolment NAME', so that NAME can be enrolled again.`,
		Example: "  lineage --db case.db db rm fingerprint suspect-1\n  lineage --db case.db db rm enrolment acme --purge",
		Args:    exactArgs(2, "TYPE ID"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkType(args[0]); err != nil {
				return err
			}
			if purge && args[0] != store.TypeEnrolment {
				return usageError{fmt.Errorf("--purge removes an enrolment with what it stored, not a %s", args[0])}
			}
			db, err := openExistingDB(g)
			if err != nil {
				return err
			}
			defer db.Close()
			if purge {
				p, err := db.PurgeEnrolment(c.Context(), args[1])
				if err != nil {
					return err
				}
				if err := db.Close(); err != nil {
					return err
				}
				return printPurged(c.OutOrStdout(), args[1], p)
			}
			if err := db.Remove(c.Context(), args[0], args[1], store.RemoveOptions{Force: force}); err != nil {
				if errors.Is(err, store.ErrInUse) {
					return fmt.Errorf("%w; pass --force to remove it anyway", err)
				}
				return err
			}
			if err := db.Close(); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "removed %s %s\n", args[0], args[1])
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "remove even when other records refer to it")
	c.Flags().BoolVar(&purge, "purge", false, "with rm enrolment: also remove the fingerprints, suite name and suite it stored that nothing else uses")
	return c
}

// printPurged says what db rm enrolment --purge removed and kept.
func printPurged(w io.Writer, name string, p store.Purged) error {
	var parts []string
	if p.Enrolment {
		parts = append(parts, "enrolment "+name)
	}
	if n := len(p.Fingerprints); n > 0 {
		parts = append(parts, fmt.Sprintf("%d fingerprint%s", n, plural(n)))
	}
	if p.SuiteName {
		parts = append(parts, "suite name "+name)
	}
	if p.Suite != "" {
		parts = append(parts, "suite "+p.Suite[:min(12, len(p.Suite))])
	}
	if len(parts) == 0 {
		parts = []string{"nothing"}
	}
	if _, err := fmt.Fprintf(w, "removed %s\n", strings.Join(parts, ", ")); err != nil {
		return err
	}
	for _, k := range p.Kept {
		if _, err := fmt.Fprintf(w, "kept fingerprint %s\n", k); err != nil {
			return err
		}
	}
	return nil
}

// errProblems is returned by db verify when the store is inconsistent.
var errProblems = errors.New("database has problems")

func newDBVerifyCommand(g *globalOptions) *cobra.Command {
	format := report.FormatTable
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check the database's structure and every record (exit status 1 on any problem)",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			db, err := openDB(g, true)
			if err != nil {
				return err
			}
			defer db.Close()
			// The audit package checks what it owns in the records.
			r, err := db.Verify(c.Context(), audit.CheckRecords)
			if err != nil {
				return err
			}
			if err := db.Close(); err != nil { // before output (see runDBLs)
				return err
			}
			if err := printVerify(c.OutOrStdout(), g.dbPath(), &r, format); err != nil {
				return err
			}
			if !r.OK() {
				return fmt.Errorf("%s: %w: %d found", g.dbPath(), errProblems, len(r.Problems))
			}
			return nil
		},
	}
	c.Flags().Var(&format, "format", "output format: table, json, markdown or csv")
	return c
}

func printVerify(w io.Writer, path string, r *store.Report, f report.Format) error {
	if f == report.FormatJSON {
		return writeJSON(w, struct {
			OK bool `json:"ok"`
			*store.Report
		}{r.OK(), r})
	}
	counts := report.Table{Title: "Verified " + path, Columns: []report.Column{{Name: "type"}, {Name: "records"}}}
	for _, t := range store.Types() {
		counts.AddRow(report.Text(t), report.Int(int64(r.Counts[t])))
	}
	if r.OK() {
		counts.Notes = []string{"OK: no problems found"}
		// RenderAll, so that CSV keeps the title and the note too.
		return report.RenderAll(w, []report.Table{counts}, f)
	}
	probs := report.Table{Title: "Problems", Columns: []report.Column{{Name: "type"}, {Name: "id"}, {Name: "problem"}}}
	for _, p := range r.Problems {
		probs.AddRow(report.Text(p.Type), report.Text(p.ID), report.Text(p.Problem))
	}
	return report.RenderAll(w, []report.Table{counts, probs}, f)
}

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
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 && args[0] == "" {
				return usageError{errors.New("export FILE: an empty file name (give a path, or - for standard output)")}
			}
			if len(args) == 1 && args[0] != "-" {
				if err := notTheDB(g, "export FILE", args[0]); err != nil {
					return err
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
				err2 = db.Export(c.Context(), c.OutOrStdout())
			} else {
				err2 = writeFileAtomic(args[0], func(w io.Writer) error { return db.Export(c.Context(), w) })
			}
			if err2 != nil {
				return err2
			}
			// The export is in place: a Ctrl-C now must not make the
			// exit status say it was not (130), so its check runs on.
			return exportProblems(context.WithoutCancel(c.Context()), db)
		},
	}
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
