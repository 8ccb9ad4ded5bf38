package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// dbVerifyOptions are the flags of `lineage db verify`.
type dbVerifyOptions struct {
	format report.Format
}

// newDBVerifyCommand builds `lineage db verify`.
func newDBVerifyCommand(g *globalOptions) *cobra.Command {
	o := &dbVerifyOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "verify",
		Short: "Check the database's structure and every record (exit status 1 on any problem)",
		Long: `verify checks the database's structure (its page tree, meta pages and freelist) and every
record against its content hash or checksum and the records it refers to, and every enrolment's
report against the report its suite and fingerprints give when measured again (seconds per
enrolment, with the database closed), and lists each problem, with exit status 1 when there is
any. Notes that are not problems (a suite nothing uses, answers journalled on a suite since
removed) name the command that removes them; a note names an enrolment whose report is not
measured again, and why. It opens the database read-only.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDBVerify(c.Context(), c, g, o) },
	}
	c.Flags().Var(&o.format, "format", formatUsage)
	return c
}

func runDBVerify(ctx context.Context, c *cobra.Command, g *globalOptions, o *dbVerifyOptions) error {
	db, err := openDB(g, true)
	if err != nil {
		return err
	}
	defer db.Close()
	// The audit package checks what it owns in the records.
	r, err := db.Verify(ctx, audit.CheckRecords)
	if err != nil {
		return err
	}
	var orphans, held, unused []string
	var cases []*audit.Case
	err = db.View(ctx, func(tx *store.Tx) error {
		orphans, held, unused = orphanJournals(tx), heldDistillJournals(tx), tx.UnusedSuites()
		cases = recheckCases(tx, &r)
		return nil
	})
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil { // before output (see runDBLs), and before the recomputation
		return err
	}
	// Each enrolment's report is measured again from its records (seconds
	// each), with the database closed so that no writer waits.
	probs, notes, err := audit.RecheckAll(ctx, cases)
	if err != nil {
		return err
	}
	r.Problems = append(r.Problems, probs...)
	if err := printVerify(c.OutOrStdout(), g.dbPath(), &r, verifyNotes{orphans, held, unused, notes}, o.format); err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("%s: %w: %d found", g.dbPath(), errProblems, len(r.Problems))
	}
	return nil
}

// verifyNotes are what db verify says beside the problems: orphans, the
// journals no probe can resume (orphanJournals): not a problem of the
// store, but answers kept for nothing; held, the journals older lineage
// kept of a distillation with its --reveal whose answers the journal every
// --reveal shares holds too (heldDistillJournals); unused, the suites
// nothing uses (store.Tx.UnusedSuites), which no name leads to; and
// recheck, what measuring the enrolment reports again noted (a report
// not measured again, or one that agrees only with the rule of lineage of
// 5 December 2026 10:35–10:59; audit.RecheckAll).
type verifyNotes struct {
	orphans, held, unused, recheck []string
}

// recheckCases loads the enrolments of tx whose reports db verify
// recomputes: those whose records (the enrolment, its suite and its
// fingerprints) hold no problem r lists already; one that does not load
// is a problem added to r.
func recheckCases(tx *store.Tx, r *store.Report) []*audit.Case {
	named := map[[2]string]bool{}
	for _, p := range r.Problems {
		named[[2]string{p.Type, p.ID}] = true
	}
	listed := func(e *store.Enrolment) bool {
		if named[[2]string{store.TypeEnrolment, e.Name}] || named[[2]string{store.TypeSuite, e.Suite}] || named[[2]string{store.TypeFingerprint, e.TeacherFP}] {
			return true
		}
		return slices.ContainsFunc(e.Controls, func(c store.Control) bool { return named[[2]string{store.TypeFingerprint, c.FP}] })
	}
	var names []string
	tx.EachContent(func(_, id string, e *store.Enrolment, _ json.RawMessage) {
		if e != nil && len(e.Report) > 0 && !listed(e) {
			names = append(names, id)
		}
	})
	var cases []*audit.Case
	for _, name := range names {
		c, err := audit.LoadCase(tx, name)
		if err != nil {
			r.Problems = append(r.Problems, store.Problem{Type: store.TypeEnrolment, ID: name, Problem: err.Error()})
			continue
		}
		cases = append(cases, c)
	}
	return cases
}

// printVerify prints r, the report of verifying the store at path, and
// the notes n.
func printVerify(w io.Writer, path string, r *store.Report, n verifyNotes, f report.Format) error {
	orphans, held, unused := n.orphans, n.held, n.unused
	if f == report.FormatJSON {
		return writeJSON(w, struct {
			OK bool `json:"ok"`
			*store.Report
			OrphanJournals    []string `json:"orphan_journals,omitempty"`
			RedundantJournals []string `json:"redundant_journals,omitempty"`
			UnusedSuites      []string `json:"unused_suites,omitempty"`
			RecomputeNotes    []string `json:"recompute_notes,omitempty"`
		}{r.OK(), r, orphans, held, unused, n.recheck})
	}
	counts := report.Table{Title: "Verified " + path, Columns: []report.Column{{Name: "type"}, {Name: "records"}}}
	for _, t := range store.Types() {
		counts.AddRow(report.Text(t), report.Int(int64(r.Counts[t])))
	}
	for _, j := range orphans {
		counts.Notes = append(counts.Notes, fmt.Sprintf("an interrupted probe's answers on suite %.12s, which the store no longer holds, are kept for nothing (no probe can resume them): `%s` removes them", journalSuites(j)[0], shellword.QuotedCommand("lineage db rm answers", j)))
	}
	for _, j := range held {
		counts.Notes = append(counts.Notes, fmt.Sprintf("the answers an earlier distillation kept under its --reveal are all held by the journal every --reveal shares now, and nothing resumes them: `%s` removes them", shellword.QuotedCommand("lineage db rm answers", j)))
	}
	for _, h := range unused {
		counts.Notes = append(counts.Notes, fmt.Sprintf("suite %.12s is used by no enrolment, fingerprint or suite name (a purge keeps a suite while fingerprints use it): `lineage db rm suite %s` removes it", h, h))
	}
	counts.Notes = append(counts.Notes, n.recheck...)
	if r.OK() {
		counts.Notes = append(counts.Notes, "OK: no problems found")
		// RenderAll, so that CSV keeps the title and the note too.
		return report.RenderAll(w, []report.Table{counts}, f)
	}
	probs := report.Table{Title: "Problems", Columns: []report.Column{{Name: "type"}, {Name: "id"}, {Name: "problem"}}}
	for _, p := range r.Problems {
		probs.AddRow(report.Text(p.Type), report.Text(p.ID), report.Text(p.Problem))
	}
	return report.RenderAll(w, []report.Table{counts, probs}, f)
}
