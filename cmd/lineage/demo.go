package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lineage-audit/lineage/internal/demo"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// demoOptions are the flags of `lineage demo`.
type demoOptions struct {
	seed     uint64
	controls int
	format   report.Format
	keep     bool
}

// newDemoCommand builds `lineage demo`: the whole story on the embedded digits.
func newDemoCommand(g *globalOptions) *cobra.Command {
	o := &demoOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "demo",
		Short: "Train a teacher, distil a student, enrol the teacher and audit four suspects (embedded digits)",
		Long: `demo plays lineage's whole story on the embedded digits dataset, in about a minute:
it trains a teacher, distils a student from it, enrols the teacher (training positive and
negative controls, choosing a probe suite and measuring error rates), then makes two
derived suspects (a soft-label student and a label-only extraction through synthetic
queries to the teacher's watermarked label API, as "lineage serve --reveal label" answers)
and two independent ones, audits all four and prints the verdicts.

With --keep the database is written to --db (default $LINEAGE_DB, then lineage.db) so
that 'lineage report' and 'lineage audit' can be tried on it afterwards; otherwise a
temporary database is used and removed, and --db is refused. A database that already holds
one of the demo's records (the enrolment acme, its fingerprints, or a suspect's fingerprint
or audit record: soft-label-student, label-only-extraction, independent-model,
rival-teacher-student) is refused before any work, unless those records are the ones an
earlier demo with the same --seed and --controls stored (the demo is deterministic), so an
interrupted demo --keep can be run again.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDemo(c.Context(), c, g, o) },
	}
	g.bindDB(c, "database file kept with --keep (default $LINEAGE_DB or lineage.db)")
	f := c.Flags()
	f.Uint64Var(&o.seed, "seed", 1, "random seed")
	f.IntVar(&o.controls, "controls", 0, "positive controls of the enrolment, 3 to 256, as enroll takes them (0: 16)")
	f.Var(&o.format, "format", formatUsage)
	f.BoolVar(&o.keep, "keep", false, "keep the database (at --db) instead of a temporary one")
	return c
}

func runDemo(ctx context.Context, c *cobra.Command, g *globalOptions, o *demoOptions) error {
	if g.db != "" && !o.keep {
		return usageError{fmt.Errorf("--db %s: the demo keeps its database only with --keep (without it, it uses a temporary one)", g.db)}
	}
	if err := (demo.Options{Controls: o.controls}).Check(); err != nil {
		return enrollOptionsError(err)
	}
	path := g.dbPath()
	if !o.keep {
		dir, err := os.MkdirTemp("", "lineage-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "demo.db")
	}
	opts := store.Options{}
	if o.keep {
		opts = g.storeOptions(false, 0) // the user's database, which another process may hold
		// Before any work: the demo's records must not replace the user's.
		if err := viewDBIfExists(ctx, g, func(tx *store.Tx) error {
			if what := demo.Clash(tx, demo.Options{Seed: o.seed, Controls: o.controls}); what != "" {
				return fmt.Errorf("demo --keep: %s already holds %s, which the demo would write over; choose another --db", path, what)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	// With the command's context: a writer waits up to 30 s for readers
	// (a report reading --db), which Ctrl-C must end.
	db, err := store.OpenContext(ctx, path, opts)
	if err != nil {
		return err
	}
	defer db.Close()
	errw := c.ErrOrStderr()
	res, err := demo.Run(ctx, demo.Options{Seed: o.seed, Controls: o.controls, DB: db, Progress: func(s string) {
		fmt.Fprintf(errw, "lineage demo: %s\n", s)
	}})
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil { // before output, which may block on a pipe
		return err
	}
	w := c.OutOrStdout()
	if o.format == report.FormatJSON {
		if err := writeJSON(w, res); err != nil {
			return err
		}
	} else if err := report.RenderAll(w, demoTables(res), o.format); err != nil {
		return err
	}
	if !res.Correct() {
		fmt.Fprintln(errw, "lineage demo: not every suspect got the verdict its truth calls for; see the audit table and the README's \"What lineage cannot tell\"")
	}
	return nil
}

func demoTables(r *demo.Result) []report.Table {
	kd := report.Table{
		Title:   "Distillation on digits (test split)",
		Columns: []report.Column{{Name: "model"}, {Name: "params"}, {Name: "test accuracy"}, {Name: "agreement with teacher", Align: report.AlignRight}},
	}
	for _, m := range append([]demo.Model{r.Teacher, r.Student}, suspectsModels(r)...) {
		agree := report.Text("")
		if m.Metrics.Agreement != nil {
			agree = report.Float(*m.Metrics.Agreement, 4)
		}
		kd.AddRow(report.Text(m.Name), report.Int(int64(m.Metrics.Params)), report.Float(m.Metrics.TestAccuracy, 4), agree)
	}

	e := r.Enrolled
	enr := report.Table{
		Title:   "Enrolment of the teacher as \"acme\"",
		Columns: []report.Column{{Name: "item"}, {Name: "value"}},
	}
	enr.AddRow(report.Text("suite hash (publish it)"), report.Text(e.Suite))
	enr.AddRow(report.Text("probes"), report.Text(composition(e)))
	ctl := fmt.Sprintf("%d positive, %d negative (half each for selection and calibration)", e.Positives, e.Negatives-e.UnderTrained)
	if e.UnderTrained > 0 {
		ctl += fmt.Sprintf(", %d under-trained negative", e.UnderTrained)
	}
	enr.AddRow(report.Text("controls"), report.Text(ctl))
	for _, rt := range e.Calibration.Rates {
		enr.AddRow(report.Text(fmt.Sprintf("calibration at α=%g", rt.Alpha)), report.Text(fmt.Sprintf("TPR %.2f, FPR %.2f (95%% upper bound %.2f)", rt.TPR, rt.FPR, rt.FPRUpper)))
	}
	enr.AddRow(report.Text("calibration AUC"), report.Float(e.Calibration.AUC, 3))

	aud := report.Table{
		Title: "Audits at α=0.01",
		Columns: []report.Column{{Name: "suspect"}, {Name: "truth"}, {Name: "verdict"}, {Name: "p-value"},
			{Name: "agreement"}, {Name: "nearest control"}},
	}
	correct := 0
	for _, s := range r.Suspects {
		truth := "independent"
		if s.Derived {
			truth = "derived"
		}
		near := ""
		if s.Audit.Nearest != nil {
			near = s.Audit.Nearest.Role + ": " + strings.Fields(s.Audit.Nearest.Recipe + " ?")[0]
		}
		verdict := string(s.Audit.Verdict)
		if s.Audit.Reason != "" {
			verdict += " (" + s.Audit.Reason + ")"
		}
		aud.AddRow(report.Text(s.Name), report.Text(truth), report.Text(verdict), report.Fmt(s.Audit.PValue, 'g', 3),
			report.Float(s.Audit.PerKind["agreement"], 3), report.Text(near))
		want := "NOT_DERIVED"
		if s.Derived {
			want = "DERIVED"
		}
		if string(s.Audit.Verdict) == want {
			correct++
		}
	}
	aud.Notes = append(aud.Notes, fmt.Sprintf("%d of %d verdicts correct; whole demo %.0f s", correct, len(r.Suspects), r.ElapsedS),
		"p-value: the chance that an independent model (like the negative controls) looks at least this similar to the teacher")
	return []report.Table{kd, enr, aud}
}

func suspectsModels(r *demo.Result) []demo.Model {
	out := make([]demo.Model, len(r.Suspects))
	for i, s := range r.Suspects {
		out[i] = s.Model
	}
	return out
}

func composition(e interface{ CompositionString() string }) string { return e.CompositionString() }
