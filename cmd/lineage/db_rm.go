package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// dbRmOptions are the flags of `lineage db rm`.
type dbRmOptions struct {
	force bool
	purge bool
}

// newDBRmCommand builds `lineage db rm`.
func newDBRmCommand(g *globalOptions) *cobra.Command {
	o := &dbRmOptions{}
	c := &cobra.Command{
		Use:   "rm TYPE ID [--force] [--purge]",
		Short: "Remove one record (refused when others refer to it, unless --force)",
		Long: `rm removes the record of TYPE (` + typeList + `) with ID,
in one transaction. Removing a fingerprint an enrolment or an audit
refers to, or a suite an enrolment or a fingerprint refers to, is refused unless --force
(which leaves the referring records dangling; 'db verify' then reports them, and 'report' notes a
verdict whose fingerprint is gone). Removing an
enrolment keeps its suite, fingerprints and the audits that name it.
With --purge, 'rm enrolment NAME' also removes what the enrolment stored and nothing else
uses: its teacher's and controls' fingerprints (NAME/teacher, NAME/control-NN: those the
record lists, or every one under such an ID once the record is gone) that no other enrolment
or audit refers to (a fingerprint you stored under another NAME/ ID, such as a suspect probed
with --name NAME/x, stays, and so do references), its suite name, and its suite when no fingerprint is left on it. It works as well
after a plain 'rm enrolment NAME', so that NAME can be enrolled again. A suite removed (by
--purge or 'rm suite') takes along the answers journalled by interrupted probes on it, which
no probe could resume. A suite kept because other fingerprints use it is named, with the
'db rm suite HASH' that removes it once they are gone ('db verify' lists such unused suites).`,
		Example: "  lineage --db case.db db rm fingerprint suspect-1\n  lineage --db case.db db rm enrolment acme --purge",
		Args:    exactArgs(2, "TYPE ID"),
		RunE:    func(c *cobra.Command, args []string) error { return runDBRm(c.Context(), c, g, o, args[0], args[1]) },
	}
	f := c.Flags()
	f.BoolVar(&o.force, "force", false, "remove even when other records refer to it")
	f.BoolVar(&o.purge, "purge", false, "with rm enrolment: also remove the fingerprints, suite name and suite it stored that nothing else uses")
	return c
}

func runDBRm(ctx context.Context, c *cobra.Command, g *globalOptions, o *dbRmOptions, typ, id string) error {
	if err := checkType(typ); err != nil {
		return err
	}
	if o.purge && typ != store.TypeEnrolment {
		return usageError{fmt.Errorf("--purge removes an enrolment with what it stored, not a %s", typ)}
	}
	db, err := openExistingDB(ctx, g)
	if err != nil {
		return err
	}
	defer db.Close()
	// A suite removed takes the journals of the probes on it along (in
	// the same transaction): no rerun can resume them.
	var journals int
	if o.purge {
		var p store.Purged
		err := db.Update(ctx, func(tx *store.Tx) (err error) {
			if p, err = tx.PurgeEnrolment(id); errors.Is(err, store.ErrNotFound) {
				return unusedSuitesHint(tx, err)
			}
			if err != nil || p.Suite == "" {
				return err
			}
			journals, err = dropSuiteJournals(tx, p.Suite)
			return err
		})
		if err != nil {
			return err
		}
		if err := db.Close(); err != nil {
			return err
		}
		return removedButUnsaid(typ, id, printPurged(c.OutOrStdout(), id, p, journals))
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		hash := ""
		if typ == store.TypeSuite {
			hash, _ = tx.SuiteHash(id) // Remove says what is wrong with id
		}
		if err := tx.Remove(typ, id, store.RemoveOptions{Force: o.force}); err != nil || hash == "" {
			return err
		}
		var err error
		journals, err = dropSuiteJournals(tx, hash)
		return err
	})
	if err != nil {
		if errors.Is(err, store.ErrInUse) {
			return fmt.Errorf("%w; pass --force to remove it anyway", err)
		}
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.OutOrStdout(), "removed %s %s%s\n", typ, id, journalsRemoved(journals))
	return removedButUnsaid(typ, id, err)
}

// removedButUnsaid is the error of db rm's output that could not be
// written (stdout on a full disk, a closed pipe), err, or nil for none.
// The removal of the record of type typ and ID id is committed by then:
// the error names it and says so, for a script that would otherwise retry
// it or trust an empty output with exit status 0.
func removedButUnsaid(typ, id string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("removed %s %q, but writing what was removed failed: %w", typ, id, err)
}

// dropSuiteJournals removes the journals of the probes on the suite hash
// (see journalSuites) and returns how many it removed.
func dropSuiteJournals(tx *store.Tx, hash string) (int, error) {
	var drop []string
	for job := range tx.AnswerJobs() {
		if slices.Contains(journalSuites(job), hash) {
			drop = append(drop, job)
		}
	}
	for _, job := range drop {
		if err := tx.DeleteAnswers(job); err != nil {
			return 0, err
		}
	}
	return len(drop), nil
}

// journalsRemoved says, after what rm removed, that it removed n journals
// of interrupted probes with it ("" for none).
func journalsRemoved(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", and the answers of %d interrupted probe%s on its suite", n, plural(n))
}

// printPurged says what db rm enrolment --purge removed and kept.
func printPurged(w io.Writer, name string, p store.Purged, journals int) error {
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
	if _, err := fmt.Fprintf(w, "removed %s%s\n", strings.Join(parts, ", "), journalsRemoved(journals)); err != nil {
		return err
	}
	for _, k := range p.Kept {
		if _, err := fmt.Fprintf(w, "kept fingerprint %s\n", k); err != nil {
			return err
		}
	}
	if p.SuiteKept != "" {
		// No name leads to it any more: say how it goes once unused.
		if _, err := fmt.Fprintf(w, "kept suite %.12s (used by %s): once nothing uses it, `lineage db rm suite %s` removes it\n",
			p.SuiteKept, store.JoinUsers(p.SuiteUsers), p.SuiteKept); err != nil {
			return err
		}
	}
	return nil
}

// unusedSuitesHint adds to err, a purge that found nothing of the
// enrolment, the suites nothing uses (store.Tx.UnusedSuites): an earlier
// purge removed the enrolment and its suite name but kept its suite while
// fingerprints used it, and no name leads to it now.
func unusedSuitesHint(tx *store.Tx, err error) error {
	unused := tx.UnusedSuites()
	switch len(unused) {
	case 0:
		return err
	case 1:
		return fmt.Errorf("%w (nothing of it is left); suite %.12s is used by nothing (an earlier purge keeps a suite while fingerprints use it): `lineage db rm suite %s` removes it", err, unused[0], unused[0])
	}
	return fmt.Errorf("%w (nothing of it is left); %d suites are used by nothing (an earlier purge keeps a suite while fingerprints use it): `lineage db verify` lists them with the command that removes each", err, len(unused))
}

// journalSuites returns the suite hashes the name of a probe's journal
// shows: probeJob and olderProbeJob put the suite's hash between colons.
// A journal whose whole name was hashed (for a fingerprint ID of about a
// kilobyte) shows none, nor does a distillation's.
func journalSuites(job string) []string {
	rest, ok := strings.CutPrefix(job, "probe:")
	if !ok {
		return nil
	}
	var out []string
	for _, p := range strings.Split(rest, ":") {
		if len(p) == 64 && strings.Trim(p, "0123456789abcdef") == "" {
			out = append(out, p)
		}
	}
	return out
}

// orphanJournals lists the journals of probes on suites the store no
// longer holds (left by lineage before 7 December 2026, whose purge of a
// suite kept them): no probe can resume them.
func orphanJournals(tx *store.Tx) []string {
	var out []string
	for job := range tx.AnswerJobs() {
		suites := journalSuites(job)
		held := func(h string) bool { got, err := tx.SuiteHash(h); return err == nil && got == h }
		if len(suites) > 0 && !slices.ContainsFunc(suites, held) {
			out = append(out, job)
		}
	}
	return out
}
