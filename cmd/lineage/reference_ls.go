package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// referenceLsOptions are the flags of `lineage reference ls`.
type referenceLsOptions struct {
	teacher string
	format  report.Format
}

// newReferenceLsCommand builds `lineage reference ls`.
func newReferenceLsCommand(g *globalOptions) *cobra.Command {
	o := &referenceLsOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "ls [--for TEACHER]",
		Short: "List the reference models in each teacher's null",
		Long: `reference ls lists, for every enrolled teacher (or TEACHER only), the reference models added
with 'reference add': the fingerprint ID, the recipe recorded, the model it was taken of, and
whether its answers are labels only (such a reference joins the null of label-only suspects
only). It opens the database read-only.`,
		Example: `  lineage --db case.db reference ls
  lineage --db case.db reference ls --for acme --format json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, args []string) error { return runReferenceLs(c.Context(), c, g, o) },
	}
	f := c.Flags()
	f.StringVar(&o.teacher, "for", "", "list this teacher's references only (default: every teacher's)")
	f.Var(&o.format, "format", formatUsage)
	return c
}

// referenceRow is one reference of one teacher.
type referenceRow struct {
	Teacher   string `json:"teacher"`
	Reference string `json:"reference"`
	Recipe    string `json:"recipe"`
	Model     string `json:"model"`
	LabelOnly bool   `json:"label_only"`
	// LabelMap is the label map the reference's labels were read with
	// (reference add --label-map), "" for by their names.
	LabelMap string `json:"label_map,omitempty"`
}

func runReferenceLs(ctx context.Context, c *cobra.Command, g *globalOptions, o *referenceLsOptions) error {
	if c.Flags().Changed("for") && o.teacher == "" {
		return usageError{fmt.Errorf("reference ls: --for is empty (leave it out to list every teacher's references)")}
	}
	rows := []referenceRow{}
	err := viewDB(ctx, g, func(tx *store.Tx) error {
		es, err := tx.EnrolmentsOf(o.teacher)
		if err != nil {
			return err
		}
		for _, e := range es {
			for _, ctl := range e.Controls {
				if ctl.Role != store.RoleReference {
					continue
				}
				row := referenceRow{Teacher: e.Name, Reference: ctl.FP, Recipe: ctl.Recipe}
				switch fp, err := tx.Fingerprint(ctl.FP); {
				case err == nil:
					row.Model, row.LabelOnly, row.LabelMap = fp.Model.Name, compare.LabelOnly(fp.P), fp.LabelMap()
				case errors.Is(err, store.ErrNotFound):
					// Removed with db rm --force: say so, and list the rest.
					row.Model = "(fingerprint missing: see lineage db verify)"
				default:
					return fmt.Errorf("teacher %s: reference %q: %w", e.Name, ctl.FP, err)
				}
				rows = append(rows, row)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if o.format == report.FormatJSON {
		return writeJSON(c.OutOrStdout(), rows)
	}
	t := report.Table{Title: "References in " + g.dbPath(),
		Columns: []report.Column{{Name: "teacher"}, {Name: "reference"}, {Name: "recipe"}, {Name: "model"}, {Name: "label only"}}}
	for _, r := range rows {
		lo := "no"
		if r.LabelOnly {
			lo = "yes"
		}
		t.AddRow(report.Text(r.Teacher), report.Text(r.Reference), report.Text(r.Recipe), report.Text(r.Model), report.Text(lo))
		if r.LabelMap != "" {
			t.Notes = append(t.Notes, fmt.Sprintf("%s (for %s): its labels were read by the label map stated when it was added (--label-map): %s", r.Reference, r.Teacher, r.LabelMap))
		}
	}
	if len(rows) == 0 {
		t.Notes = append(t.Notes, "no references: add one with 'lineage reference add NAME --model M --for TEACHER'")
	}
	return report.Render(c.OutOrStdout(), t, o.format)
}
