package main

import (
	"context"
	"fmt"
	"io"

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
record against its content hash or checksum and the records it refers to, and lists each
problem, with exit status 1 when there is any. Notes that are not problems (a suite nothing
uses, answers journalled on a suite since removed) name the command that removes them. It
opens the database read-only.`,
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
	err = db.View(ctx, func(tx *store.Tx) error {
		orphans, held, unused = orphanJournals(tx), heldDistillJournals(tx), tx.UnusedSuites()
		return nil
	})
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil { // before output (see runDBLs)
		return err
	}
	if err := printVerify(c.OutOrStdout(), g.dbPath(), &r, orphans, held, unused, o.format); err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("%s: %w: %d found", g.dbPath(), errProblems, len(r.Problems))
	}
	return nil
}

// printVerify prints r, the report of verifying the store at path, and
// orphans, the journals no probe can resume (orphanJournals): not a
// problem of the store, but answers kept for nothing; held, the journals
// older lineage kept of a distillation with its --reveal whose answers the
// journal every --reveal shares holds too (heldDistillJournals); and
// unused, the suites nothing uses (store.Tx.UnusedSuites), which no name
// leads to.
func printVerify(w io.Writer, path string, r *store.Report, orphans, held, unused []string, f report.Format) error {
	if f == report.FormatJSON {
		return writeJSON(w, struct {
			OK bool `json:"ok"`
			*store.Report
			OrphanJournals    []string `json:"orphan_journals,omitempty"`
			RedundantJournals []string `json:"redundant_journals,omitempty"`
			UnusedSuites      []string `json:"unused_suites,omitempty"`
		}{r.OK(), r, orphans, held, unused})
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
