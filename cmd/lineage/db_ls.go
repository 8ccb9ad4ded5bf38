package main

import (
	"cmp"
	"context"
	"slices"

	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// dbLsOptions are the flags of `lineage db ls`.
type dbLsOptions struct {
	format report.Format
}

// newDBLsCommand builds `lineage db ls`.
func newDBLsCommand(g *globalOptions) *cobra.Command {
	o := &dbLsOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "ls [TYPE]",
		Short: "List the records (suites, fingerprints, enrolments, audits, answers)",
		Long: `ls lists the records of TYPE (` + typeList + `),
or of every type, one a row: its type, ID, size and a summary. It opens the database read-only.`,
		Example: "  lineage --db case.db db ls fingerprint",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return badCommandLine(c, "want at most one TYPE, got %s", countArgs(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return runDBLs(c.Context(), c, g, o, args...) },
	}
	c.Flags().Var(&o.format, "format", formatUsage)
	return c
}

func runDBLs(ctx context.Context, c *cobra.Command, g *globalOptions, o *dbLsOptions, args ...string) error {
	typ := ""
	if len(args) == 1 {
		typ = args[0]
		if err := checkType(typ); err != nil {
			return err
		}
	}
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
	if o.format == report.FormatJSON {
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
	return report.Render(c.OutOrStdout(), t, o.format)
}
