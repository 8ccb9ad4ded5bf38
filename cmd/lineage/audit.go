package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// maxAlpha is the largest --alpha audit accepts: a review found --alpha
// 0.5 accepted, which calls every other independent model DERIVED, and
// the suite's power, which clearing relies on, is measured at the nominal
// level.
const maxAlpha = 0.2

// auditOptions are the flags of `lineage audit`.
type auditOptions struct {
	against       []string
	alpha         float64
	clear         float64
	failOnDerived bool
	save          bool
	dryRun        bool
	name          string
	format        report.Format
	remote        remoteOptions
}

// newAuditCommand builds `lineage audit`.
func newAuditCommand(g *globalOptions) *cobra.Command {
	o := &auditOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "audit FINGERPRINT|MODEL [--against TEACHER ...]",
		Short: "Audit a suspect against enrolled teachers: verdict, calibrated p-value and evidence",
		Long: `audit decides, for each enrolled teacher, whether a suspect was derived from it.

The argument is either the ID of a stored fingerprint (see 'lineage probe') or a model
reference (a file, an OIP URL or exec:COMMAND), which is then fingerprinted on every
teacher's suite. A stored fingerprint is audited against every teacher whose suite it was
taken on; other teachers get INCONCLUSIVE ("not fingerprinted on this suite"), and if no
teacher audited uses its suite that is an error. --against restricts the audit to the
teachers named.

For each teacher it measures the suspect's similarity to the teacher (top-1 agreement per
probe kind, log-probability correlation on data, agreement on the teacher's mistakes, and
the order of the runner-up classes), each relative to the suspect's similarity to the
teacher's replicas (models built with the teacher's own recipe and another seed; this needs
two in the selection half, which an enrolment with --controls 3 lacks), weighs
them into one lineage score with the discriminant fitted at enrolment, and compares
the score with the scores of the teacher's independent calibration controls and references
(the null); the replica residual (how the suspect's log-probabilities follow the teacher's
once the replicas' mean is taken out) is compared with the null on its own as well, and the
two p-values are combined by a weighted Bonferroni rule (with the label watermark's, when the
teacher has one): one p-value per teacher, corrected with Holm's method across the teachers
the suspect was fingerprinted for (one INCONCLUSIVE for another reason counts with p = 1,
which can only make the others' larger), and a verdict: DERIVED when p ≤ α; INCONCLUSIVE
when α < p ≤ --clear-above (0.05 by default: weak evidence of derivation and none of
independence), when the audit cannot decide (too few references, degenerate outputs, a
suite too small), or when a p above both would not clear the suspect (the suite detected
few of its derived controls, or the suspect is closest to one it missed), with the reason;
NOT_DERIVED otherwise. The separate statistics (also soft agreement and Jensen–Shannon
divergence after fitting the suspect's temperature) are shown with their own p-values for
explanation.

Auditing a stored fingerprint records the result in the database (audit record named after
the fingerprint, replaced by later audits; an audit restricted by --against that would drop
another teacher's result from it is recorded beside it, as 'NAME against TEACHER', and the
report shows the latest result per suspect and teacher) so that 'lineage report' can show it; --dry-run
leaves the database untouched (opened read-only). A model audit stores nothing unless
--save is given, which stores its fingerprints (ID --name, or NAME@TEACHER with several
teachers) and the audit record. A fingerprint stored from the same model on the suite under
that ID is used as it is; one of another model, or an audit record of another model under
NAME, is an error before the model is asked anything. With --save a remote model's answers are committed as they arrive,
as 'lineage probe' does, so an interrupted audit resumes without asking them again.

Exit status: 0 when the audit ran (whatever the verdicts), 1 on an error, 2 on a usage
error, 3 with --fail-on-derived when some teacher's verdict is DERIVED, 130 when
interrupted (Ctrl-C).`,
		Example: `  lineage --db case.db audit suspect-1 --format json
  lineage --db case.db audit vendor.lnm --against acme --fail-on-derived`,
		Args: exactArgs(1, "FINGERPRINT or MODEL"),
		RunE: func(c *cobra.Command, args []string) error {
			defer g.releaseClaims() // once what it took is stored
			return labelMapHint(runAudit(c.Context(), c, g, o, args[0]), o.remote.labelMap)
		},
	}
	g.bindDB(c, dbUsage)
	f := c.Flags()
	f.StringArrayVar(&o.against, "against", nil, "audit only against these enrolled teachers (repeatable, or comma-separated; quote a name holding a comma as in CSV)")
	f.Float64Var(&o.alpha, "alpha", audit.DefaultAlpha, "family-wise significance level of a DERIVED verdict (at most 0.2)")
	f.Float64Var(&o.clear, "clear-above", audit.DefaultClear, "p-value a suspect must exceed for a NOT_DERIVED verdict; between --alpha and it the verdict is INCONCLUSIVE (weak evidence); below --alpha it counts as --alpha")
	f.BoolVar(&o.failOnDerived, "fail-on-derived", false, "exit with status 3 when some teacher's verdict is DERIVED")
	f.BoolVar(&o.save, "save", false, "for a model: store its fingerprints and the audit record")
	f.BoolVar(&o.dryRun, "dry-run", false, "for a stored fingerprint: do not record the audit (open the database read-only); a model file is recorded only with --save, so it changes nothing there")
	f.StringVar(&o.name, "name", "", "for a model: the suspect's name and fingerprint ID (default: the model's base name)")
	f.Var(&o.format, "format", formatUsage)
	o.remote.bind(c)
	o.remote.bindAskAgain(c)
	o.remote.bindLabelMap(c)
	return c
}

func runAudit(ctx context.Context, c *cobra.Command, g *globalOptions, o *auditOptions, arg string) error {
	start := time.Now()
	if !(o.alpha > 0 && o.alpha <= maxAlpha) {
		return usageError{fmt.Errorf("--alpha %g: want a level in (0, %g] (a DERIVED verdict at level α accuses a fraction α of independent models)", o.alpha, maxAlpha)}
	}
	if !(o.clear > 0 && o.clear < 1) {
		return usageError{fmt.Errorf("--clear-above %g: want a p-value in (0, 1)", o.clear)}
	}
	if o.dryRun && o.save {
		return usageError{errors.New("--dry-run and --save contradict each other: --dry-run records nothing")}
	}
	var (
		cases  []*audit.Case
		stored *fingerprint.Fingerprint
	)
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		if tx.HasFingerprint(arg) {
			fp, err := tx.Fingerprint(arg)
			if err != nil {
				return suiteGone(err, func(rm string) string {
					return "audit its model instead, or remove the fingerprint with `" + rm + "`"
				})
			}
			if err := fileBesideFingerprint(arg, fp); err != nil {
				return err
			}
			stored = fp
		}
		against, err := againstNames(tx, o.against)
		if err != nil {
			return err
		}
		if cases, err = loadCases(tx, against); err != nil {
			return err
		}
		if err := currentCases(cases); err != nil || stored == nil {
			return err
		}
		if slices.ContainsFunc(cases, func(cs *audit.Case) bool { return cs.Suite.Hash == stored.Suite }) {
			return nil
		}
		// Nothing would be measured: an error, as for a model that fits
		// no teacher's suite, not a run of INCONCLUSIVE rows.
		return noTeacherOnSuite(tx, arg, stored.Suite)
	}); err != nil {
		return err
	}
	if stored != nil {
		// --name and --save are for a model; they were ignored.
		switch {
		case c.Flags().Changed("name"):
			return usageError{fmt.Errorf("--name %q: %q is a stored fingerprint, whose audit is recorded under its own ID (--name names the suspect of a model file or URL)", o.name, arg)}
		case o.save:
			return usageError{fmt.Errorf("--save: %q is a stored fingerprint, whose audit is recorded without it (--dry-run records nothing)", arg)}
		case !o.remote.labelMap.IsZero():
			return usageError{fmt.Errorf("--label-map: %q is a stored fingerprint, whose labels were read when it was taken (%s): --label-map reads a model file or URL", arg, labelsReadAs(stored))}
		}
	}
	var (
		res      audit.Result
		suspects []*fingerprint.Fingerprint
		dones    []func(*store.Tx) error
		err      error
	)
	if stored != nil {
		suspects = make([]*fingerprint.Fingerprint, len(cases))
		for i, cs := range cases {
			if stored.Suite == cs.Suite.Hash {
				suspects[i] = stored
			}
		}
		res, err = interruptible(ctx, func() (audit.Result, error) {
			return audit.AuditEachContext(ctx, cases, suspects, arg, nil, audit.Options{Alpha: o.alpha, Clear: o.clear})
		})
	} else {
		res, suspects, dones, err = auditModel(ctx, c.ErrOrStderr(), g, o, cases, arg)
	}
	if err != nil {
		return err
	}
	if stored != nil {
		o.remote.noteStored(arg)
	}
	if err := saveAudit(ctx, g, o, stored != nil, res, suspects, dones, time.Since(start)); err != nil {
		if stored != nil {
			if errors.Is(err, store.ErrReadOnly) {
				return fmt.Errorf("%w; pass --dry-run to audit it without recording the audit", err)
			}
			return err // a stored fingerprint: nothing was asked
		}
		return answersKept(err, arg)
	}
	if err := printAudit(c, o.format, res); err != nil {
		return err
	}
	if o.failOnDerived && res.AnyDerived() {
		return errDerived
	}
	return nil
}

// againstNames returns the teachers --against names: each value is an
// enrolled teacher's name, or else a comma-separated list of them, read
// as a CSV record (so `"x,y",z` names the teachers "x,y" and "z", and a
// teacher named x,y can also be given as it is).
func againstNames(tx *store.Tx, values []string) ([]string, error) {
	var names []string
	for _, v := range values {
		if v == "" {
			return nil, usageError{errors.New("--against: an empty teacher name")}
		}
		if _, err := tx.Enrolment(v); !errors.Is(err, store.ErrNotFound) {
			names = append(names, v) // loadCases reports a damaged one
			continue
		}
		r := csv.NewReader(strings.NewReader(v))
		r.TrimLeadingSpace = true
		recs, err := r.ReadAll()
		if err == nil && len(recs) != 1 {
			err = errors.New("want one line")
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, usageError{fmt.Errorf("--against %q: %w", v, err)}
		}
		for _, n := range recs[0] {
			if n == "" {
				return nil, usageError{fmt.Errorf("--against %q: an empty teacher name", v)}
			}
			names = append(names, n)
		}
	}
	return names, nil
}

// noTeacherOnSuite is the error for a stored fingerprint, id, taken on
// suite, which none of the teachers audited uses; it names the enrolments
// that do.
func noTeacherOnSuite(tx *store.Tx, id, suite string) error {
	es, err := tx.Enrolments()
	if err != nil {
		return err
	}
	var onSuite []string
	for _, e := range es {
		if e.Suite == suite {
			onSuite = append(onSuite, e.Name)
		}
	}
	hint := "no enrolled teacher uses that suite"
	if len(onSuite) > 0 {
		hint = "it can be audited against " + store.JoinNames(onSuite, ", ")
	}
	return fmt.Errorf("cannot audit %q: %w %.12s, which no teacher audited uses (%s)", id, audit.ErrSuite, suite, hint)
}

// auditModel fingerprints the model ref on every case's suite and audits
// it. A suite the model does not fit (other inputs or labels) makes that
// teacher INCONCLUSIVE, unless it fits none, which is an error.
//
// A remote model whose fingerprints will be saved (--save) is probed as
// `lineage probe` does, through a journal per suite (fingerprintJournaled),
// so an interrupted audit resumes without asking again; dones, one per
// fingerprint taken, drop the journals in the transaction that saves the
// fingerprints.
func auditModel(ctx context.Context, stderr io.Writer, g *globalOptions, o *auditOptions, cases []*audit.Case, ref string) (res audit.Result, suspects []*fingerprint.Fingerprint, dones []func(*store.Tx) error, err error) {
	r, err := remote.ParseRef(ref)
	if err != nil {
		return audit.Result{}, nil, nil, err
	}
	if r.Kind == remote.RefFile && !fileExists(r.Path) {
		return audit.Result{}, nil, nil, notFingerprintOrModel(ref)
	}
	name := o.name
	if name == "" {
		name = defaultFingerprintID(ref)
	}
	if err := store.CheckNewName("suspect", name); err != nil {
		return audit.Result{}, nil, nil, usageError{nameError(o.name, ref, err)}
	}
	ids := make([]string, len(cases))
	for i, cs := range cases {
		ids[i] = name
		if len(cases) > 1 {
			ids[i] = name + "@" + cs.Enrolment.Name
		}
		if len(ids[i]) > store.MaxNameBytes && o.saves(false) {
			return audit.Result{}, nil, nil, usageError{fmt.Errorf("--save: the fingerprint against %.60q would be stored as NAME@TEACHER, %d bytes, at most %d allowed: choose a shorter --name (this one is %d bytes)", cs.Enrolment.Name, len(ids[i]), store.MaxNameBytes, len(name))}
		}
	}
	useJournal := r.Kind != remote.RefFile && o.saves(false)
	if useJournal {
		// Its answers are journalled before it is asked anything, and
		// even its metadata is not read for a store that cannot be
		// written.
		if err := checkWritable(g); err != nil {
			return audit.Result{}, nil, nil, err
		}
	}
	m, closeM, err := o.remote.open(ctx, ref)
	if err != nil {
		return audit.Result{}, nil, nil, err
	}
	defer closeM()
	suspects = make([]*fingerprint.Fingerprint, len(cases))
	if o.saves(false) {
		// What --save will store, settled before the model is asked
		// anything (a remote model's answers are paid for).
		if err := viewDB(ctx, g, func(tx *store.Tx) error {
			if err := tx.CheckNameForm("suspect", name); err != nil {
				return nameError(o.name, ref, err)
			}
			return checkSaveNames(tx, ref, m.Info(), o.remote.reading(), name, cases, ids, suspects)
		}); err != nil {
			return audit.Result{}, nil, nil, err
		}
	}
	reasons := map[int]string{}
	mismatches := map[int]error{}
	kept := 0 // answers journalled for the suites done
	// A remote model's claims (fingerprintJournaled) are each held until
	// the fingerprints are stored: every run takes them in one order.
	order := claimOrder(len(cases), func(i int) string {
		if !useJournal {
			return "" // no claim: the teachers' order
		}
		return probeClaim(ref, cases[i].Suite.Hash, ids[i])
	})
	for _, i := range order {
		cs, id := cases[i], ids[i]
		if suspects[i] != nil {
			fmt.Fprintf(stderr, "lineage: fingerprint %q is already stored, taken from this model on %s's suite: it was not asked again\n", id, cs.Enrolment.Name)
			continue
		}
		var fp *fingerprint.Fingerprint
		done := noJournal
		if useJournal {
			fp, done, err = fingerprintJournaled(ctx, stderr, "audit", g, &o.remote, m, ref, cs.Suite, id, 0, kept)
			if errors.Is(err, errStoredMeanwhile) {
				if err := storedMeanwhile(ctx, g, o, m, ref, name, cases, ids, suspects, i); err != nil {
					return audit.Result{}, nil, nil, err
				}
				fmt.Fprintf(stderr, "lineage: fingerprint %q was stored meanwhile by the run this one waited for, taken from this model on %s's suite: it was not asked again\n", ids[i], cs.Enrolment.Name)
				continue
			}
			if err == nil {
				kept += cs.Suite.Len()
			}
		} else {
			fp, err = fingerprintOpened(ctx, &o.remote, m, ref, cs.Suite, id, 0)
		}
		switch {
		case errors.Is(err, fingerprint.ErrMismatch):
			reasons[i] = err.Error()
			mismatches[i] = err
		case err != nil:
			return audit.Result{}, nil, nil, err
		default:
			warnTaken(stderr, fp, ref, cs.Suite.Labels)
			suspects[i] = fp
			dones = append(dones, done)
		}
	}
	if len(reasons) == len(cases) {
		// Every teacher's reason, on one line: with several teachers the
		// last one alone would hide why the model fits none of the others.
		// They are in the teachers' order, not the claims'.
		// runAudit adds labelMapHint's advice once, at the end.
		errs := make([]error, len(cases))
		msgs := make([]string, len(cases))
		for i := range cases {
			errs[i], msgs[i] = mismatches[i], mismatches[i].Error()
		}
		return audit.Result{}, nil, nil, fmt.Errorf("cannot audit %q: %w", ref, joinedError{errs, strings.Join(msgs, "; ")})
	}
	res, err = interruptible(ctx, func() (audit.Result, error) {
		return audit.AuditEachContext(ctx, cases, suspects, name, reasons, audit.Options{Alpha: o.alpha, Clear: o.clear})
	})
	return res, suspects, dones, err
}

// storedMeanwhile settles, for auditModel, the fingerprint ids[i] that the
// run of the same job this one waited for stored meanwhile (with, in the
// same transaction, its fingerprints on the other suites and its
// audit record): the checks of --save before the model was asked
// (checkSaveNames) run again, and the fingerprints now stored of this
// model on the suites it has not taken yet (case i's and those after it
// in claim order, which need not be --against's) are used as they are, as
// a rerun uses them, instead of asking the model again. A fingerprint or record
// of another model is the error the rerun would give.
func storedMeanwhile(ctx context.Context, g *globalOptions, o *auditOptions, m remote.Model, ref, name string, cases []*audit.Case, ids []string, suspects []*fingerprint.Fingerprint, i int) error {
	now := make([]*fingerprint.Fingerprint, len(cases))
	nowIDs := slices.Clone(ids)
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		return checkSaveNames(tx, ref, m.Info(), o.remote.reading(), name, cases, nowIDs, now)
	}); err != nil {
		return err
	}
	if now[i] == nil {
		// Removed again since: a rerun takes it anew.
		return fmt.Errorf("fingerprint %q: %w and removed since; the same command again takes it", ids[i], errStoredMeanwhile)
	}
	for j := range cases {
		if suspects[j] == nil && now[j] != nil {
			suspects[j], ids[j] = now[j], nowIDs[j]
		}
	}
	return nil
}

// printAudit writes the audit result in format f: JSON as audit.Result
// marshals, else a verdict table and, per teacher, the statistics and the
// per-kind values.
func printAudit(c *cobra.Command, f report.Format, res audit.Result) error {
	if f == report.FormatJSON {
		return writeJSON(c.OutOrStdout(), res)
	}
	return report.RenderAll(c.OutOrStdout(), res.Tables(), f)
}

// joinedError wraps several errors with one message (errors.Join's has a
// line per error; lineage prints an error on one line).
type joinedError struct {
	errs []error
	msg  string
}

func (e joinedError) Error() string   { return e.msg }
func (e joinedError) Unwrap() []error { return e.errs }
